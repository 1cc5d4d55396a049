/**
 * CPU reference of the Sprint task (spec §5–§8): readable, float64 activations, weights generated
 * layer by layer so the canonical model (0.6 B parameters) never has to be resident at once.
 * Validators use it, and the GPU engine is tested against it.
 */
import { getConfig, headDim, vocabBits, type SprintConfig } from './config.ts';
import { rTarget } from './difficulty.ts';
import { permutationTable } from './permutation.ts';
import { fingerprint, outputPermutationKeys } from './fingerprint.ts';
import {
  checkNonce,
  checkPublicKey,
  checkSprintSeed,
  inputNoiseKey,
  inputSeed,
  nodeSeed,
  outputKey,
  permutationKeysV1,
  tokensFromInputSeed,
  TASK_VERSION,
  weightKey,
  type TaskVersion,
} from './seeds.ts';
import { targetVector, type TargetVector } from './target.ts';
import { at } from './indexing.ts';
import { generateLayer, generateTensor, GLOBAL_LAYER, TensorId, type LayerWeights } from './weights.ts';

export const RMS_EPSILON = 2 ** -20;

/** Hidden states of one sequence: positions × d, row-major. */
export type Hidden = Float64Array;

export interface LayerStats {
  layer: number;
  /** RMS of the residual stream after the layer, averaged over positions and sequences. */
  rms: number;
  maxAbs: number;
}

export class ReferenceModel {
  readonly key: readonly [number, number];
  private readonly tokEmb: Float32Array;
  private readonly posEmb: Float32Array;
  private lmHeadCache?: Float32Array;
  private targetCache?: TargetVector;
  private readonly layerCache = new Map<number, LayerWeights>();

  /** @param cacheLayers keep generated layers (worth it for small configs evaluated many times). */
  constructor(
    readonly config: SprintConfig,
    sprintSeed: Uint8Array,
    private readonly cacheLayers = false,
  ) {
    checkSprintSeed(sprintSeed);
    this.key = weightKey(sprintSeed);
    this.tokEmb = generateTensor(config, this.key, TensorId.tokEmb, GLOBAL_LAYER);
    this.posEmb = generateTensor(config, this.key, TensorId.posEmb, GLOBAL_LAYER);
  }

  get lmHead(): Float32Array {
    return (this.lmHeadCache ??= generateTensor(this.config, this.key, TensorId.lmHead, GLOBAL_LAYER));
  }

  get target(): TargetVector {
    return (this.targetCache ??= targetVector(this.config, this.key));
  }

  layer(l: number): LayerWeights {
    const cached = this.layerCache.get(l);
    if (cached) return cached;
    const weights = generateLayer(this.config, this.key, l);
    if (this.cacheLayers) this.layerCache.set(l, weights);
    return weights;
  }

  /** x_t = E[token_t] + P[t] (+ G[t] in task version 2, with G generated from the nonce's noise key). */
  embed(tokens: Uint32Array, noiseKey?: readonly [number, number]): Hidden {
    const { dModel: d, seqLen } = this.config;
    if (tokens.length === 0 || tokens.length > seqLen) throw new RangeError(`sequence length must be 1..${seqLen}`);
    const x = new Float64Array(tokens.length * d);
    for (const [t, tok] of tokens.entries()) {
      if (tok >= this.config.vocab) throw new RangeError(`token ${tok} outside vocabulary`);
      // tokEmb is vocab × d and posEmb seqLen × d; tok < vocab and t < seqLen were checked.
      for (let i = 0; i < d; i++) x[t * d + i] = this.tokEmb[tok * d + i]! + this.posEmb[t * d + i]!;
    }
    if (noiseKey) {
      const noise = generateTensor(this.config, noiseKey, TensorId.inputNoise, GLOBAL_LAYER);
      // The noise tensor is seqLen × d, at least as long as x.
      for (let i = 0; i < x.length; i++) x[i]! += noise[i]!;
    }
    return x;
  }

  /**
   * Runs layers [from, to) over a batch of hidden states, layer-major so each layer is generated once.
   * `round` (attack suite only) rounds every intermediate vector, to model lower-precision arithmetic.
   */
  runLayers(states: Hidden[], from: number, to: number, onLayer?: (s: LayerStats) => void, round?: Rounding): Hidden[] {
    const out = states.map((s) => s.slice());
    for (let l = from; l < to; l++) {
      const w = this.layer(l);
      for (const x of out) applyLayer(this.config, w, x, round);
      if (onLayer) onLayer(layerStats(l, out));
    }
    return out;
  }

  /** Logits z = U · rmsnorm(x_last). */
  logits(x: Hidden): Float64Array {
    const { dModel: d, vocab } = this.config;
    const positions = x.length / d;
    const h = rmsnorm(x.subarray((positions - 1) * d, positions * d));
    const z = new Float64Array(vocab);
    matvec(this.lmHead, h, z, vocab, d);
    return z;
  }
}

