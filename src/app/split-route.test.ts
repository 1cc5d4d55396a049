/**
 * planRoute against a stand-in node: announcements arrive as gossip, calls go straight to in-process
 * volunteers (a peer not connected and with no relay cannot be reached), and the Worker is the
 * in-process test model.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { PeerGoneError } from '../node/errors.ts';
import type { GossipMessage, SprintnetNode } from '../node/node.ts';
import { SPLIT_VOLUNTEER_TOPIC, type VolunteerAnnouncement } from '../split/announce.ts';
import { decodeRequest } from '../split/codec.ts';
import { isSplitError } from '../split/errors.ts';
import { seedSigner } from '../split/local.ts';
import type { LedgerStanding } from '../split/router-rank.ts';
import { NETWORK, testRig, type TestRig } from '../split/test-support.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { planRoute, volunteerDirectory, type RoutePlanOptions } from './split-route.ts';
import { fakeWorker } from './split-test-support.ts';

let rig: TestRig;
const peers: Record<'user' | 'a' | 'b' | 'c' | 'other', { peerId: string; key: string; seed: Uint8Array }> = {} as never;
beforeAll(async () => {
  rig = await testRig();
  const seeds = { user: 80, a: 81, b: 82, c: 83, other: 84 } as const;
  for (const [name, n] of Object.entries(seeds)) {
    const seed = new Uint8Array(32).fill(n);
    const id = await identityFromEd25519Seed(seed);
    peers[name as keyof typeof peers] = { peerId: id.peerId, key: bytesToHex(id.publicKey), seed };
  }
});

/** The parts of SprintnetNode planRoute touches. `reachable` peers are connected; others cannot be dialled (no relay). */
function stubNode(reachable: readonly string[]) {
  const listeners: Array<(m: GossipMessage) => void> = [];
  const servers = new Map<string, SplitVolunteer<never>>();
  const calls: Array<{ peerId: string; kind: string }> = [];
  const userKey = seedSigner(peers.user.seed).publicKey;
  const node = {
    peerId: peers.user.peerId,
    config: { presenceIntervalMs: 5_000 },
    onGossip<T>(name: string, l: (m: GossipMessage<T>) => void) {
      listeners.push((m) => m.topic === name && l(m as GossipMessage<T>));
      return () => undefined;
    },
    publish: async () => undefined,
    libp2p: { getConnections: () => reachable.map((p) => ({ remotePeer: { toString: () => p } })), dial: async () => undefined },
    async request(peerId: string, _name: string, payload: Uint8Array) {
      const v = servers.get(peerId);
      if (!v) throw new PeerGoneError(`${peerId} is gone`);
      calls.push({ peerId, kind: decodeRequest(payload).kind });
      return v.handle(payload, userKey);
    },
  };
  return {
    node: node as unknown as SprintnetNode,
    calls,
    serve(name: keyof typeof peers) {
      const p = peers[name];
      servers.set(
        p.peerId,
        new SplitVolunteer({
          model: rig.model,
          lowestK: 1,
          modelHash: rig.hash,
          normWeight: rig.norm,
          signer: seedSigner(p.seed),
          networkId: NETWORK,
        }) as never,
      );
    },
    announce(name: keyof typeof peers, a: Partial<VolunteerAnnouncement> = {}) {
      const value: VolunteerAnnouncement = { modelHash: rig.hash, lowestK: 1, highestK: 7, numLayers: 8, decodeTokensPerSecond: 0, label: name, ...a };
      for (const l of listeners) l({ topic: SPLIT_VOLUNTEER_TOPIC, from: peers[name].peerId, value, timestampMs: 0, sprint: 0, id: '' });
    },
  };
}

const ledger = (rows: Partial<Record<keyof typeof peers, Partial<LedgerStanding>>>) => (key: string) => {
  const name = (Object.keys(peers) as Array<keyof typeof peers>).find((n) => peers[n].key === key);
  const row = name ? rows[name] : undefined;
  return row ? { weight: 0, votingWeight: 0, reputation: 0, flags: [], ...row } : undefined;
};

function options(node: SprintnetNode, o: Partial<RoutePlanOptions>): RoutePlanOptions {
  return {
    worker: fakeWorker(rig),
    node,
    relays: [],
    privacy: 'allow-split',
    k: 4,
    mode: 'auto',
    targetTokensPerSecond: 10,
    chosenPeerId: '',
    standing: ledger({}),
    ...o,
  };
}

