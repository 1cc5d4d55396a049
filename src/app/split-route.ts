/**
 * Where a browser request runs (docs/split-inference.md §9, §13): the whole model here when this
 * device decodes fast enough (measured once per model), else split with the volunteers that
 * announced the model (`volunteerDirectory`), pinged (split-ping: round trip, load, their own step
 * time; no session) and ranked by ledger weight, inference reputation (the validators' verdicts on
 * their sessions), Sprint reputation and step time; the user may pick one by
 * hand. The ranking is the failover order. While the split screen is open the pings are refreshed
 * in the background (`keepRankingFresh`, every 30 s), so Generate uses pings at most a minute old.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { equalBytes } from '../protocol/bytes.ts';
import type { SprintnetNode } from '../node/node.ts';
import { listenForVolunteers, VolunteerDirectory, type ListedVolunteer } from '../split/announce.ts';
import { inferenceScore, type InferenceRecord } from '../protocol/inference-reputation.ts';
import { genesisHash, type Genesis } from '../protocol/genesis.ts';
import { faultFlagNames, type HostRecord } from '../protocol/ledger.ts';
import { SplitError } from '../split/errors.ts';
import { pingPeer, type PingResult } from '../split/ping.ts';
import { chooseRoute, measureDecodeRate, pingAsProbe, probeVolunteer, type PrivacyChoice } from '../split/router.ts';
import { OTHER_GENESIS_PROBLEM, rankVolunteers, type LedgerStanding, type RankedVolunteer } from '../split/router-rank.ts';
import { NodeTransport, peerPublicKey } from '../split/transport.ts';
import { ReachingTransport } from './split-failover.ts';
import type { LoadedSplitModel, RangeWorker } from './split-model.ts';
import { checkedPeerId, reach, splitModelFor } from './split-user.ts';

/** A host's row of a ledger state as split ranking standing: only fault flags flag it (an accepted proof does not). */
export const standingOfHost = (h: HostRecord): LedgerStanding => ({
  weight: h.weight,
  votingWeight: h.votingWeight,
  reputation: h.reputation,
  flags: faultFlagNames(h.flags),
});

/** The genesis's initial weights as ledger standing (what a user knows without a certified state). */
export function standingFromGenesis(g: Genesis | null | undefined): (publicKeyHex: string) => LedgerStanding | undefined {
  const weights = new Map((g?.initialWeights ?? []).map((w) => [bytesToHex(w.publicKey), w.weight]));
  return (key) => {
    const weight = weights.get(key);
    return weight === undefined ? undefined : { weight, votingWeight: weight, reputation: 0, flags: [] };
  };
}

/** How many listed volunteers are pinged per ranking (the best by the ledger first). */
export const MAX_PINGED_VOLUNTEERS = 8;
/** A ping younger than this is used as it is at Generate; an older one is taken again. */
export const RANKING_FRESH_MS = 60_000;
/** The background refresh's period while the split screen asks for it. */
export const RANKING_REFRESH_MS = 30_000;
const REACH_RETRY_MS = 1_000;
/** How long a failed ping (unreachable, refused) stands before the volunteer is pinged again. */
export const FAILED_PING_FRESH_MS = 10_000;
/** The deeper check (a probe session) is short: a volunteer this slow to answer one step is not worth splitting with. */
const PROBE_TIMEOUT_MS = 10_000;

const directories = new WeakMap<SprintnetNode, VolunteerDirectory>();

/** The volunteers this node has heard announce themselves; it starts listening on the first call. */
export function volunteerDirectory(node: SprintnetNode): VolunteerDirectory {
  let d = directories.get(node);
  if (!d) {
    d = new VolunteerDirectory({ ttlMs: 3 * node.config.presenceIntervalMs });
    listenForVolunteers(node, d);
    directories.set(node, d);
  }
  return d;
}

const localRates = new Map<string, Promise<number>>();
/** Decode tokens/s here of layers [0, toLayer) (the whole model when undefined), measured once per model hash and layer. */
export function decodeRateFor(m: LoadedSplitModel, toLayer?: number): Promise<number> {
  const key = `${bytesToHex(m.hash)}:${toLayer ?? 'all'}`;
  let p = localRates.get(key);
  if (!p) {
    p = measureDecodeRate(m.model, { toLayer });
    localRates.set(key, p);
    p.catch(() => localRates.delete(key));
  }
  return p;
}

type PingOutcome = { readonly atMs: number; readonly result: PingResult | Error };
/** The last ping of each volunteer, per node, keyed by model hash, k and peer id. */
const pingCaches = new WeakMap<object, Map<string, PingOutcome>>();
const MAX_CACHED_PINGS = 1024;

