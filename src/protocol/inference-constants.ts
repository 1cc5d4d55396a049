/**
 * Constants of split inference in the ledger (docs/protocol.md §9a, docs/split-inference.md §7).
 * Like constants.ts, changing any of them changes consensus.
 */

/** Largest split proof a protocol message carries: about 2 300 steps (28 bytes each) plus the fixed part. */
export const MAX_INFERENCE_PROOF_BYTES = 65_536;

/** A validator's finding on one inference proof. */
export const InferenceVerdict = {
  /** checkProof passed with the validator's own model record (τ, FLOPs, L, V) and the sampled re-run agreed. */
  consistent: 0,
  /** The sampled re-run disagreed (logits, C_t or H_t), or the evidence did not hash to the proof's roots. */
  inconsistent: 1,
  /** checkProof failed with the validator's model record (C_t over τ, FLOPs, step structure); nothing re-run. */
  invalid: 2,
} as const;
export type InferenceVerdictCode = (typeof InferenceVerdict)[keyof typeof InferenceVerdict];
export const INFERENCE_VERDICTS: ReadonlySet<number> = new Set(Object.values(InferenceVerdict));

/** Decode steps each validator re-runs: min(this, the proof's decode steps); a consistent verdict must say exactly that many. */
export const INFERENCE_SAMPLE = 8;
/** Consistent verdicts by distinct weighted validators a proof needs (besides a majority of the verdict weight). */
export const MIN_INFERENCE_VALIDATORS = 1;
/** Sessions credited per volunteer per epoch (in order of user key ‖ session id): bounds the work of deriving a state. */
export const MAX_INFERENCE_SESSIONS = 1_024;