describe('planRoute', () => {
  it('runs the whole model here when this device is fast enough: nothing probed, nothing sent', async () => {
    const s = stubNode([]);
    const plan = await planRoute(options(s.node, { targetTokensPerSecond: 0.001 }));
    expect(plan).toMatchObject({ route: 'local', ranked: [], order: [] });
    expect(plan.localTokensPerSecond).toBeGreaterThan(0.001);
    expect(plan.reason).toContain(`${plan.localTokensPerSecond!.toFixed(1)} tok/s`);
    expect(s.calls).toEqual([]);
    // "On this device only": the model is not even read (this Worker would fail if it were).
    const untouchable = { ...fakeWorker(rig), splitModelFacts: () => Promise.reject(new Error('read the model')) };
    expect(await planRoute(options(s.node, { worker: untouchable, privacy: 'device-only' }))).toMatchObject({ route: 'local', localTokensPerSecond: null });
    expect(await planRoute(options(s.node, { worker: untouchable })).catch((e: Error) => e.message)).toBe('read the model');
  });

  it('too slow here: probes the listed volunteers of this model and k, ranks them, and drops the unreachable from the failover order', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId]);
    volunteerListening(s);
    for (const n of ['a', 'b', 'c'] as const) s.serve(n);
    s.announce('a');
    s.announce('b');
    s.announce('c'); // announces, but cannot be reached
    s.announce('other', { modelHash: new Uint8Array(32).fill(9) }); // another model: never probed
    const plan = await planRoute(options(s.node, { targetTokensPerSecond: 1e9, standing: ledger({ b: { weight: 5 }, c: { weight: 50, reputation: 3 } }) }));
    expect(plan.ranked.map((r) => [r.peerId, r.tier])).toEqual([
      [peers.b.peerId, 'weighted'],
      [peers.a.peerId, 'unweighted'],
      [peers.c.peerId, 'unreachable'],
    ]);
    expect(plan.ranked[2]!.problem).toMatch(/unreachable/);
    expect(plan.order).toEqual([peers.b.peerId, peers.a.peerId]);
    // Each reachable one got a throwaway session: open, a prefill, 2 decode steps, close.
    for (const p of [peers.a.peerId, peers.b.peerId])
      expect(s.calls.filter((c) => c.peerId === p).map((c) => c.kind)).toEqual(['open', 'step', 'step', 'step', 'close']);
    expect(s.calls.some((c) => c.peerId === peers.c.peerId || c.peerId === peers.other.peerId)).toBe(false);
    // The decision follows the measurements: split exactly when the chosen volunteer's expected rate beats this device.
    const best = plan.ranked[0]!.expectedTokensPerSecond!;
    expect(plan.route).toBe(best > plan.localTokensPerSecond! ? 'split' : 'local');
  });

  it('always split with the user’s pick: the pick first and unprobed, the rest of the list by ledger as failovers', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId]);
    volunteerListening(s);
    s.serve('a');
    s.serve('b');
    s.announce('a');
    s.announce('c');
    const plan = await planRoute(
      options(s.node, { mode: 'split', chosenPeerId: ` ${peers.b.peerId} `, standing: ledger({ a: { weight: 1 }, c: { weight: 2, flags: ['fraud'] } }) }),
    );
    expect(plan).toMatchObject({ route: 'split', manual: true, order: [peers.b.peerId, peers.a.peerId, peers.c.peerId] });
    expect(plan.reason).toMatch(/always split \(your setting\): your pick/);
    expect(s.calls).toEqual([]); // a pick that will be used anyway is not probed, nor is anyone else
  });

  it('refuses with typed errors: no volunteer for this model, a bad pick, a bad target', async () => {
    const s = stubNode([]);
    volunteerListening(s);
    s.announce('a', { lowestK: 5 }); // does not accept k = 4
    const refused = async (o: Partial<RoutePlanOptions>) =>
      planRoute(options(s.node, o)).then(
        () => null,
        (e: unknown) => e,
      );
    const none = await refused({ targetTokensPerSecond: 1e9 });
    expect(isSplitError(none, 'NO_VOLUNTEER')).toBe(true);
    expect(isSplitError(await refused({ chosenPeerId: 'not a peer id' }), 'BAD_ARGUMENT')).toBe(true);
    expect(isSplitError(await refused({ targetTokensPerSecond: 0 }), 'BAD_ARGUMENT')).toBe(true);
  });
});

/** The directory listens from its first use; announcements before that are not heard (as on a page that just opened the list). */
function volunteerListening(s: ReturnType<typeof stubNode>): void {
  volunteerDirectory(s.node);
}