/** A volunteer to rank: heard announcing (with the genesis it named), or picked by hand (no announcement). */
export interface Listed {
  readonly peerId: string;
  readonly announcedTokensPerSecond: number;
  readonly genesis?: Uint8Array;
}

/** The directory's entries as volunteers to rank. */
export const listedFrom = (entries: readonly ListedVolunteer[]): Listed[] =>
  entries.map((v) => ({ peerId: v.peerId, announcedTokensPerSecond: v.announcement.decodeTokensPerSecond, genesis: v.announcement.genesis }));

export interface RankListedOptions {
  readonly node: Pick<SprintnetNode, 'peerId' | 'request'>;
  /** Makes sure the node can call `peerId` (a dial through a relay); a failure counts as unreachable. */
  readonly reach: (peerId: string) => Promise<void>;
  readonly networkId: string;
  readonly modelHash: Uint8Array;
  readonly k: number;
  readonly listed: readonly Listed[];
  /** The genesis hash the user follows: volunteers that announced another (or none) rank last but for the unreachable. */
  readonly genesis?: Uint8Array;
  /** The ledger's word on a peer, if any. */
  readonly standing: (peerId: string) => LedgerStanding | undefined;
  /** A peer's inference score (its sessions as validators judged them), if known; none: every volunteer ranks as without a record. */
  readonly inferenceScore?: (peerId: string) => number;
  /** Measured decode tokens/s of layers [0, k) here, for the expected split rate; null if not measured. */
  readonly prefixTokensPerSecond: number | null;
  /** Which to ping (default: the best `MAX_PINGED_VOLUNTEERS` by the ledger alone). */
  readonly toPing?: readonly string[];
  /** A cached ping younger than this is used instead of a new one (default RANKING_FRESH_MS; 0 pings again). */
  readonly maxAgeMs?: number;
  /** Send no ping: use the fresh cached ones only (the others rank by the ledger alone). */
  readonly cachedOnly?: boolean;
  readonly now?: () => number;
}

export interface RankedList {
  readonly ranked: RankedVolunteer[];
  /** Pings sent now, and pings taken from the cache. */
  readonly pinged: number;
  readonly cached: number;
}

/** Pings (or takes the fresh cached pings of) the listed volunteers and ranks them: ledger first, then the step estimate. */
export async function rankListedVolunteers(o: RankListedOptions): Promise<RankedList> {
  const now = o.now ?? Date.now;
  const score = o.inferenceScore ?? (() => 0);
  const otherGenesis = (v: Listed) => o.genesis !== undefined && v.genesis !== undefined && !equalBytes(v.genesis, o.genesis);
  const byLedger = rankVolunteers(
    o.listed.map((v) => ({
      peerId: v.peerId,
      standing: o.standing(v.peerId),
      inferenceScore: score(v.peerId),
      probe: undefined,
      otherGenesis: otherGenesis(v),
    })),
    null,
  );
  const toPing = o.toPing ?? byLedger.slice(0, MAX_PINGED_VOLUNTEERS).map((v) => v.peerId);
  let cache = pingCaches.get(o.node);
  if (!cache) pingCaches.set(o.node, (cache = new Map()));
  const keyOf = (peerId: string) => `${bytesToHex(o.modelHash)}:${o.k}:${peerId}`;
  const maxAge = o.maxAgeMs ?? RANKING_FRESH_MS;
  let pinged = 0;
  const outcomes = new Map<string, PingResult | Error | undefined>(
    await Promise.all(
      toPing.map(async (peerId) => {
        const held = cache.get(keyOf(peerId));
        // A failure is kept shorter than an answer: a volunteer that was restarting should not stay out of the order for a minute.
        if (held && now() - held.atMs < (held.result instanceof Error ? Math.min(maxAge, FAILED_PING_FRESH_MS) : maxAge)) return [peerId, held.result] as const;
        if (o.cachedOnly) return [peerId, undefined] as const;
        pinged++;
        // A volunteer that has just started may not hold its relay reservation yet: one more try a second later.
        const result = await o
          .reach(peerId)
          .catch(() => new Promise((r) => setTimeout(r, REACH_RETRY_MS)).then(() => o.reach(peerId)))
          .then(() => warmPing(o.node, peerId, { networkId: o.networkId, modelHash: o.modelHash, k: o.k }))
          .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        cache.delete(keyOf(peerId));
        cache.set(keyOf(peerId), { atMs: now(), result });
        return [peerId, result] as const;
      }),
    ),
  );
  // Oldest first in a Map's order: the ones refreshed least recently go when it is full.
  for (const key of cache.keys()) if (cache.size > MAX_CACHED_PINGS) cache.delete(key);
  const ranked = rankVolunteers(
    o.listed.map((v) => {
      const r = outcomes.get(v.peerId);
      return {
        peerId: v.peerId,
        standing: o.standing(v.peerId),
        inferenceScore: score(v.peerId),
        probe: r === undefined || r instanceof Error ? r : pingAsProbe(v.peerId.slice(-8), r),
        ping: r instanceof Error ? undefined : r,
        announcedTokensPerSecond: v.announcedTokensPerSecond,
        otherGenesis: otherGenesis(v),
      };
    }),
    o.prefixTokensPerSecond,
  );
  return { ranked, pinged, cached: [...outcomes.values()].filter((r) => r !== undefined).length - pinged };
}

