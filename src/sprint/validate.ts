/** Validation of claimed nonces (spec §9): per-nonce verdicts and a one-sided binomial decision. */
import { getConfig, type SprintConfig } from './config.ts';
import { binomialUpperTail, DEFAULT_HIT_RATE, rTarget } from './difficulty.ts';
import { SprintInputError } from './errors.ts';
import { evaluateNonces, type ReferenceModel } from './reference.ts';

/** Spec §9, version 1. */
export const VALIDATION_TOLERANCE = 1e-5;
export const P_MISMATCH = 0.01;
export const SIGNIFICANCE = 1e-3;

export interface NonceClaim {
  nonce: number;
  distance: number;
}

export type NonceVerdictKind = 'ok' | 'distance-mismatch' | 'not-appropriate';

export interface NonceVerdict {
  nonce: number;
  claimed: number;
  reference: number;
  verdict: NonceVerdictKind;
}

export interface ValidationResult {
  verdicts: NonceVerdict[];
  mismatches: number;
  /** P[X ≥ mismatches] under honest noise. */
  pValue: number;
  accepted: boolean;
}

export interface ValidationOptions {
  tolerance?: number;
  pMismatch?: number;
  significance?: number;
  hitRate?: number;
  model?: ReferenceModel;
}

export function judgeNonce(claimed: number, reference: number, rTargetValue: number, tolerance: number): NonceVerdictKind {
  if (!(Math.abs(claimed - reference) <= tolerance)) return 'distance-mismatch';
  if (reference >= rTargetValue + tolerance) return 'not-appropriate';
  return 'ok';
}

/** The decision alone, for callers that computed verdicts themselves (e.g. on a GPU). */
export function decide(mismatches: number, checked: number, pMismatch = P_MISMATCH, significance = SIGNIFICANCE) {
  const pValue = binomialUpperTail(mismatches, checked, pMismatch);
  return { pValue, accepted: pValue >= significance };
}

/** Re-evaluates every claim with the CPU reference (the caller draws the sample). */
export function validateNonces(
  config: SprintConfig | string,
  sprintSeed: Uint8Array,
  publicKey: Uint8Array,
  claims: readonly NonceClaim[],
  options: ValidationOptions = {},
): ValidationResult {
  const c = typeof config === 'string' ? getConfig(config) : config;
  if (claims.length === 0) throw new SprintInputError('BAD_ARGUMENT', 'nothing to validate: the claim list is empty');
  for (const claim of claims) {
    if (typeof claim.distance !== 'number' || !Number.isFinite(claim.distance)) {
      throw new SprintInputError('BAD_ARGUMENT', `claimed distance of nonce ${claim.nonce} is not a finite number`);
    }
  }
  const tolerance = options.tolerance ?? VALIDATION_TOLERANCE;
  const r = rTarget(c, options.hitRate ?? DEFAULT_HIT_RATE);
  const reference = evaluateNonces(c, sprintSeed, publicKey, claims.map((x) => x.nonce), options.model);
  const verdicts = claims.map((claim, i): NonceVerdict => ({
    nonce: claim.nonce,
    claimed: claim.distance,
    reference: reference[i].distance,
    verdict: judgeNonce(claim.distance, reference[i].distance, r, tolerance),
  }));
  const mismatches = verdicts.filter((v) => v.verdict !== 'ok').length;
  return { verdicts, mismatches, ...decide(mismatches, claims.length, options.pMismatch, options.significance) };
}
