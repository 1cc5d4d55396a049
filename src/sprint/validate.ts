/**
 * Validation of claimed nonces (spec §9, task version 2): per-nonce verdicts, the sample size m
 * and mismatch limit k, and the decision. Duplicate nonces make the whole claim invalid.
 */
import { getConfig, type SprintConfig } from './config.ts';
import { binomialUpperTail, DEFAULT_HIT_RATE, rTarget } from './difficulty.ts';
import { SprintInputError } from './errors.ts';
import { evaluateNonces, type ReferenceModel } from './reference.ts';
import type { NonceClaim } from './claims.ts';

/** Distance tolerance between two honest implementations (spec §9). */
export const VALIDATION_TOLERANCE = 1e-5;
/** Design bound on an honest host's per-nonce mismatch rate (fingerprint flips, numeric outliers). */
export const P_HONEST_MISMATCH = 1e-4;
/** At most this chance that an honest host's claim is rejected. */
export const MAX_HONEST_REJECTION = 1e-4;
/** A claim with at least this fraction of forged nonces ... */
export const FORGED_FRACTION = 0.05;
/** ... is rejected with at least this probability. */
export const MIN_FORGERY_DETECTION = 0.99;

export type { NonceClaim } from './claims.ts';

/** One verdict per nonce: a nonce that is both off in distance and not appropriate counts once. */
export type NonceVerdictKind = 'ok' | 'distance-mismatch' | 'not-appropriate';

export interface NonceVerdict {
  nonce: number;
  claimed: number;
  reference: number;
  verdict: NonceVerdictKind;
}

export interface Decision {
  checked: number;
  mismatches: number;
  /** Smallest mismatch count that rejects a claim with `checked` re-evaluated nonces. */
  limit: number;
  accepted: boolean;
}

export interface ValidationResult extends Decision {
  verdicts: NonceVerdict[];
}

export interface ValidationOptions {
  tolerance?: number;
  hitRate?: number;
  model?: ReferenceModel;
}

export function judgeNonce(claimed: number, reference: number, rTargetValue: number, tolerance: number): NonceVerdictKind {
  if (!(Math.abs(claimed - reference) <= tolerance)) return 'distance-mismatch';
  if (reference >= rTargetValue + tolerance) return 'not-appropriate';
  return 'ok';
}

/** k(m): the smallest k with P[Binomial(m, P_HONEST_MISMATCH) ≥ k] ≤ MAX_HONEST_REJECTION. */
export function mismatchLimit(checked: number, pHonest = P_HONEST_MISMATCH, maxRejection = MAX_HONEST_REJECTION): number {
  if (!Number.isSafeInteger(checked) || checked < 1) throw new SprintInputError('BAD_ARGUMENT', `checked count must be a positive integer, got ${checked}`);
  // The relative slack absorbs the tail sum's rounding: for one checked nonce P[X ≥ 1] is exactly
  // p_h = 10^-4, which must count as "≤ 10^-4" (else a lone forged nonce could never be rejected).
  let k = 1;
  while (binomialUpperTail(k, checked, pHonest) > maxRejection * (1 + 1e-9)) k++;
  return k;
}

/** P[a claim with `checked` re-evaluated nonces, forged at rate f, is rejected]. */
export const detectionProbability = (checked: number, forgedFraction = FORGED_FRACTION): number =>
  binomialUpperTail(mismatchLimit(checked), checked, forgedFraction);

/** m: the smallest sample whose rule rejects a FORGED_FRACTION forgery with MIN_FORGERY_DETECTION. */
export function sampleSize(): number {
  let m = 1;
  while (detectionProbability(m) < MIN_FORGERY_DETECTION) m++;
  return m;
}

/** The spec's m (130 with the constants above; checked by validate.test.ts). */
export const VALIDATION_SAMPLE = sampleSize();

/** The decision for `checked` re-evaluated nonces of which `mismatches` were not ok. */
export function decide(mismatches: number, checked: number): Decision {
  const limit = mismatchLimit(checked);
  return { checked, mismatches, limit, accepted: mismatches < limit };
}

/** Rejects claim lists that are empty, repeat a nonce, or carry a non-finite distance. */
export function checkClaims(claims: readonly NonceClaim[]): void {
  if (claims.length === 0) throw new SprintInputError('BAD_ARGUMENT', 'nothing to validate: the claim list is empty');
  const seen = new Set<number>();
  for (const claim of claims) {
    if (typeof claim.distance !== 'number' || !Number.isFinite(claim.distance)) {
      throw new SprintInputError('BAD_ARGUMENT', `claimed distance of nonce ${claim.nonce} is not a finite number`);
    }
    if (seen.has(claim.nonce)) throw new SprintInputError('DUPLICATE_NONCE', `nonce ${claim.nonce} is claimed more than once`);
    seen.add(claim.nonce);
  }
}

/** Re-evaluates every claim with the CPU reference (the caller draws the sample of spec §9). */
export function validateNonces(
  config: SprintConfig | string,
  sprintSeed: Uint8Array,
  publicKey: Uint8Array,
  claims: readonly NonceClaim[],
  options: ValidationOptions = {},
): ValidationResult {
  const c = typeof config === 'string' ? getConfig(config) : config;
  checkClaims(claims);
  const tolerance = options.tolerance ?? VALIDATION_TOLERANCE;
  const r = rTarget(c, options.hitRate ?? DEFAULT_HIT_RATE);
  const reference = evaluateNonces(
    c,
    sprintSeed,
    publicKey,
    claims.map((x) => x.nonce),
    options.model,
  );
  const verdicts = claims.map((claim, i): NonceVerdict => {
    const expected = reference[i];
    if (!expected) throw new Error(`the reference returned ${reference.length} results for ${claims.length} claims`);
    return { nonce: claim.nonce, claimed: claim.distance, reference: expected.distance, verdict: judgeNonce(claim.distance, expected.distance, r, tolerance) };
  });
  const mismatches = verdicts.filter((v) => v.verdict !== 'ok').length;
  return { verdicts, ...decide(mismatches, claims.length) };
}