/**
 * Two pings, the faster round trip kept: the first call on a fresh connection also negotiates the
 * protocol's stream (measured: 0.25–1.4 s through a relay against ≈ 0.15 s after), which is not the
 * volunteer's latency. The load and step time are the second answer's.
 */
async function warmPing(node: RankListedOptions['node'], peerId: string, o: Parameters<typeof pingPeer>[2]): Promise<PingResult> {
  const first = await pingPeer(node, peerId, o);
  const second = await pingPeer(node, peerId, o);
  return { ...second, rttMs: Math.min(first.rttMs, second.rttMs) };
}

/** A lookup by key (hex) as a lookup by peer id; a peer id without an Ed25519 key gets `none`. */
function byPeer<T, N>(lookup: (publicKeyHex: string) => T, none: N): (peerId: string) => T | N {
  return (peerId) => {
    try {
      return lookup(bytesToHex(peerPublicKey(peerId)));
    } catch {
      return none;
    }
  };
}

/** The ledger's word on a peer id, through the caller's lookup by key (hex). */
export const standingByPeer = (standing: (publicKeyHex: string) => LedgerStanding | undefined) => byPeer(standing, undefined);

/** A peer id's inference score, through the caller's lookup by key (hex). */
export const inferenceScoreByPeer = (score: (publicKeyHex: string) => number) => byPeer(score, 0);

/** The score lookup (by key, hex) of inference records, as the page's runtime computes them (BrowserSnapshot.inferenceReputation). */
export function inferenceScores(records: readonly InferenceRecord[] | undefined): (publicKeyHex: string) => number {
  const byKey = new Map((records ?? []).map((r) => [r.volunteer, inferenceScore(r)]));
  return (key) => byKey.get(key) ?? 0;
}

export type RouteMode = 'auto' | 'split';

export interface RoutePlanOptions {
  readonly worker: RangeWorker;
  readonly node: SprintnetNode;
  readonly relays: readonly string[];
  readonly privacy: PrivacyChoice;
  readonly k: number;
  /** 'auto': here when this device is fast enough, else split; 'split': always split (the numbers are still measured and shown). */
  readonly mode: RouteMode;
  readonly targetTokensPerSecond: number;
  /** The user's pick (a peer id), or '' to take the best ranked. */
  readonly chosenPeerId: string;
  /** The ledger's word on a key (hex), from the page's Sprint runtime. */
  readonly standing: (publicKeyHex: string) => LedgerStanding | undefined;
  /** The inference score of a key (hex), from the page's Sprint runtime (`inferenceScores`); absent: nobody has a record. */
  readonly inferenceScore?: (publicKeyHex: string) => number;
  /** The genesis this page follows: volunteers that announce another rank last but for the unreachable (no proof would be signed for them). */
  readonly genesis?: Genesis | null;
  readonly onPhase?: (what: string) => void;
  /** The clock of the ping cache (tests). */
  readonly now?: () => number;
}

export interface RoutePlan {
  readonly route: 'local' | 'split';
  readonly reason: string;
  /** Measured decode tokens/s of the whole model here, and of layers [0, k); null when not measured (on this device only). */
  readonly localTokensPerSecond: number | null;
  readonly prefixTokensPerSecond: number | null;
  readonly targetTokensPerSecond: number;
  /** Every volunteer considered, best first (probed ones with their step time). */
  readonly ranked: RankedVolunteer[];
  /** Failover order for a split: the chosen volunteer, then the rest of the ranking that is not known to be unreachable. */
  readonly order: string[];
  /** True when the first volunteer is the user's pick rather than the ranking's. */
  readonly manual: boolean;
  /** Pings sent for this plan, and fresh ones reused from the background refresh. */
  readonly pings: { readonly sent: number; readonly cached: number };
}

