/**
 * planRoute against a stand-in node: announcements arrive as gossip, calls go straight to in-process
 * volunteers (a peer not connected and with no relay cannot be reached), and the Worker is the
 * in-process test model.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { PeerGoneError } from '../node/errors.ts';
import type { GossipMessage, SprintnetNode } from '../node/node.ts';
import { NO_ANNOUNCED_GENESIS, SPLIT_VOLUNTEER_TOPIC, type VolunteerAnnouncement } from '../split/announce.ts';
import { decodeRequest } from '../split/codec.ts';
import { isSplitError } from '../split/errors.ts';
import { seedSigner } from '../split/local.ts';
import { PING_RPC_NAME, PingServer } from '../split/ping.ts';
import { OTHER_GENESIS_PROBLEM, type LedgerStanding } from '../split/router-rank.ts';
import { genesisHash, makeGenesis } from '../protocol/genesis.ts';
import { NETWORK, testRig, type TestRig } from '../split/test-support.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import {
  backgroundRanking,
  keepRankingFresh,
  planRoute,
  RANKING_FRESH_MS,
  stopRankingRefresh,
  volunteerDirectory,
  FAILED_PING_FRESH_MS,
  inferenceScores,
  refreshRanking,
  type RoutePlanOptions,
} from './split-route.ts';
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
  const pingServers = new Map<string, PingServer>();
  const calls: Array<{ peerId: string; kind: string }> = [];
  const userKey = seedSigner(peers.user.seed).publicKey;
  const node = {
    peerId: peers.user.peerId,
    config: { presenceIntervalMs: 5_000, networkId: NETWORK },
    onGossip<T>(name: string, l: (m: GossipMessage<T>) => void) {
      listeners.push((m) => m.topic === name && l(m as GossipMessage<T>));
      return () => undefined;
    },
    publish: async () => undefined,
    libp2p: { getConnections: () => reachable.map((p) => ({ remotePeer: { toString: () => p } })), dial: async () => undefined },
    async request(peerId: string, name: string, payload: Uint8Array) {
      const v = servers.get(peerId);
      if (!v) throw new PeerGoneError(`${peerId} is gone`);
      if (name === PING_RPC_NAME) {
        calls.push({ peerId, kind: 'ping' });
        return pingServers.get(peerId)!.handle(payload, userKey);
      }
      calls.push({ peerId, kind: decodeRequest(payload).kind });
      return v.handle(payload, userKey);
    },
  };
  return {
    node: node as unknown as SprintnetNode,
    calls,
    /** A volunteer that answers sessions and pings; `stepMs` is the step time it measured for k = 4, `load` its sessions. */
    serve(name: keyof typeof peers, o: { stepMs?: number; openSessions?: number } = {}) {
      const p = peers[name];
      const v = new SplitVolunteer({
        model: rig.model,
        lowestK: 1,
        modelHash: rig.hash,
        normWeight: rig.norm,
        signer: seedSigner(p.seed),
        networkId: NETWORK,
      });
      servers.set(p.peerId, v as never);
      pingServers.set(
        p.peerId,
        new PingServer({
          signer: seedSigner(p.seed),
          networkId: NETWORK,
          modelHash: rig.hash,
          lowestK: 1,
          highestK: 7,
          load: () => ({ openSessions: o.openSessions ?? v.openSessions, sessionLimit: 16 }),
          stepMs: () => o.stepMs ?? 5,
          burst: 100,
        }),
      );
    },
    announce(name: keyof typeof peers, a: Partial<VolunteerAnnouncement> = {}) {
      const value: VolunteerAnnouncement = {
        modelHash: rig.hash,
        genesis: NO_ANNOUNCED_GENESIS,
        lowestK: 1,
        highestK: 7,
        numLayers: 8,
        decodeTokensPerSecond: 0,
        label: name,
        ...a,
      };
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
  it('runs the whole model here when this device is fast enough: nothing pinged, nothing sent', async () => {
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

  it('too slow here: pings the listed volunteers of this model and k (no session), ranks them, and drops the unreachable and the full from the failover order', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId, peers.other.peerId]);
    volunteerListening(s);
    s.serve('a', { stepMs: 4 });
    s.serve('b', { stepMs: 400 });
    s.serve('c');
    s.serve('other', { openSessions: 16 }); // all its sessions taken
    s.announce('a');
    s.announce('b');
    s.announce('c'); // announces, but cannot be reached
    s.announce('other');
    const plan = await planRoute(options(s.node, { targetTokensPerSecond: 1e9, standing: ledger({ c: { weight: 50, reputation: 3 } }) }));
    expect(plan.ranked.map((r) => [r.peerId, r.tier])).toEqual([
      [peers.a.peerId, 'unweighted'], // the lower step estimate: round trip + its 4 ms
      [peers.b.peerId, 'unweighted'],
      [peers.c.peerId, 'unreachable'],
      [peers.other.peerId, 'unreachable'],
    ]);
    expect(plan.ranked[2]!.problem).toMatch(/unreachable|cannot reach/);
    expect(plan.ranked[3]!.problem).toBe('full: 16 of 16 sessions open');
    expect(plan.order).toEqual([peers.a.peerId, peers.b.peerId]);
    const [a, b] = plan.ranked;
    expect(a!.stepMs! - a!.rttMs!).toBeCloseTo(4, 9);
    expect(b!.stepMs! - b!.rttMs!).toBeCloseTo(400, 9);
    expect(a).toMatchObject({ openSessions: 0, sessionLimit: 16 });
    // Pings only (two each: the first also opens the stream); no session was opened on anyone.
    for (const p of [peers.a.peerId, peers.b.peerId, peers.other.peerId])
      expect(s.calls.filter((c) => c.peerId === p).map((c) => c.kind)).toEqual(['ping', 'ping']);
    expect(s.calls.some((c) => c.peerId === peers.c.peerId)).toBe(false);
    expect(plan.pings).toEqual({ sent: 4, cached: 0 });
    // The decision follows the measurements: split exactly when the chosen volunteer's expected rate beats this device.
    const best = plan.ranked[0]!.expectedTokensPerSecond!;
    expect(plan.route).toBe(best > plan.localTokensPerSecond! ? 'split' : 'local');
  });

  it('ranks by the validators’ verdicts after the tier: a fast volunteer with inconsistent sessions drops below a slower clean one, at Generate and in the background', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId]);
    volunteerListening(s);
    s.serve('a', { stepMs: 4 });
    s.serve('b', { stepMs: 400 });
    s.announce('a');
    s.announce('b');
    const records = [
      { volunteer: peers.a.key, consistent: 3, inconsistent: 2, invalid: 0, unjudged: 1 },
      { volunteer: peers.b.key, consistent: 1, inconsistent: 0, invalid: 0, unjudged: 0 },
    ];
    const score = inferenceScores(records);
    expect([score(peers.a.key), score(peers.b.key), score(peers.c.key)]).toEqual([-1, 1, 0]);
    // Without the verdicts the faster one leads; with them the clean one does, in the same tier (both unweighted).
    const plain = await planRoute(options(s.node, { mode: 'split', targetTokensPerSecond: 1e9 }));
    expect(plain.order).toEqual([peers.a.peerId, peers.b.peerId]);
    const judged = await planRoute(options(s.node, { mode: 'split', targetTokensPerSecond: 1e9, inferenceScore: score }));
    expect(judged.ranked.map((r) => [r.peerId, r.tier, r.inferenceScore])).toEqual([
      [peers.b.peerId, 'unweighted', 1],
      [peers.a.peerId, 'unweighted', -1],
    ]);
    expect(judged.order).toEqual([peers.b.peerId, peers.a.peerId]);
    expect(judged.reason).toContain(`the best ranked ${peers.b.peerId.slice(-8)}`);
    // Ledger weight still comes first: a weighted volunteer with a bad record stays above the unweighted clean one.
    const weighted = await planRoute(
      options(s.node, { mode: 'split', targetTokensPerSecond: 1e9, inferenceScore: score, standing: ledger({ a: { weight: 2 } }) }),
    );
    expect(weighted.order).toEqual([peers.a.peerId, peers.b.peerId]);
    const background = await refreshRanking({ worker: fakeWorker(rig), node: s.node, relays: [], k: 4, standing: ledger({}), inferenceScore: score });
    expect(background.ranked.map((r) => r.peerId)).toEqual([peers.b.peerId, peers.a.peerId]);
  });

  it('a user that follows a genesis ranks volunteers announcing another (or none) last but for the unreachable, and says so when one must serve', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId, peers.c.peerId]);
    volunteerListening(s);
    const ours = makeGenesis({ networkId: NETWORK, startMs: 0 });
    const theirs = makeGenesis({ networkId: NETWORK, startMs: 1 });
    // Step times far apart: a loaded machine's ping jitter must not reorder them.
    s.serve('a', { stepMs: 200 });
    s.serve('b', { stepMs: 400 });
    s.serve('c', { stepMs: 1 });
    s.announce('a', { genesis: genesisHash(theirs) }); // weighted, and faster than b: another genesis
    s.announce('b', { genesis: genesisHash(ours) }); // the slowest
    s.announce('c'); // the fastest: names no genesis
    const standing = ledger({ a: { weight: 9 } });
    const plan = await planRoute(options(s.node, { mode: 'split', targetTokensPerSecond: 1e9, standing, genesis: ours }));
    expect(plan.ranked.map((r) => [r.peerId, r.tier])).toEqual([
      [peers.b.peerId, 'unweighted'],
      [peers.c.peerId, 'other-genesis'], // before: a (weighted) first, then c, then b
      [peers.a.peerId, 'other-genesis'],
    ]);
    expect(plan.ranked[1]!.problem).toBe(OTHER_GENESIS_PROBLEM);
    expect(plan.order).toEqual([peers.b.peerId, peers.c.peerId, peers.a.peerId]); // still failovers: the tokens, without credit
    expect(plan.reason).not.toContain(OTHER_GENESIS_PROBLEM);
    // Without a genesis followed, the announced genesis does not matter.
    const free = await planRoute(options(s.node, { mode: 'split', targetTokensPerSecond: 1e9, standing }));
    expect(free.order).toEqual([peers.a.peerId, peers.c.peerId, peers.b.peerId]);
    // Only volunteers of other genesis: one serves, and the plan says its sessions would not be credited.
    const s2 = stubNode([peers.c.peerId]);
    volunteerListening(s2);
    s2.serve('c');
    s2.announce('c', { genesis: genesisHash(theirs) });
    const only = await planRoute(options(s2.node, { mode: 'split', targetTokensPerSecond: 1e9, genesis: ours }));
    expect(only.order).toEqual([peers.c.peerId]);
    expect(only.reason).toContain(`${peers.c.peerId.slice(-8)} ${OTHER_GENESIS_PROBLEM}`);
    // The background ranking orders them alike.
    const background = await refreshRanking({ worker: fakeWorker(rig), node: s.node, relays: [], k: 4, standing, genesis: ours });
    expect(background.ranked.map((r) => r.peerId)).toEqual([peers.b.peerId, peers.c.peerId, peers.a.peerId]);
  });

  it('the background refresh pings while the screen asks; Generate uses its fresh pings and pings again once they are stale', async () => {
    const s = stubNode([peers.a.peerId, peers.b.peerId]);
    let now = 1_000_000;
    volunteerListening(s);
    s.serve('a', { stepMs: 3 });
    s.serve('b', { stepMs: 600 });
    s.announce('a');
    s.announce('b');
    const refresh = { worker: fakeWorker(rig), node: s.node, relays: [], k: 4, standing: ledger({}), now: () => now };
    try {
      const first = await keepRankingFresh(refresh);
      expect(first?.ranked.map((r) => r.peerId)).toEqual([peers.a.peerId, peers.b.peerId]);
      expect(s.calls.map((c) => c.kind)).toEqual(['ping', 'ping', 'ping', 'ping']);
      expect(backgroundRanking(s.node)).toBe(first);
      // Called again by the screen: no new pings (the timer does them every RANKING_REFRESH_MS).
      await keepRankingFresh(refresh);
      expect(s.calls).toHaveLength(4);
      now += RANKING_FRESH_MS - 1;
      const plan = await planRoute(options(s.node, { mode: 'split', now: () => now }));
      expect(plan.pings).toEqual({ sent: 0, cached: 2 });
      expect(plan.order).toEqual([peers.a.peerId, peers.b.peerId]);
      expect(s.calls).toHaveLength(4);
      now += 2;
      const later = await planRoute(options(s.node, { mode: 'split', now: () => now }));
      expect(later.pings).toEqual({ sent: 2, cached: 0 });
      expect(s.calls).toHaveLength(8);
    } finally {
      stopRankingRefresh(s.node);
    }
    expect(backgroundRanking(s.node)).toBeNull();
  });

  it('a failed ping stands for 10 s, then the volunteer is pinged again', async () => {
    const reachable: string[] = [];
    const s = stubNode(reachable);
    let now = 5_000_000;
    volunteerListening(s);
    s.serve('a');
    s.announce('a');
    const plan = () => planRoute(options(s.node, { mode: 'split', now: () => now }));
    await expect(plan()).rejects.toMatchObject({ code: 'NO_VOLUNTEER' }); // a cannot be reached yet
    reachable.push(peers.a.peerId);
    now += FAILED_PING_FRESH_MS - 1;
    await expect(plan()).rejects.toMatchObject({ code: 'NO_VOLUNTEER' }); // the failure stands
    expect(s.calls).toEqual([]);
    now += 2;
    expect((await plan()).order).toEqual([peers.a.peerId]);
    expect(s.calls.map((c) => c.kind)).toEqual(['ping', 'ping']);
  });

  it('a volunteer that has not measured its step time gets the deeper check: a probe session', async () => {
    const s = stubNode([peers.a.peerId]);
    volunteerListening(s);
    s.serve('a', { stepMs: 0 });
    s.announce('a');
    const plan = await planRoute(options(s.node, { targetTokensPerSecond: 1e9 }));
    expect(plan.ranked[0]).toMatchObject({ peerId: peers.a.peerId, tier: 'unweighted', stepMs: null });
    expect(s.calls.map((c) => c.kind)).toEqual(['ping', 'ping', 'open', 'step', 'step', 'step', 'close']);
    expect(['local', 'split']).toContain(plan.route);
  });

  it('always split with the user’s pick: the pick first and unpinged, the rest of the list by ledger as failovers', async () => {
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
    expect(s.calls).toEqual([]); // a pick that will be used anyway is not pinged; the rest come from the ledger alone
    expect(plan.pings).toEqual({ sent: 0, cached: 0 });
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
