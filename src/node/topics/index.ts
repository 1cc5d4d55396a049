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
 * message of the kinds each topic carries).
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

export function defaultRegistry(): TopicRegistry {
  const registry = new TopicRegistry();
  registry.register(presenceTopic);
  for (const t of SPRINT_TOPICS) registry.register(t);
  // Split-inference volunteers announce what they serve (split-volunteer.ts); users list them.
  registry.register(splitVolunteerTopic);
  return registry;
}