/** Where this request runs, with the measured numbers behind the choice. Sends no h_k of the user's (only pings). */
export async function planRoute(o: RoutePlanOptions): Promise<RoutePlan> {
  const base = { targetTokensPerSecond: o.targetTokensPerSecond, ranked: [], order: [], manual: false, pings: { sent: 0, cached: 0 } };
  if (o.privacy !== 'allow-split')
    return { ...base, route: 'local', reason: 'on this device only: h_k is never sent', localTokensPerSecond: null, prefixTokensPerSecond: null };
  if (!(o.targetTokensPerSecond > 0)) throw new SplitError('BAD_ARGUMENT', `the "fast enough" rate must be positive, got ${o.targetTokensPerSecond}`);
  const manual = o.chosenPeerId.trim() === '' ? null : checkedPeerId(o.chosenPeerId);
  o.onPhase?.('reading the model');
  const m = await splitModelFor(o.worker);
  o.onPhase?.('measuring this device’s decode rate');
  const local = await decodeRateFor(m);
  const prefix = await decodeRateFor(m, o.k);
  const measured = { ...base, localTokensPerSecond: local, prefixTokensPerSecond: prefix };
  if (o.mode === 'auto' && local >= o.targetTokensPerSecond) {
    const r = chooseRoute({
      privacy: o.privacy,
      localTokensPerSecond: local,
      prefixTokensPerSecond: prefix,
      volunteers: [],
      targetTokensPerSecond: o.targetTokensPerSecond,
    });
    return { ...measured, route: 'local', reason: r.reason };
  }
  const listed = listedFrom(volunteerDirectory(o.node).forModel(m.hash, o.k)).filter((v) => v.peerId !== o.node.peerId && v.peerId !== manual);
  const common = {
    node: o.node,
    reach: (peerId: string) => reach(o.node, peerId, o.relays),
    networkId: o.node.config.networkId,
    modelHash: m.hash,
    k: o.k,
    standing: standingByPeer(o.standing),
    inferenceScore: o.inferenceScore && inferenceScoreByPeer(o.inferenceScore),
    genesis: o.genesis ? genesisHash(o.genesis) : undefined,
    prefixTokensPerSecond: prefix,
    now: o.now,
  };
  o.onPhase?.(listed.length > 0 ? `pinging ${listed.length === 1 ? 'the volunteer' : `${listed.length} volunteers`}` : 'looking for volunteers');
  // The user's pick is pinged only when its step time decides local vs split ("automatic"); under
  // "always split" with a pick nothing waits on the network: the others keep their fresh background pings.
  const pickUsedAnyway = manual !== null && o.mode === 'split';
  const [others, pick] = await Promise.all([
    rankListedVolunteers({ ...common, listed, cachedOnly: pickUsedAnyway }),
    manual ? rankListedVolunteers({ ...common, listed: [{ peerId: manual, announcedTokensPerSecond: 0 }], toPing: o.mode === 'auto' ? [manual] : [] }) : null,
  ]);
  const mine = pick?.ranked ?? [];
  const pings = { sent: others.pinged + (pick?.pinged ?? 0), cached: others.cached + (pick?.cached ?? 0) };
  const ranked = [...mine, ...others.ranked];
  const usable = ranked.filter((v) => v.tier !== 'unreachable');
  const first = manual ? mine[0]! : usable[0];
  if (!first) {
    const why = ranked.map((v) => `${v.peerId.slice(-8)}: ${v.problem}`).join('; ');
    throw new SplitError(
      'NO_VOLUNTEER',
      `no volunteer announces this model for k = ${o.k}${why ? ` that answers (${why})` : ''}; type a volunteer's peer id to use one by hand`,
    );
  }
  const order = [first.peerId, ...usable.filter((v) => v.peerId !== first.peerId).map((v) => v.peerId)];
  const plan = { ...measured, ranked, order, manual: manual !== null, pings };
  // Said wherever the plan is shown: the user gets the tokens, the volunteer no credit here.
  const uncredited = first.tier === 'other-genesis' ? `; ${first.peerId.slice(-8)} ${OTHER_GENESIS_PROBLEM}` : '';
  if (o.mode === 'split') {
    const expected = first.expectedTokensPerSecond;
    return {
      ...plan,
      route: 'split',
      reason: `always split (your setting): ${manual ? 'your pick' : 'the best ranked'} ${first.peerId.slice(-8)}${expected === null ? '' : `, ${expected.toFixed(1)} tok/s expected`} vs ${local.toFixed(1)} tok/s here${uncredited}`,
    };
  }
  if (first.tier === 'unreachable') throw new SplitError('NO_VOLUNTEER', `${first.peerId.slice(-8)} did not answer the ping: ${first.problem ?? 'no answer'}`);
  // A volunteer that has not measured its own step time gets the deeper check: a throwaway session of random rows.
  const stepMs = first.stepMs ?? (await deepProbe(o.node, first.peerId, o.relays, m, o.k)).stepMs;
  const r = chooseRoute({
    privacy: o.privacy,
    localTokensPerSecond: local,
    prefixTokensPerSecond: prefix,
    volunteers: [{ label: first.peerId.slice(-8), stepMs }],
    targetTokensPerSecond: o.targetTokensPerSecond,
  });
  return { ...plan, route: r.route, reason: r.route === 'split' ? `${r.reason}${uncredited}` : r.reason };
}

