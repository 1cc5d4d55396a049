/**
 * The relay's per-genesis Sprint topics (genesis-topics.ts) with real libp2p nodes on loopback: it
 * takes on a genesis when a peer subscribes to one of its topics, at most `maxGeneses` besides its
 * own, ignores names that only look like one, validates them with the base topics' size limits,
 * and frees a slot (taking on a refused genesis) when no peer uses a genesis any more.
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

let relay: RunningRelay;
let peer: SprintnetNode;

beforeAll(async () => {
  relay = await startRelay({ port: 0, genesisId: OWN, maxGeneses: 2, config: { networkId: NET } });
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
    expect(relay.geneses.geneses()).toEqual([OWN, G1, G2]);
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
    expect(relay.geneses.geneses()).toEqual([OWN, G2, G3]);
    for (const t of sprintTopicSpecs(G1)) expect(relaySubscribed(t.name)).toBe(false);
    for (const t of sprintTopicSpecs(G3)) expect(relaySubscribed(t.name)).toBe(true);
    // The pinned genesis stays, though no peer subscribes to it.
    expect(relaySees(sprintTopic('sprint-seed', OWN))).toBe(false);
    for (const t of sprintTopicSpecs(OWN)) expect(relaySubscribed(t.name)).toBe(true);
  });
});
