/**
 * The relay's per-genesis Sprint topics (genesis-topics.ts) with real libp2p nodes on loopback: it
 * takes on a genesis when a peer subscribes to one of its topics, at most `maxGeneses` besides its
 * own, ignores names that only look like one, validates them with the base topics' size limits,
 * and frees a slot (taking on a refused genesis) when no peer uses a genesis any more; and that one
 * peer subscribing to many made-up geneses holds one slot at most, and cannot make the relay forget a
 * refused genesis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicName } from './config.ts';
import type { SprintnetNode } from './node.ts';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { testNode, waitFor } from './test-helpers.ts';
import { sprintTopic, sprintTopicSpecs } from './topics/index.ts';
import type { RejectReason } from './validator.ts';

const NET = 'sprintnet-genesis-topics';
const OWN = 'ab'.repeat(8);
const [G1, G2, G3] = ['01', '02', '03'].map((b) => b.repeat(8)) as [string, string, string];
const wire = (name: string) => topicName(NET, name);
/** Geneses as a set: the relay lists them in the order their subscriptions arrived, which races. */
const sorted = (ids: readonly string[]): string[] => [...ids].sort();

let relay: RunningRelay;
let peer: SprintnetNode;

beforeAll(async () => {
  // One peer plays every genesis's subscribers here, so its own limit is lifted above the cap.
  relay = await startRelay({ port: 0, genesisId: OWN, maxGeneses: 2, maxGenesesPerPeer: 3, config: { networkId: NET } });
  peer = await testNode(90, 'host', { networkId: NET, relays: [relay.multiaddr], webrtcUpgrade: false, presenceIntervalMs: 60_000 });
  await waitFor(() => peer.relayState === 'connected', 15_000, 'relay connection');
});

afterAll(async () => {
  await peer?.stop();
  await relay?.stop();
});

const relaySubscribed = (name: string) => relay.node.pubsub.getTopics().includes(wire(name));
const relaySees = (name: string) => relay.node.pubsub.getSubscribers(wire(name)).some((p) => p.toString() === peer.peerId);

describe('a relay’s per-genesis Sprint topics', () => {
  it('serves its own genesis from the start, whoever subscribes', () => {
    expect(relay.geneses.geneses()).toEqual([OWN]);
    for (const t of sprintTopicSpecs(OWN)) expect(relaySubscribed(t.name)).toBe(true);
  });

  it('ignores topics that only look like a genesis’s, or are of another network', async () => {
    const lookalikes = [
      wire('sprint-seed-0101'), // too short
      wire(`sprint-seed-${'AB'.repeat(8)}`), // upper case
      wire(`sprint-seeds-${G1}`), // no such base topic
      wire(`sprint-sync-${G1}`), // a request/response name
      topicName('another-network', sprintTopic('sprint-seed', G1)),
      `/sprintnet/${NET}/sprint-seed-${G1}/2`,
    ];
    for (const t of lookalikes) peer.pubsub.subscribe(t);
    await waitFor(() => lookalikes.every((t) => relay.node.pubsub.getSubscribers(t).length === 1), 10_000, 'the relay sees the subscriptions');
    for (const t of lookalikes) expect(relay.node.pubsub.getTopics()).not.toContain(t);
    expect(relay.geneses.geneses()).toEqual([OWN]);
    for (const t of lookalikes) peer.pubsub.unsubscribe(t);
  });

  it('takes on geneses its peers subscribe to, up to the cap, and refuses more', async () => {
    peer.addTopics(sprintTopicSpecs(G1));
    await waitFor(() => relay.geneses.geneses().length === 2, 10_000, 'G1');
    peer.addTopics(sprintTopicSpecs(G2));
    await waitFor(() => relay.geneses.geneses().length === 3, 10_000, 'G2');
    peer.addTopics(sprintTopicSpecs(G3));
    await waitFor(() => relaySees(sprintTopic('sprint-seed', G3)), 10_000, 'the G3 subscription');
    await waitFor(() => relay.geneses.refused === 1, 10_000, 'the refusal');
    expect(sorted(relay.geneses.geneses())).toEqual(sorted([OWN, G1, G2]));
    for (const t of sprintTopicSpecs(G2)) expect(relaySubscribed(t.name)).toBe(true);
    for (const t of sprintTopicSpecs(G3)) {
      expect(relaySubscribed(t.name)).toBe(false);
      expect(relay.node.registry.get(t.name)).toBeUndefined();
    }
  });

  it('validates a taken-on genesis’s topics with the base topics’ size limits', async () => {
    const rejected: RejectReason[] = [];
    relay.node.addEventListener('rejected', (e) => {
      const d = (e as CustomEvent<{ topic: string; reason: RejectReason }>).detail;
      if (d.topic === sprintTopic('sprint-seed', G1)) rejected.push(d.reason);
    });
    await waitFor(() => relay.node.meshPeers(sprintTopic('sprint-seed', G1)).includes(peer.peerId), 10_000, 'mesh');
    // 146 bytes: one more than sprint-seed's 145, which the envelope and the sender's publish() would refuse.
    await peer.publishRaw(sprintTopic('sprint-seed', G1), peer.sealEnvelope(sprintTopic('sprint-seed', G1), new Uint8Array(146)));
    await waitFor(() => rejected.length > 0, 10_000, 'the rejection');
    expect(rejected).toEqual(['oversize']);
  });

  it('drops a genesis nobody subscribes to any more and takes on the refused one', async () => {
    peer.removeTopics(sprintTopicSpecs(G1).map((t) => t.name));
    await waitFor(() => !relaySees(sprintTopic('sprint-seed', G1)), 10_000, 'the unsubscription');
    relay.geneses.sweep();
    expect(sorted(relay.geneses.geneses())).toEqual(sorted([OWN, G2, G3]));
    for (const t of sprintTopicSpecs(G1)) expect(relaySubscribed(t.name)).toBe(false);
    for (const t of sprintTopicSpecs(G3)) expect(relaySubscribed(t.name)).toBe(true);
    // The pinned genesis stays, though no peer subscribes to it.
    expect(relaySees(sprintTopic('sprint-seed', OWN))).toBe(false);
    for (const t of sprintTopicSpecs(OWN)) expect(relaySubscribed(t.name)).toBe(true);
  });
});