function layerStats(layer: number, states: Hidden[]): LayerStats {
  let sumSq = 0;
  let count = 0;
  let maxAbs = 0;
  for (const x of states) {
    for (const v of x) {
      sumSq += v * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    count += x.length;
  }
  return { layer, rms: Math.sqrt(sumSq / count), maxAbs };
}

/** Rounds a vector in place to a lower precision (identity in the reference itself). */
export type Rounding = (v: Float64Array) => void;
const exact: Rounding = () => {};

/** In place: x ← x + attention(x); x ← x + FFN(x) (pre-norm, spec §6). */
function applyLayer(c: SprintConfig, w: LayerWeights, x: Hidden, round: Rounding = exact): void {
  const d = c.dModel;
  const positions = x.length / d;
  const dh = headDim(c);
  const scale = 1 / Math.sqrt(dh);
  const q = new Float64Array(x.length);
  const k = new Float64Array(x.length);
  const v = new Float64Array(x.length);
  for (let t = 0; t < positions; t++) {
    const h = rmsnorm(x.subarray(t * d, (t + 1) * d));
    matvec(w.wq, h, q.subarray(t * d, (t + 1) * d), d, d);
    matvec(w.wk, h, k.subarray(t * d, (t + 1) * d), d, d);
    matvec(w.wv, h, v.subarray(t * d, (t + 1) * d), d, d);
  }
  round(q);
  round(k);
  round(v);
  const o = new Float64Array(d);
  const attnOut = new Float64Array(d);
  const scores = new Float64Array(positions);
  // Every array below is sized from the config (positions × d, d × d, ffnHidden × d), and each
  // index stays inside its loop bounds, so the non-null assertions cannot hide a miss.
  for (let t = 0; t < positions; t++) {
    o.fill(0);
    for (let a = 0; a < c.heads; a++) {
      const base = a * dh;
      let max = -Infinity;
      for (let u = 0; u <= t; u++) {
        let s = 0;
        for (let i = 0; i < dh; i++) s += q[t * d + base + i]! * k[u * d + base + i]!;
        scores[u] = s * scale;
        max = Math.max(max, s * scale);
      }
      let sum = 0;
      for (let u = 0; u <= t; u++) {
        const e = Math.exp(scores[u]! - max);
        scores[u] = e;
        sum += e;
      }
      for (let u = 0; u <= t; u++) {
        const alpha = scores[u]! / sum;
        for (let i = 0; i < dh; i++) o[base + i]! += alpha * v[u * d + base + i]!;
      }
    }
    round(o);
    matvec(w.wo, o, attnOut, d, d);
    for (let i = 0; i < d; i++) x[t * d + i]! += attnOut[i]!;
  }
  round(x);
  const hidden = new Float64Array(c.ffnHidden);
  const ffnOut = new Float64Array(d);
  for (let t = 0; t < positions; t++) {
    const h = rmsnorm(x.subarray(t * d, (t + 1) * d));
    matvec(w.w1, h, hidden, c.ffnHidden, d);
    for (let i = 0; i < hidden.length; i++) hidden[i] = Math.max(0, hidden[i]!);
    round(hidden);
    matvec(w.w2, hidden, ffnOut, d, c.ffnHidden);
    for (let i = 0; i < d; i++) x[t * d + i]! += ffnOut[i]!;
  }
  round(x);
}

export function rmsnorm(x: Float64Array): Float64Array {
  let sumSq = 0;
  for (const v of x) sumSq += v * v;
  const inv = 1 / Math.sqrt(sumSq / x.length + RMS_EPSILON);
  return x.map((v) => v * inv);
}

/** y[o] = Σ_i W[o][i] · x[i] with W row-major [rows, cols]. */
function matvec(w: Float32Array, x: Float64Array, y: Float64Array, rows: number, cols: number): void {
  if (w.length < rows * cols || x.length < cols || y.length < rows) {
    throw new RangeError(`matvec of ${rows}×${cols} got ${w.length} weights, ${x.length} inputs and ${y.length} outputs`);
  }
  for (let o = 0; o < rows; o++) {
    let s = 0;
    const row = o * cols;
    for (let i = 0; i < cols; i++) s += w[row + i]! * x[i]!;
    y[o] = s;
  }
}

export function logitMean(logits: Float64Array): number {
  let mean = 0;
  for (const z of logits) mean += z;
  return mean / logits.length;
}

/**
 * The nonce's 8 permutation keys: version 2 derives them from the fingerprint of its own logits
 * and the output key (spec §7); version 1 (superseded) read them off the input seed.
 */
export function nonceKeys(seed: Uint8Array, logits: Float64Array, version: TaskVersion = TASK_VERSION): Uint32Array {
  if (version === 1) return permutationKeysV1(seed);
  return outputPermutationKeys(fingerprint(logits, logitMean(logits)), outputKey(seed));
}

/** Spec §7: permute with the nonce's keys, centre, normalise, distance to τ. */
export function outputDistance(c: SprintConfig, logits: Float64Array, keys: Uint32Array, target: TargetVector): number {
  const bits = vocabBits(c);
  const mean = logitMean(logits);
  const perm = permutationTable(bits, keys);
  let normSq = 0;
  let dot = 0;
  if (logits.length !== c.vocab || target.unit.length !== c.vocab) {
    throw new RangeError(`the distance needs ${c.vocab} logits and target coordinates, got ${logits.length} and ${target.unit.length}`);
  }
  // perm is a permutation of [0, 2^bits) = [0, vocab), the length checked above.
  for (let i = 0; i < c.vocab; i++) {
    const y = logits[perm[i]!]! - mean;
    normSq += y * y;
    dot += y * target.unit[i]!;
  }
  if (normSq === 0) return 2; // degenerate output: as far as possible, never appropriate
  const cos = dot / Math.sqrt(normSq);
  return Math.sqrt(Math.max(0, 2 - 2 * cos));
}

export interface NonceEvaluation {
  nonce: number;
  tokens: number[];
  distance: number;
  appropriate: boolean;
}

/** The embedded input of one nonce (spec §5–§6): version 1 had no noise term. */
export function nonceInput(m: ReferenceModel, seed: Uint8Array, version: TaskVersion = TASK_VERSION): { tokens: Uint32Array; x: Hidden } {
  const tokens = tokensFromInputSeed(m.config, seed);
  return { tokens, x: m.embed(tokens, version === 1 ? undefined : inputNoiseKey(seed)) };
}

/** Evaluates a batch of nonces of one host, generating each layer's weights once. */
export function evaluateNonces(
  config: SprintConfig | string,
  sprintSeed: Uint8Array,
  publicKey: Uint8Array,
  nonces: readonly number[],
  model?: ReferenceModel,
  version: TaskVersion = TASK_VERSION,
): NonceEvaluation[] {
  const c = typeof config === 'string' ? getConfig(config) : config;
  checkSprintSeed(sprintSeed);
  checkPublicKey(publicKey);
  nonces.forEach(checkNonce);
  const m = model ?? new ReferenceModel(c, sprintSeed);
  return mapReferenceNonces(
    m,
    sprintSeed,
    publicKey,
    nonces,
    (p) => ({ nonce: p.nonce, tokens: Array.from(p.tokens), distance: p.distance, appropriate: p.appropriate }),
    version,
  );
}

/** One nonce through the reference (spec §5–§7), with the values between its steps. */
export interface ReferencePass {
  readonly nonce: number;
  readonly seed: Uint8Array;
  readonly tokens: Uint32Array;
  readonly logits: Float64Array;
  /** The permutation keys from the fingerprint. */
  readonly keys: Uint32Array;
  readonly distance: number;
  readonly appropriate: boolean;
}

/**
 * `evaluateNonces` step by step, for whoever needs more than the distance (validation tests,
 * vectors, discrepancy measurements): `pick` keeps what it needs of each pass, so the logits of a
 * large vocabulary are not all held at once. No argument checks: the caller's inputs are its own.
 */
export function mapReferenceNonces<T>(
  m: ReferenceModel,
  sprintSeed: Uint8Array,
  publicKey: Uint8Array,
  nonces: readonly number[],
  pick: (pass: ReferencePass, index: number) => T,
  version: TaskVersion = TASK_VERSION,
): T[] {
  const c = m.config;
  const ns = nodeSeed(publicKey);
  const seeds = nonces.map((n) => inputSeed(sprintSeed, ns, n, version));
  const inputs = seeds.map((s) => nonceInput(m, s, version));
  const finals = m.runLayers(
    inputs.map((x) => x.x),
    0,
    c.layers,
  );
  const r = rTarget(c);
  return finals.map((final, i) => {
    const logits = m.logits(final);
    const seed = at(seeds, i, 'input seed');
    const keys = nonceKeys(seed, logits, version);
    const distance = outputDistance(c, logits, keys, m.target);
    return pick({ nonce: at(nonces, i, 'nonce'), seed, tokens: at(inputs, i, 'input').tokens, logits, keys, distance, appropriate: distance < r }, i);
  });
}

export function evaluateNonce(config: SprintConfig | string, sprintSeed: Uint8Array, publicKey: Uint8Array, nonce: number): NonceEvaluation {
  return at(evaluateNonces(config, sprintSeed, publicKey, [nonce]), 0, 'evaluation');
}