/** The probe session (router.ts probeVolunteer): costs the volunteer a session and a forward per step, so it is the exception. */
function deepProbe(node: SprintnetNode, peerId: string, relays: readonly string[], m: LoadedSplitModel, k: number) {
  const t = new ReachingTransport(new NodeTransport(node, peerId, PROBE_TIMEOUT_MS), () => reach(node, peerId, relays));
  return probeVolunteer(t, { modelHash: m.hash, k, hiddenSize: m.model.config.hiddenSize, steps: 2 }).catch((e: unknown) => {
    throw new SplitError('NO_VOLUNTEER', `${peerId.slice(-8)} has no measured step time and its probe failed: ${(e as Error).message}`);
  });
}

export type RefreshOptions = Pick<RoutePlanOptions, 'worker' | 'node' | 'relays' | 'k' | 'standing' | 'inferenceScore' | 'genesis' | 'now'>;

/** Pings the listed volunteers of the loaded model and k again (cached pings younger than half a period are kept). */
export async function refreshRanking(o: RefreshOptions): Promise<RankedList> {
  const m = await splitModelFor(o.worker);
  const prefix = await decodeRateFor(m, o.k);
  const listed = listedFrom(volunteerDirectory(o.node).forModel(m.hash, o.k)).filter((v) => v.peerId !== o.node.peerId);
  return rankListedVolunteers({
    node: o.node,
    reach: (peerId) => reach(o.node, peerId, o.relays),
    networkId: o.node.config.networkId,
    modelHash: m.hash,
    k: o.k,
    listed,
    standing: standingByPeer(o.standing),
    inferenceScore: o.inferenceScore && inferenceScoreByPeer(o.inferenceScore),
    genesis: o.genesis ? genesisHash(o.genesis) : undefined,
    prefixTokensPerSecond: prefix,
    maxAgeMs: RANKING_REFRESH_MS / 2,
    now: o.now,
  });
}

interface Refresher {
  options: RefreshOptions;
  wantedAtMs: number;
  readonly timer: ReturnType<typeof setInterval>;
  latest: RankedList | null;
}
const refreshers = new WeakMap<SprintnetNode, Refresher>();

/**
 * Keeps the ranking fresh in the background while the split screen asks for it: the screen calls
 * this on each of its refreshes; the first call pings at once, then every RANKING_REFRESH_MS; when
 * no call came for two periods the refresh stops by itself. Returns the first refresh's ranking,
 * or the latest one.
 */
export function keepRankingFresh(o: RefreshOptions): Promise<RankedList | null> {
  const existing = refreshers.get(o.node);
  if (existing) {
    existing.options = o;
    existing.wantedAtMs = Date.now();
    return Promise.resolve(existing.latest);
  }
  const tick = async (): Promise<RankedList | null> => {
    if (Date.now() - r.wantedAtMs > 2 * RANKING_REFRESH_MS) {
      clearInterval(r.timer);
      refreshers.delete(o.node);
      return r.latest;
    }
    r.latest = await refreshRanking(r.options).catch(() => r.latest);
    return r.latest;
  };
  const r: Refresher = { options: o, wantedAtMs: Date.now(), timer: setInterval(() => void tick(), RANKING_REFRESH_MS), latest: null };
  refreshers.set(o.node, r);
  return tick();
}

/** The ranking of the last background refresh on this node, if one ran. */
export const backgroundRanking = (node: SprintnetNode): RankedList | null => refreshers.get(node)?.latest ?? null;

/** Stops the background refresh (the screen closed, or split was turned off). */
export function stopRankingRefresh(node: SprintnetNode): void {
  const r = refreshers.get(node);
  if (r) clearInterval(r.timer);
  refreshers.delete(node);
}
