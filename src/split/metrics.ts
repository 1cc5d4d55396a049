/**
 * The two per-step numbers the Monitoring Layer reads (docs/split-inference.md §C_t and H_t).
 *
 * C_t, the structural persistence cost, forward-only: the paper's form needs gradients; this proxy
 * measures how far the representation the LM head reads jumps from one position to the next,
 *   ĥ(p) = RMSNorm(h_L(p)) ⊙ w_norm            (the final norm, exactly what the head multiplies)
 *   C(p) = 1 − cos(ĥ(p), ĥ(p − 1))  ∈ [0, 2]
 * A step that keeps the structure has C near 0; a step whose state breaks from its predecessor
 * (fragmentation) has a large C. The final norm is used, not the raw residual stream, because real
 * models carry a few "massive activation" dimensions in the residual that dominate any cosine.
 *
 * H_t: the Shannon entropy, in nats, of softmax(logits): H = −Σ p log(p + ε).
 */
import { ENTROPY_EPSILON } from './constants.ts';

/** RMSNorm(h) ⊙ w of one row, in float64. */
export function finalNormed(hidden: ArrayLike<number>, offset: number, normWeight: ArrayLike<number>, eps: number): Float64Array {
  const D = normWeight.length;
  let ss = 0;
  for (let i = 0; i < D; i++) ss += hidden[offset + i]! * hidden[offset + i]!;
  const inv = 1 / Math.sqrt(ss / D + eps);
  const out = new Float64Array(D);
  for (let i = 0; i < D; i++) out[i] = hidden[offset + i]! * inv * normWeight[i]!;
  return out;
}

/** 1 − cos(a, b); 0 when either vector is zero (no direction to keep). */
export function structuralCost(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 || bb === 0) return 0;
  return 1 - ab / Math.sqrt(aa * bb);
}

/** Softmax in float64 (max subtracted). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += p[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < p.length; i++) p[i]! /= z;
  return p;
}

/** H = −Σ p log(p + ε), natural log (nats). */
export function entropy(logits: ArrayLike<number>): number {
  const p = softmax(logits);
  let h = 0;
  for (let i = 0; i < p.length; i++) h -= p[i]! * Math.log(p[i]! + ENTROPY_EPSILON);
  return h;
}

/** Information a step adds over a uniform guess, in bits: log2 V − H / ln 2 (≥ 0 up to ε). */
export const bitsGained = (entropyNats: number, vocab: number): number => Math.max(0, Math.log2(vocab) - entropyNats / Math.LN2);

/** KL(p ‖ q) in nats between the softmaxes of two logit vectors (output quality against the unsplit model). */
export function klDivergence(reference: ArrayLike<number>, other: ArrayLike<number>): number {
  const p = softmax(reference);
  const q = softmax(other);
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) kl += p[i]! * (Math.log(p[i]!) - Math.log(q[i]! + 1e-300));
  return Math.max(0, kl);
}

export interface MonitorThresholds {
  /** τ: a decode step with C_t > τ is rejected (and a proof with one credits nothing). */
  readonly tau: number;
  /** θ_H in nats: a decode step with H_t > θ_H is rejected. */
  readonly maxEntropy: number;
}

export interface Calibration extends MonitorThresholds {
  readonly samples: number;
  readonly costQuantiles: Readonly<Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', number>>;
  readonly entropyQuantiles: Readonly<Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', number>>;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function summary(values: readonly number[]): Calibration['costQuantiles'] {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), p999: quantile(s, 0.999), max: s[s.length - 1]! };
}

/**
 * Thresholds from honest decode steps of one model: τ = margin × the largest C seen, θ_H = margin ×
 * the largest H seen, capped at ln V (a uniform distribution). The maximum, not a quantile, so a
 * calibration run itself never rewinds; the margin leaves room for prompts it did not see.
 */
export function calibrateThresholds(costs: readonly number[], entropies: readonly number[], vocab: number, margin = 1.25): Calibration {
  if (costs.length === 0 || entropies.length === 0) throw new RangeError('calibration needs at least one decode step');
  const c = summary(costs);
  const h = summary(entropies);
  return { tau: c.max * margin, maxEntropy: Math.min(h.max * margin, Math.log(vocab)), samples: costs.length, costQuantiles: c, entropyQuantiles: h };
}
