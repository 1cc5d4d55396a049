/**
 * The validator's side of §8, without the host's plumbing: which proofs it checks and in what
 * order, how it fetches their lists, and how it judges one (the host signs and publishes).
 *
 *   proofs in the pool → proofsToCheck (canonical, on time, selected, ordered)
 *     → fetchInOrder (VALIDATION_FETCHES at a time) → judgeProof (re-runs, stopping early)
 */
import { sprintConfig, type Genesis } from './genesis.ts';
import type { ProtocolEngine } from './interfaces.ts';
import { Verdict, type ProofMessage, type ValidationEntry, type VerdictCode } from './messages.ts';
import { canonical, type EpochState } from './ledger.ts';
import { effectiveRateBps, isSelected, reRunChunks, sampleIndices, sampleSize, validationOrder } from './selection.ts';
import { equalBytes, hex, hexBytes } from './bytes.ts';
import { VALIDATION_FETCHES } from './constants.ts';
import { isProtocolError } from './errors.ts';
import { inWindow } from './windows.ts';
import { decide, judgeNonce, VALIDATION_TOLERANCE } from '../sprint/validate.ts';
import type { NonceClaim } from '../sprint/claims.ts';

/** A proof's nonce list as validation got it: the claims (null: nobody served it), a typed error, or not asked in time. */
export interface FetchedList {
  readonly claims?: NonceClaim[] | null;
  readonly err?: unknown;
  readonly skipped?: boolean;
}

export interface CheckContext {
  readonly genesis: Genesis;
  readonly epoch: number;
  readonly seed: Uint8Array;
  /** λ_v: the hash of our lottery signature for the epoch. */
  readonly lotteryValue: Uint8Array;
  /** W_e, and our state of e − 1 (reputations). */
  readonly weights: ReadonlyMap<string, number>;
  readonly prev: EpochState | undefined;
  /** Our key (hex): a validator never checks itself. */
  readonly self: string;
  /** Proofs that arrived after this are not checked (proofEnd + skew). */
  readonly arrivedBy: number;
  readonly arrivedAt: (id: string) => number | undefined;
}

/**
 * The proofs a validator checks, in its validation order: per sender the canonical proof (its
 * smallest id; none for an equivocator, whom the ledger flags), received in time and stamped in its
 * window, for the epoch's seed, with claims, and selected by our lottery at its reputation's rate.
 */
export function proofsToCheck(c: CheckContext, proofs: readonly ProofMessage[]): ProofMessage[] {
  const onTime = proofs.filter(
    (p) => hex(p.sender) !== c.self && (c.arrivedAt(p.id) ?? Infinity) <= c.arrivedBy && inWindow(c.genesis, 'proof', c.epoch, p.timestampMs),
  );
  const bySender = canonical(onTime);
  const validators = [...c.weights.values()].filter((w) => w > 0).length;
  const reputation = new Map((c.prev?.hosts ?? []).map((h) => [hex(h.publicKey), h.reputation]));
  const selected: ProofMessage[] = [];
  for (const [k, p] of bySender) {
    if (p === 'equivocated' || p.count === 0 || !equalBytes(p.seed, c.seed)) continue;
    const others = validators - ((c.weights.get(k) ?? 0) > 0 ? 1 : 0);
    if (isSelected(c.lotteryValue, p.sender, effectiveRateBps(reputation.get(k) ?? 0, others))) selected.push(p);
  }
  return validationOrder(c.lotteryValue, selected, (p) => ({ reputation: reputation.get(hex(p.sender)) ?? 0, weight: c.weights.get(hex(p.sender)) ?? 0 }));
}

/**
 * The lists of `proofs`, fetched VALIDATION_FETCHES at a time in the given (validation) order, so
 * that a flood of proofs neither holds many 1 MiB lists at once nor comes before the proofs that
 * rank first. A proof whose turn comes after `fetchBy` is `skipped` (not asked, so not judged),
 * unless `held` says its list is already here.
 */
export async function fetchInOrder(
  proofs: readonly ProofMessage[],
  o: { fetchBy: number; now: () => number; held: (p: ProofMessage) => boolean; fetch: (p: ProofMessage) => Promise<NonceClaim[] | null> },
): Promise<FetchedList[]> {
  const out: FetchedList[] = new Array(proofs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < proofs.length; i = next++) {
      const p = proofs[i]!;
      if (o.now() >= o.fetchBy && !o.held(p)) out[i] = { skipped: true };
      else
        out[i] = await o.fetch(p).then(
          (claims) => ({ claims }),
          (err: unknown) => ({ err }),
        );
    }
  };
  await Promise.all(Array.from({ length: Math.min(VALIDATION_FETCHES, proofs.length) }, worker));
  return out;
}

/**
 * One proof's verdict: `duplicate`, `malformed` or `unavailable` from its list alone, else the
 * sample of m re-run in draw order, stopping once the mismatches decide a rejection (§8 "Stopping
 * early"; the entry then says how many were re-run).
 */
export async function judgeProof(
  o: { genesis: Genesis; engine: ProtocolEngine; rTarget: number; seed: Uint8Array; lotteryValue: Uint8Array },
  p: ProofMessage,
  fetched: FetchedList,
): Promise<ValidationEntry> {
  const base = { host: p.sender, proofId: hexBytes(p.id) };
  const plain = (verdict: VerdictCode): ValidationEntry => ({ ...base, verdict, checked: 0, mismatches: 0 });
  if (fetched.err !== undefined) return plain(isProtocolError(fetched.err, 'DUPLICATE_NONCE') ? Verdict.duplicate : Verdict.malformed);
  const claims = fetched.claims;
  if (!claims) return plain(Verdict.unavailable);
  if (claims.length !== p.count || claims.some((c) => !(c.distance < o.rTarget))) return plain(Verdict.malformed);
  const m = sampleSize(p.count);
  const picked = sampleIndices(o.lotteryValue, hexBytes(p.id), p.count, m).map((i) => claims[i]!);
  let checked = 0;
  let mismatches = 0;
  for (const size of reRunChunks(m)) {
    const chunk = picked.slice(checked, checked + size);
    const distances = await o.engine.evaluate({ config: sprintConfig(o.genesis), seed: o.seed, publicKey: p.sender, nonces: chunk.map((c) => c.nonce) });
    mismatches += chunk.filter((c, i) => judgeNonce(c.distance, distances[i]!, o.rTarget, VALIDATION_TOLERANCE) !== 'ok').length;
    checked += chunk.length;
    if (!decide(mismatches, m).accepted) break;
  }
  const d = decide(mismatches, m);
  return { ...base, verdict: d.accepted ? Verdict.ok : Verdict.mismatch, checked: d.accepted ? m : checked, mismatches };
}
