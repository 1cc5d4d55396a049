/**
 * gossipsub peer scoring as configured in scores.ts, on loopback, where every peer shares one IP
 * (127.0.0.1), as every peer reached through a relay shares the relay's IP.
 *
 * R is configured with a relay on 127.0.0.1, so that IP is exempt from the colocation penalty (P6);
 * R2 has no relay and is the control that shows P6 is live. Ten honest hosts and one misbehaving
 * one connect to both: with the relay, R has 12 gossip peers, gossipsub's Dhi, so its mesh is never
 * trimmed at random and a peer leaves it only for its score. Our own disconnect threshold is set out
 * of reach, so everything seen here is gossipsub's doing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { GOSSIP_SCORE_THRESHOLDS, IP_COLOCATION_THRESHOLD } from './scores.ts';
import { LOOPBACK_WS, testNode, waitFor } from './test-helpers.ts';
import type { SprintnetNode } from './node.ts';

const HONEST = 10;
// No presence timer to speak of: 14 nodes validating each other's presence every 500 ms saturate two
// shared cores. The test publishes what it needs when it needs it.
const NO_DISCONNECT = { scoreDisconnectThreshold: -1e9, webrtcUpgrade: false, presenceIntervalMs: 600_000 };
const PRESENCE = '/sprintnet/sprintnet-local/presence/1';

let relay: RunningRelay;
let r: SprintnetNode, r2: SprintnetNode, bad: SprintnetNode;
let honest: SprintnetNode[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

const wsAddr = (n: SprintnetNode) => multiaddr(n.multiaddrs().find((m) => m.includes('/ws/'))!);

/** Dials `to` from `from`, retrying: on two busy shared cores a noise handshake can time out. */
async function connect(from: SprintnetNode, to: SprintnetNode): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await from.libp2p.dial(wsAddr(to));
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

beforeAll(async () => {
  relay = await startRelay({ port: await freePort(), seed: new Uint8Array(32).fill(60) });
  [r, r2] = await Promise.all([
    testNode(61, 'host', { ...NO_DISCONNECT, relays: [relay.multiaddr], listen: [LOOPBACK_WS] }),
    testNode(62, 'host', { ...NO_DISCONNECT, listen: [LOOPBACK_WS] }),
  ]);
  // The misbehaving peer joins first, so it is in R's mesh before anyone else competes for a slot.
  bad = await testNode(63, 'host', NO_DISCONNECT);
  await Promise.all([connect(bad, r), connect(bad, r2)]);
  await waitFor(() => r.meshPeers('presence').includes(bad.peerId), 10_000, 'bad peer in the mesh');
  honest = await Promise.all(Array.from({ length: HONEST }, (_, i) => testNode(64 + i, 'host', NO_DISCONNECT)));
  // libp2p refuses more than 5 inbound connections per second from one host: join at 4 per second.
  for (const h of honest) {
    await Promise.all([connect(h, r), connect(h, r2), new Promise((ok) => setTimeout(ok, 250))]);
  }
  const subscribed = (n: SprintnetNode) => new Set(n.pubsub.getSubscribers(PRESENCE).map(String));
  await waitFor(() => [r, r2].every((n) => [bad, ...honest].every((h) => subscribed(n).has(h.peerId))), 20_000, 'every peer subscribed');
}, 120_000);

afterAll(async () => {
  await Promise.all([r, r2, bad, ...honest, relay].map((n) => n?.stop()));
});

describe('gossipsub peer scoring', () => {
  it("exempts the relay's IP from P6; without the exemption the same honest peers are penalised", async () => {
    expect(r.ipColocationWhitelist()).toContain('127.0.0.1');
    expect(r2.ipColocationWhitelist()).toEqual([]);
    // R2 sees 11 peers on 127.0.0.1 (10 honest + 1 bad): 1 over the threshold, 1² × −1 each.
    const surplus = HONEST + 1 - IP_COLOCATION_THRESHOLD;
    await waitFor(() => honest.every((h) => r2.gossipScore(h.peerId) === -(surplus * surplus)), 5_000, 'P6 at R2');
    for (const h of honest) expect(r.gossipScore(h.peerId)).toBe(0);
  });

  it('prunes and graylists a peer that sends invalid messages, and keeps the honest peers on its IP', async () => {
    await waitFor(() => r.meshPeers('presence').includes(bad.peerId), 5_000, 'bad peer still in the mesh');
    for (let i = 0; i < 3; i++) await bad.publishRaw('presence', Uint8Array.of(1, 2, 3, i));
    // 3 invalid messages: P4 = 3² × −10 = −90, P5 (our own score) = 3 × −10 = −30.
    await waitFor(() => r.gossipScore(bad.peerId) < GOSSIP_SCORE_THRESHOLDS.graylistThreshold, 10_000, 'graylisted');
    expect(r.gossipScore(bad.peerId)).toBeLessThan(-110);
    expect(r.scores.score(bad.peerId)).toBeCloseTo(-30, 0);
    await waitFor(() => !r.meshPeers('presence').includes(bad.peerId), 5_000, 'pruned at the next heartbeat');

    // gossipsub reads up to 128 RPCs for 1 s from a peer whose score was ≥ 0 at its last check,
    // without looking again: the graylist bites after that.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // Graylisted: a valid presence the peer now sends R is dropped unread; the honest peers' arrive.
    const direct = new Set<string>();
    const onMessage = (e: CustomEvent<{ propagationSource: { toString(): string } }>) => direct.add(e.detail.propagationSource.toString());
    const heard = new Set<string>();
    const off = r.onGossip('presence', (m) => heard.add(m.from));
    r.pubsub.addEventListener('gossipsub:message', onMessage);
    const announce = (n: SprintnetNode) => n.publish('presence', { role: 'host', label: 'again', multiaddrs: [] });
    await announce(bad);
    for (const h of honest) await announce(h);
    await waitFor(() => honest.every((h) => heard.has(h.peerId)), 10_000, 'the honest presences');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    r.pubsub.removeEventListener('gossipsub:message', onMessage);
    off();
    expect(direct.has(bad.peerId)).toBe(false);
    expect(heard.has(bad.peerId)).toBe(false);
    for (const h of honest) expect(r.gossipScore(h.peerId)).toBe(0);
    expect(r.meshPeers('presence').length).toBeGreaterThanOrEqual(4);
    expect(r.meshPeers('presence').every((p) => honest.some((h) => h.peerId === p) || p === relay.node.peerId)).toBe(true);
    // The bad peer is still connected (our own threshold is out of reach here): gossipsub alone did this.
    expect(r.connections().some((c) => c.peerId === bad.peerId)).toBe(true);
  });
});