describe('a relay’s per-genesis Sprint topics against a peer subscribing to made-up geneses', () => {
  const NET2 = 'sprintnet-genesis-topics-flood';
  const wire2 = (id: string) => topicName(NET2, sprintTopic('sprint-seed', id));
  const fake = (i: number) => (0xf000 + i).toString(16).padStart(16, '0');
  const [GB, GD, L] = ['0b', '0d', '1e'].map((b) => b.repeat(8)) as [string, string, string];
  let r: RunningRelay;
  let attacker: SprintnetNode, b: SprintnetNode, c: SprintnetNode, d: SprintnetNode;
  const sees = (node: SprintnetNode, id: string) => r.node.pubsub.getSubscribers(wire2(id)).some((p) => p.toString() === node.peerId);

  beforeAll(async () => {
    r = await startRelay({ port: 0, genesisId: OWN, maxGeneses: 2, config: { networkId: NET2 } });
    const peerOf = (seed: number) => testNode(seed, 'host', { networkId: NET2, relays: [r.multiaddr], webrtcUpgrade: false, presenceIntervalMs: 60_000 });
    [attacker, b, c, d] = await Promise.all([peerOf(91), peerOf(92), peerOf(93), peerOf(94)]);
    await waitFor(() => [attacker, b, c, d].every((n) => n.relayState === 'connected'), 15_000, 'relay connections');
  });

  afterAll(async () => {
    await Promise.all([attacker, b, c, d].map((n) => n?.stop()));
    await r?.stop();
  });

  it('lets one peer’s subscriptions take on at most the per-peer limit', async () => {
    const fakes = Array.from({ length: 8 }, (_, i) => fake(i));
    for (const id of fakes) attacker.pubsub.subscribe(wire2(id));
    await waitFor(() => fakes.every((id) => sees(attacker, id)), 10_000, 'the subscriptions');
    r.geneses.sweep();
    const taken = r.geneses.geneses().filter((id) => id !== OWN);
    expect(taken).toHaveLength(1); // MAX_GENESES_PER_PEER
    expect(fakes).toContain(taken[0]);
    expect(r.geneses.holderOf(taken[0]!)).toBe(attacker.peerId);
    for (const id of fakes) attacker.pubsub.unsubscribe(wire2(id));
    await waitFor(() => fakes.every((id) => !sees(attacker, id)), 10_000, 'the unsubscriptions');
    r.geneses.sweep();
    expect(sorted(r.geneses.geneses())).toEqual(sorted([OWN]));
  });

  it('takes on a genesis refused while full once a slot frees, without its peer re-subscribing', async () => {
    b.pubsub.subscribe(wire2(GB));
    d.pubsub.subscribe(wire2(GD));
    await waitFor(() => r.geneses.geneses().length === 3, 10_000, 'GB and GD');
    expect(sorted(r.geneses.geneses())).toEqual(sorted([OWN, GB, GD]));
    const refused = r.geneses.refused;
    c.pubsub.subscribe(wire2(L));
    await waitFor(() => sees(c, L) && r.geneses.refused === refused + 1, 10_000, 'the refusal of L');
    // Then a flood of made-up geneses, more than any bounded list of refused ones would hold.
    const fakes = Array.from({ length: 20 }, (_, i) => fake(100 + i));
    for (const id of fakes) attacker.pubsub.subscribe(wire2(id));
    await waitFor(() => fakes.every((id) => sees(attacker, id)), 10_000, 'the flood');
    r.geneses.sweep();
    expect(sorted(r.geneses.geneses())).toEqual(sorted([OWN, GB, GD]));
    // B leaves GB: its slot goes to L, subscribed once, before the flood; not to a made-up genesis.
    b.pubsub.unsubscribe(wire2(GB));
    await waitFor(() => !sees(b, GB), 10_000, 'the unsubscription');
    r.geneses.sweep();
    expect(sorted(r.geneses.geneses())).toEqual(sorted([OWN, GD, L]));
    expect(r.geneses.holderOf(L)).toBe(c.peerId);
    expect(r.node.pubsub.getTopics()).toContain(wire2(L));
    for (const id of fakes) expect(r.node.pubsub.getTopics()).not.toContain(wire2(id));
  });

  it('passes a genesis whose holder left to another of its subscribers', async () => {
    b.pubsub.subscribe(wire2(L));
    await waitFor(() => sees(b, L), 10_000, 'B’s subscription to L');
    await c.stop();
    await waitFor(() => !sees(c, L), 10_000, 'C gone');
    r.geneses.sweep();
    expect(sorted(r.geneses.geneses())).toEqual(sorted([OWN, GD, L]));
    expect(r.geneses.holderOf(L)).toBe(b.peerId);
  });
});
