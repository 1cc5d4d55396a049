/**
 * Choosing the next token from logits: greedy (argmax, lowest id on ties), or temperature with
 * nucleus (top-p) and top-k filtering, drawn from a seeded generator so runs are reproducible.
 */
import { at } from '../sprint/indexing.ts';
import { LlmError } from './errors.ts';

export interface SamplingOptions {
  /** 0 (default) is greedy. */
  readonly temperature?: number;
  /** Keep the smallest set of tokens whose probability reaches p (default 1: all). */
  readonly topP?: number;
  /** Keep the k most likely tokens (default 0: all). */
  readonly topK?: number;
  readonly seed?: number;
}

/** Deterministic 32-bit generator (mulberry32) with Box–Muller normals. */
export class SeededRandom {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(this.uniform(), 1e-12);
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > logits.length) {
    throw new RangeError(`argmax over [${offset}, ${offset + length}) of ${logits.length} logits`);
  }
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

export function checkSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 0;
  const p = o.topP ?? 1;
  const k = o.topK ?? 0;
  if (!(t >= 0) || !Number.isFinite(t)) throw new LlmError('BAD_ARGUMENT', `temperature must be ≥ 0, got ${t}`);
  if (!(p > 0 && p <= 1)) throw new LlmError('BAD_ARGUMENT', `top-p must be in (0, 1], got ${p}`);
  if (!Number.isInteger(k) || k < 0) throw new LlmError('BAD_ARGUMENT', `top-k must be a non-negative integer, got ${k}`);
}

/** The next token: greedy at temperature 0, else a draw from the filtered softmax(logits / temperature). */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: SeededRandom): number {
  const temperature = o.temperature ?? 0;
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  if (n === 0) throw new LlmError('BAD_ARGUMENT', 'no logits to sample from');
  // Past here every index is below n: loop bounds, or entries of order (a permutation of [0, n)).
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i]!;
    if (v > max) max = v;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  const probs = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i] = Math.exp((logits[i]! - max) / temperature);
  order.sort((a, b) => probs[b]! - probs[a]! || a - b);
  const topK = o.topK && o.topK > 0 ? Math.min(o.topK, n) : n;
  const topP = o.topP ?? 1;
  let kept = 0;
  let mass = 0;
  while (kept < topK) {
    mass += probs[order[kept]!]! / total;
    kept++;
    if (mass >= topP) break;
  }
  let keptMass = 0;
  for (let i = 0; i < kept; i++) keptMass += probs[order[i]!]!;
  let r = rng.uniform() * keptMass;
  for (let i = 0; i < kept; i++) {
    const token = order[i]!;
    r -= probs[token]!;
    if (r < 0) return token;
  }
  // Rounding can leave r at or just above 0: the draw falls on the last kept token (kept >= 1 as n >= 1).
  return at(order, kept - 1, 'kept token');
}
