/**
 * Choosing the next token from logits: greedy (argmax, lowest id on ties), or temperature with
 * nucleus (top-p) and top-k filtering, drawn from a seeded generator or a per-token counter hash
 * (counterUniform) so runs are reproducible.
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

/** What sampleToken draws its one uniform in [0, 1) from. */
export interface UniformSource {
  uniform(): number;
}

/** PCG's output permutation on an LCG step of v (u32 in, u32 out); shaders/sample.wgsl.ts has the same. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * The draw for generated token `index` under `seed`: pcgHash(pcgHash(seed) + index) (u32 wrap), its
 * top 24 bits over 2^24. A pure function of (seed, index), exact in f32 and f64, so generate's
 * per-step CPU sampler and the GPU's sampled blocks draw the same u for the same token.
 */
export function counterUniform(seed: number, index: number): number {
  return (pcgHash((pcgHash(seed >>> 0) + index) >>> 0) >>> 8) / 16777216;
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

/** The float64 word holding sign, exponent and the top of the mantissa. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** Probabilities lie in [0, 1]: their top 16 bits run from 0 to 1.0's 0x3ff0. */
const BUCKETS = 0x3ff0 + 1;
/** Below this many tokens a slice is insertion-sorted rather than split by the next 8 bits. */
const INSERTION_SORT_MAX = 24;

interface SamplerScratch {
  readonly probs: Float64Array;
  readonly words: Uint32Array;
  readonly keys: Uint16Array;
  readonly order: Int32Array;
  readonly spare: Int32Array;
  readonly bucketStart: Int32Array;
}
let scratch: SamplerScratch | null = null;

/** Buffers reused across calls (sampleToken is synchronous, so one set serves every caller). */
function scratchFor(n: number): SamplerScratch {
  if (!scratch || scratch.order.length < n) {
    const probs = new Float64Array(n);
    scratch = {
      probs,
      words: new Uint32Array(probs.buffer),
      keys: new Uint16Array(n),
      order: new Int32Array(n),
      spare: new Int32Array(n),
      bucketStart: new Int32Array(BUCKETS),
    };
  }
  return scratch;
}

/**
 * Sorts order[lo, hi) by probability descending, id ascending, where the slice's probabilities
 * share every bit above `shift` of their float64 pattern and its ids ascend within equal keys:
 * an MSD radix pass on the next 8 bits (stable, so ids stay ascending), then each part again.
 */
function sortRanks(order: Int32Array, lo: number, hi: number, probs: Float64Array, words: Uint32Array, spare: Int32Array, shift: number): void {
  if (hi - lo <= INSERTION_SORT_MAX || shift <= 0) {
    for (let i = lo + 1; i < hi; i++) {
      const t = order[i]!;
      const p = probs[t]!;
      let j = i - 1;
      while (j >= lo) {
        const u = order[j]!;
        const q = probs[u]!;
        if (q > p || (q === p && u < t)) break;
        order[j + 1] = u;
        j--;
      }
      order[j + 1] = t;
    }
    return;
  }
  shift -= 8;
  const word = shift >= 32 ? HIGH_WORD : 1 - HIGH_WORD;
  const bit = shift & 31;
  // Slot 255 − digit: larger digits (larger probabilities) first.
  const ends = new Int32Array(256);
  for (let i = lo; i < hi; i++) ends[255 - ((words[2 * order[i]! + word]! >>> bit) & 255)]!++;
  let first = lo;
  for (let d = 0; d < 256; d++) {
    const c = ends[d]!;
    ends[d] = first;
    first += c;
  }
  for (let i = lo; i < hi; i++) {
    const t = order[i]!;
    spare[ends[255 - ((words[2 * t + word]! >>> bit) & 255)]!++] = t;
  }
  order.set(spare.subarray(lo, hi), lo);
  let a = lo;
  for (let d = 0; d < 256 && a < hi; d++) {
    const b = ends[d]!;
    if (b - a > 1) sortRanks(order, a, b, probs, words, spare, shift);
    a = b;
  }
}

/**
 * The next token: greedy at temperature 0, else a draw from the filtered softmax(logits / temperature).
 * Tokens rank by probability descending, then id ascending; top-k keeps the first k, top-p stops at
 * the first rank where the running probability (summed in rank order) reaches p, and the draw walks
 * the kept ranks. Ranks are found without sorting the vocabulary: probabilities are bucketed by the
 * top 16 bits of their float64 pattern (monotone for non-negative values), and only the buckets the
 * walk reaches are sorted, so every sum runs in the same order, and so gives the same bits, as a full
 * sort would (sampleTokenBySort, which it must always agree with).
 */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: UniformSource): number {
  const temperature = o.temperature ?? 0;
  if (temperature === 0) return argmax(logits);
  const n = logits.length;
  if (n === 0) throw new LlmError('BAD_ARGUMENT', 'no logits to sample from');
  const s = scratchFor(n);
  const { probs, words, keys, order } = s;
  const start = s.bucketStart.fill(0);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i]!;
    if (v > max) max = v;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += probs[i] = Math.exp((logits[i]! - max) / temperature);
    const key = words[2 * i + HIGH_WORD]! >>> 16;
    keys[i] = key;
    start[key]!++;
  }
  // NaN logits, +Infinity, or all −Infinity: NaN probabilities, which have no rank order to bucket.
  if (Number.isNaN(total)) return sampleTokenBySort(logits, o, rng);
  // Drawn before the walk: the scratch buffers hold this call's state only until it returns.
  const u = rng.uniform();
  let first = 0;
  for (let b = BUCKETS - 1; b >= 0; b--) {
    const c = start[b]!;
    start[b] = first;
    first += c;
  }
  // Ids ascending within each bucket; buckets in descending order. start[b] becomes bucket b's end.
  for (let i = 0; i < n; i++) order[start[keys[i]!]!++] = i;
  const topK = o.topK && o.topK > 0 ? Math.min(o.topK, n) : n;
  const topP = o.topP ?? 1;
  let kept = 0;
  let mass = 0;
  walk: while (true) {
    // kept < topK <= n here, so order[kept] is a token and its bucket ends past kept.
    const end = start[keys[order[kept]!]!]!;
    sortRanks(order, kept, end, probs, words, s.spare, 48);
    while (kept < end) {
      mass += probs[order[kept]!]! / total;
      kept++;
      if (mass >= topP || kept >= topK) break walk;
    }
  }
  let keptMass = 0;
  for (let i = 0; i < kept; i++) keptMass += probs[order[i]!]!;
  let r = u * keptMass;
  for (let i = 0; i < kept; i++) {
    const token = order[i]!;
    r -= probs[token]!;
    if (r < 0) return token;
  }
  // Rounding can leave r at or just above 0: the draw falls on the last kept token (kept >= 1 as n >= 1).
  return at(order, kept - 1, 'kept token');
}

/**
 * The same pick by sorting the whole vocabulary with a comparator: O(V log V), the rule's plain
 * statement. sampleToken takes it for logits whose probabilities are NaN; benchmarks time it as
 * the baseline.
 */
export function sampleTokenBySort(logits: ArrayLike<number>, o: SamplingOptions, rng: UniformSource): number {
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
