/**
 * The one list of gossip topics every role registers. Relays validate and forward only topics they
 * know, so the Sprint/inference protocol adds its topics here (not in a browser-only place).
 */
import { TopicRegistry, type TopicSpec } from '../registry.ts';
import { presenceTopic } from './presence.ts';
import { splitVolunteerTopic } from './split-volunteer.ts';

/**
 * Sprint protocol topics (docs/protocol.md §5): each payload is one signed protocol message, which
 * src/protocol decodes and checks; here they are opaque bytes with a size limit (the largest
 * message of the kinds each topic carries). These are the base names: on the wire each is per
 * genesis (`sprintTopic`), so they are never registered as they are.
 */
const opaque = { encode: (v: Uint8Array) => v, decode: (b: Uint8Array) => b };
export const SPRINT_TOPICS: readonly TopicSpec<Uint8Array>[] = [
  { name: 'sprint-seed', codec: opaque, maxPayloadBytes: 145 },
  { name: 'sprint-proof', codec: opaque, maxPayloadBytes: 189 },
  { name: 'sprint-validation', codec: opaque, maxPayloadBytes: 71_075 },
  { name: 'sprint-vote', codec: opaque, maxPayloadBytes: 145 },
  // Split-inference proofs (src/protocol messages.ts MAX_MESSAGE_BYTES.inference); verdicts ride sprint-validation.
  { name: 'inference-proof', codec: opaque, maxPayloadBytes: 65_653 },
];

/** The largest payload of any Sprint topic (gossipsub's inbound frame limit must admit it). */
export const MAX_SPRINT_PAYLOAD_BYTES = Math.max(...SPRINT_TOPICS.map((t) => t.maxPayloadBytes));

/** A genesis id as topic names carry it: `genesisId(g)` of src/protocol/genesis.ts, 16 lowercase hex digits. */
const GENESIS_ID = '[0-9a-f]{16}';
export const GENESIS_ID_PATTERN = new RegExp(`^${GENESIS_ID}$`);

const SPRINT_TOPIC_PATTERN = new RegExp(`^(${SPRINT_TOPICS.map((t) => t.name).join('|')})-(${GENESIS_ID})$`);

/**
 * The registered (short) name of Sprint topic `base` of one genesis: `<base>-<genesis id>`, e.g.
 * `sprint-proof-0123456789abcdef`, so the wire topic is `/sprintnet/<networkId>/sprint-proof-<genesis id>/1`.
 * The one place that maps a protocol topic to its name; `parseSprintTopic` is its inverse.
 */
export function sprintTopic(base: string, genesisId: string): string {
  if (!SPRINT_TOPICS.some((t) => t.name === base)) throw new RangeError(`'${base}' is not a Sprint topic`);
  if (!GENESIS_ID_PATTERN.test(genesisId)) throw new RangeError(`'${genesisId}' is not a genesis id (16 lowercase hex digits)`);
  return `${base}-${genesisId}`;
}

/** The base topic and genesis id of a per-genesis Sprint topic name, or null for any other name. */
export function parseSprintTopic(name: string): { base: string; genesisId: string } | null {
  const m = SPRINT_TOPIC_PATTERN.exec(name);
  return m ? { base: m[1]!, genesisId: m[2]! } : null;
}

/** The Sprint topics of one genesis, with the base topics' codecs and size limits. */
export function sprintTopicSpecs(genesisId: string): TopicSpec<Uint8Array>[] {
  return SPRINT_TOPICS.map((t) => ({ ...t, name: sprintTopic(t.name, genesisId) }));
}

/**
 * The topics every role registers at start: presence and split-volunteer announcements, which are
 * per network (discovery is). A genesis's Sprint topics are added when a transport of that genesis
 * is made (src/app/transport.ts) or, on a relay, when a peer subscribes to them (genesis-topics.ts).
 */
export function defaultRegistry(): TopicRegistry {
  const registry = new TopicRegistry();
  registry.register(presenceTopic);
  // Split-inference volunteers announce what they serve (split-volunteer.ts); users list them.
  registry.register(splitVolunteerTopic);
  return registry;
}
