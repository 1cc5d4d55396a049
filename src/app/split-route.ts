/**
 * Where a browser request runs (docs/split-inference.md §9, §13): the whole model here when this
 * device decodes fast enough (measured once per model), else split with the volunteers that
 * announced the model (`volunteerDirectory`), probed and ranked by ledger weight, reputation and
 * measured step time; the user may pick one by hand. The ranking is the failover order.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SprintnetNode } from '../node/node.ts';
import { listenForVolunteers, VolunteerDirectory } from '../split/announce.ts';
import { SplitError } from '../split/errors.ts';
import { chooseRoute, measureDecodeRate, probeVolunteer, type PrivacyChoice, type VolunteerProbe } from '../split/router.ts';
import { rankVolunteers, type LedgerStanding, type RankedVolunteer } from '../split/router-rank.ts';
import { NodeTransport, peerPublicKey } from '../split/transport.ts';
import { ReachingTransport } from './split-failover.ts';
import type { LoadedSplitModel, RangeWorker } from './split-model.ts';
import { checkedPeerId, reach, splitModelFor } from './split-user.ts';

/** Probes are short: a volunteer this slow to answer one step is not worth splitting with. */
const PROBE_TIMEOUT_MS = 10_000;
/** How many listed volunteers are probed per request (each probe is a throwaway session on it). */
export const MAX_PROBED_VOLUNTEERS = 4;

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
  readonly onPhase?: (what: string) => void;
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
}

/** Where this request runs, with the measured numbers behind the choice. Sends no h_k of the user's (probes carry random rows). */
export async function planRoute(o: RoutePlanOptions): Promise<RoutePlan> {
  const base = { targetTokensPerSecond: o.targetTokensPerSecond, ranked: [], order: [], manual: false };
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
  const listed = volunteerDirectory(o.node)
    .forModel(m.hash, o.k)
    .filter((v) => v.peerId !== o.node.peerId && v.peerId !== manual);
  const announced = new Map(listed.map((v) => [v.peerId, v.announcement.decodeTokensPerSecond]));
  const standingOf = (peerId: string) => {
    try {
      return o.standing(bytesToHex(peerPublicKey(peerId)));
    } catch {
      return undefined;
    }
  };
  // The user's pick needs no probe when it will be used anyway ("always split"); otherwise its step time decides local vs split.
  // Which listed ones to probe: the best by the ledger alone (no step times yet).
  const byLedger = rankVolunteers(
    listed.map((v) => ({ peerId: v.peerId, standing: standingOf(v.peerId), probe: undefined })),
    null,
  );
  const toProbe = manual ? (o.mode === 'auto' ? [manual] : []) : byLedger.slice(0, MAX_PROBED_VOLUNTEERS).map((v) => v.peerId);
  if (toProbe.length > 0) o.onPhase?.(`measuring ${toProbe.length === 1 ? 'the volunteer' : `${toProbe.length} volunteers`}`);
  const probes = new Map<string, VolunteerProbe | Error>(
    await Promise.all(
      toProbe.map(async (peerId) => {
        const t = new ReachingTransport(new NodeTransport(o.node, peerId, PROBE_TIMEOUT_MS), () => reach(o.node, peerId, o.relays));
        const p = await probeVolunteer(t, { modelHash: m.hash, k: o.k, hiddenSize: m.model.config.hiddenSize, steps: 2 }).catch((e: unknown) =>
          e instanceof Error ? e : new Error(String(e)),
        );
        return [peerId, p] as const;
      }),
    ),
  );
  const rank = (ids: readonly string[]) =>
    rankVolunteers(
      ids.map((peerId) => ({ peerId, standing: standingOf(peerId), probe: probes.get(peerId), announcedTokensPerSecond: announced.get(peerId) ?? 0 })),
      prefix,
    );
  const others = rank(listed.map((v) => v.peerId));
  const mine = manual ? rank([manual]) : [];
  const ranked = [...mine, ...others];
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
  const plan = { ...measured, ranked, order, manual: manual !== null };
  if (o.mode === 'split') {
    const expected = first.expectedTokensPerSecond;
    return {
      ...plan,
      route: 'split',
      reason: `always split (your setting): ${manual ? 'your pick' : 'the best ranked'} ${first.peerId.slice(-8)}${expected === null ? '' : `, ${expected.toFixed(1)} tok/s expected`} vs ${local.toFixed(1)} tok/s here`,
    };
  }
  if (first.tier === 'unreachable' || first.stepMs === null)
    throw new SplitError('NO_VOLUNTEER', `${first.peerId.slice(-8)} did not answer the probe: ${first.problem ?? 'no step time'}`);
  const r = chooseRoute({
    privacy: o.privacy,
    localTokensPerSecond: local,
    prefixTokensPerSecond: prefix,
    volunteers: [{ label: first.peerId.slice(-8), stepMs: first.stepMs }],
    targetTokensPerSecond: o.targetTokensPerSecond,
  });
  return { ...plan, route: r.route, reason: r.reason };
}
