/**
 * Randomized validation (docs/protocol.md §"Validation"): whom a validator checks and which
 * nonces, decided by its unique BLS lottery signature so that nobody can predict or grind the
 * choice and everybody can check it.
 *
 * Per epoch each validator v signs L_v = lottery(utf8("sprintnet/validation-lottery/v1") ‖ u64 epoch ‖ seed)
 * (claimant = v, domain ValidationLottery); its value is λ_v = SHA-256(L_v). For host h:
 *
 *   selected(v, h)  ⇔  u32be(SHA-256("sprintnet/validate-select/v1" ‖ λ_v ‖ key_h)) · 10 000 < q_h · 2^32
 *   q_h = max(f, t − ⌊(t − f) · min(rep_h, REPUTATION_MAX) / REPUTATION_MAX⌋)      (basis points)
 *   t   = min(10 000, ⌈10 000 · NEW_HOST_VALIDATORS / n_h⌉)                      (a new host)
 *   f   = min(10 000, ⌈10 000 · MIN_EXPECTED_VALIDATORS / n_h⌉)                  (the floor)
 *
 * with n_h the number of validators besides h: a new host is checked by NEW_HOST_VALIDATORS
 * validators in expectation (every validator in a smaller network), and the rate falls linearly
 * with reputation to the floor of MIN_EXPECTED_VALIDATORS validators.
 * and the sample is the first m = min(count, VALIDATION_SAMPLE) indices of a Fisher–Yates shuffle
 * of 0 … count−1 driven by SHA-256("sprintnet/validate-sample/v1" ‖ λ_v ‖ proofId ‖ u32 i).
 * All of it is integer arithmetic, so every implementation agrees bit for bit.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryWriter } from '../codec/binary.ts';
import { mismatchLimit, VALIDATION_SAMPLE } from '../sprint/validate.ts';
import { BPS, HASH_BYTES, MIN_EXPECTED_VALIDATORS, NEW_HOST_VALIDATORS, REPUTATION_MAX, TAG_LOTTERY, TAG_ORDER, TAG_SAMPLE, TAG_SELECT } from './constants.ts';
import { compareBytes, tagged, u32be, u48be } from './bytes.ts';

/** The rate that gives `expected` checks in expectation among n validators (every one when n ≤ expected). */
const rateFor = (expected: number, validators: number): number => (validators <= 0 ? BPS : Math.min(BPS, Math.ceil((BPS * expected) / validators)));

/** The floor: the rate that gives MIN_EXPECTED_VALIDATORS checks in expectation among n validators. */
export const minRateBps = (validators: number): number => rateFor(MIN_EXPECTED_VALIDATORS, validators);

/** A new host's rate: NEW_HOST_VALIDATORS checks in expectation among n validators. */
export const newHostRateBps = (validators: number): number => rateFor(NEW_HOST_VALIDATORS, validators);

/** Appendix-D-style per-validator check rate: a new host's rate, falling linearly with reputation to the floor. */
export function effectiveRateBps(reputation: number, validators: number): number {
  const floor = minRateBps(validators);
  const top = newHostRateBps(validators);
  const r = Math.min(Math.max(0, Math.floor(reputation)), REPUTATION_MAX);
  return Math.max(floor, top - Math.floor(((top - floor) * r) / REPUTATION_MAX));
}

/** What each validator's lottery signs for an epoch. */
export function lotteryMessage(epoch: number, seed: Uint8Array): Uint8Array {
  return tagged(TAG_LOTTERY, new BinaryWriter().u64(epoch).fixed(seed, HASH_BYTES).finish());
}

export function isSelected(lotteryValue: Uint8Array, host: Uint8Array, rateBps: number): boolean {
  if (rateBps >= BPS) return true;
  const u = u32be(sha256(tagged(TAG_SELECT, lotteryValue, host)));
  return u * BPS < rateBps * 2 ** 32;
}

/** What decides a proof's place in a validator's order: the standing its host earned by our previous state. */
export interface Standing {
  readonly reputation: number;
  readonly weight: number;
}

/**
 * The order in which a validator fetches lists and re-runs samples when it may not have time for
 * every proof it picked (local policy: the ledger takes whatever verdicts are published). Hosts with
 * more reputation first, then more weight: a flood of proofs from fresh keys, free to make and each
 * up to VALIDATION_SAMPLE re-runs to check, cannot take the time of hosts that earned their standing
 * (validation-flood.test.ts). Among equals, by SHA-256(TAG_ORDER ‖ λ_v ‖ key): nobody knows λ_v
 * before the validator publishes it, so nobody can grind keys to come first, and each validator
 * reaches a different part of a flood.
 */
export function validationOrder<P extends { readonly sender: Uint8Array }>(lotteryValue: Uint8Array, proofs: readonly P[], standing: (p: P) => Standing): P[] {
  const ranked = proofs.map((p) => ({ p, s: standing(p), draw: sha256(tagged(TAG_ORDER, lotteryValue, p.sender)) }));
  ranked.sort((a, b) => b.s.reputation - a.s.reputation || b.s.weight - a.s.weight || compareBytes(a.draw, b.draw));
  return ranked.map((r) => r.p);
}

export const sampleSize = (count: number): number => Math.min(count, VALIDATION_SAMPLE);

/**
 * How a validator splits its re-run of a sample of m (in draw order) into engine calls: first k(m),
 * the fewest that can decide a rejection, then 8·k(m), then the rest. It stops after the call that
 * brings k(m) mismatches (§8 "Stopping early"), so a made-up list costs k(m) re-runs instead of m,
 * and an honest one m in three calls.
 */
export function reRunChunks(m: number): number[] {
  const k = mismatchLimit(m);
  const out: number[] = [];
  for (let done = 0, size = k; done < m; size = out.length === 1 ? 8 * k : m) {
    const n = Math.min(size, m - done);
    out.push(n);
    done += n;
  }
  return out;
}

/** The m indices (in draw order) a validator re-evaluates from a list of `count` claims. */
export function sampleIndices(lotteryValue: Uint8Array, proofId: Uint8Array, count: number, m = sampleSize(count)): number[] {
  const swapped = new Map<number, number>();
  const at = (i: number) => swapped.get(i) ?? i;
  const out: number[] = [];
  const index = new Uint8Array(4);
  for (let i = 0; i < m; i++) {
    new DataView(index.buffer).setUint32(0, i, true);
    const r = u48be(sha256(tagged(TAG_SAMPLE, lotteryValue, proofId, index)));
    const j = i + (r % (count - i));
    const vj = at(j);
    swapped.set(j, at(i));
    swapped.set(i, vj);
    out.push(vj);
  }
  return out;
}
