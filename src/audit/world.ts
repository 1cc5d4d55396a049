/**
 * The attacker's world for one config and task version: honest full evaluations (the ground truth
 * an attack is scored against), and the cheap per-nonce facts a screen may use before any forward
 * pass (the input seed, the tokens, the input noise, and in version 1 the permutation keys).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../sprint/bytes.ts';
import { flopsPerNonce, layerMatmulParams, vocabBits, type SprintConfig } from '../sprint/config.ts';
import { cosineThreshold, DEFAULT_HIT_RATE, rTarget } from '../sprint/difficulty.ts';
import { fingerprint, FINGERPRINT_WORDS, outputPermutationKeys } from '../sprint/fingerprint.ts';
import { permutationTable } from '../sprint/permutation.ts';
import { logitMean, nonceInput, outputDistance, ReferenceModel, rmsnorm, type Rounding } from '../sprint/reference.ts';
import { inputSeed, nodeSeed, outputKey, permutationKeysV1, type TaskVersion } from '../sprint/seeds.ts';

export const AUDIT_SPRINT_SEED = sha256(utf8('sprintnet/audit/sprint'));
export const AUDIT_PUBLIC_KEY = sha256(utf8('sprintnet/audit/host'));

/** What a full (honest) evaluation leaves behind for the attacks to be scored against. */
export interface Evaluated {
  nonce: number;
  distance: number;
  hit: boolean;
  /** Fingerprint words (version 2); all zero in version 1. */
  fp: Uint32Array;
  /** rmsnorm of the last position after all layers (d values): z = U·h. */
  h: Float64Array;
  /** rmsnorm of the last position after `partialLayers` layers, when asked for. */
  partial?: Float64Array;
}

export interface EvaluateOptions {
  partialLayers?: number;
  /** Lower-precision arithmetic for every intermediate vector, logits included. */
  round?: Rounding;
}

/**
 * Honest passes on a faster engine than the float64 reference (the CPU backend, src/cpu/honest-passes.ts),
 * agreeing with it within the spec's tolerance. Lower-precision runs (`round`) stay on the reference.
 */
export interface HonestPasses {
  /** Residual streams after layers [from, to) of sequences given as [T·d] each. */
  runLayers(inputs: readonly Float64Array[], from: number, to: number): Float64Array[];
  /** Logits of each sequence's last position: U · rmsnorm(x_last). */
  logits(finals: readonly Float64Array[]): Float64Array[];
}

export class AuditWorld {
  readonly model: ReferenceModel;
  readonly rTarget: number;
  readonly cosThreshold: number;
  readonly p = DEFAULT_HIT_RATE;
  readonly bits: number;
  private readonly hostSeed: Uint8Array;
  /** U with each column centred over the vocabulary: centred logits are Uc·h. */
  readonly uc: Float64Array;
  private readonly perm: Uint32Array<ArrayBuffer>;

  constructor(
    readonly config: SprintConfig,
    readonly version: TaskVersion,
    private readonly passes?: HonestPasses,
  ) {
    this.model = new ReferenceModel(config, AUDIT_SPRINT_SEED, config.layers <= 8);
    this.rTarget = rTarget(config);
    this.cosThreshold = cosineThreshold(config);
    this.bits = vocabBits(config);
    this.hostSeed = nodeSeed(AUDIT_PUBLIC_KEY);
    this.perm = new Uint32Array(config.vocab);
    const { vocab: V, dModel: d } = config;
    const u = this.model.lmHead;
    this.uc = new Float64Array(V * d);
    for (let k = 0; k < d; k++) {
      let mean = 0;
      for (let j = 0; j < V; j++) mean += u[j * d + k]!;
      mean /= V;
      for (let j = 0; j < V; j++) this.uc[j * d + k] = u[j * d + k]! - mean;
    }
  }

  /** FLOPs of one honest pass, as the spec counts them (the unit of work). */
  get passFlops(): number {
    return flopsPerNonce(this.config);
  }

  /** Counted FLOPs of one position's layer matmuls: what a prefix cache of that position saves. */
  get positionFlops(): number {
    return 2 * layerMatmulParams(this.config);
  }

  seed(nonce: number): Uint8Array {
    return inputSeed(AUDIT_SPRINT_SEED, this.hostSeed, nonce, this.version);
  }

  input(seed: Uint8Array): Float64Array {
    return nonceInput(this.model, seed, this.version).x;
  }

  /** The permutation keys of version 1 (known from the seed), or version 2's keys for a given fingerprint. */
  keys(seed: Uint8Array, fp?: Uint32Array): Uint32Array {
    if (this.version === 1) return permutationKeysV1(seed);
    if (!fp) throw new Error('version 2 keys need a fingerprint');
    return outputPermutationKeys(fp, outputKey(seed));
  }

  /** t with t[π(i)] = τ_i: the target seen from the unpermuted logits, so that ŷ·τ ∝ z_c·t. */
  permutedTarget(keys: Uint32Array, out = new Float64Array(this.config.vocab)): Float64Array {
    permutationTable(this.bits, keys, this.perm);
    const tau = this.model.target.unit;
    for (let i = 0; i < tau.length; i++) out[this.perm[i]!] = tau[i]!;
    return out;
  }

  /** Centred logits for a normalised hidden state: Uc·h. */
  centredLogits(h: Float64Array, out = new Float64Array(this.config.vocab)): Float64Array {
    const d = this.config.dModel;
    for (let j = 0; j < out.length; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += this.uc[j * d + k]! * h[k]!;
      out[j] = s;
    }
    return out;
  }

  /** Fingerprint of predicted (or true) logits; centred logits have mean 0. */
  fingerprintOf(zc: Float64Array): Uint32Array {
    return fingerprint(zc, 0);
  }

  /** Honest full evaluations, layer-major in batches. */
  evaluate(nonces: readonly number[], options: EvaluateOptions = {}, onProgress?: (done: number) => void): Evaluated[] {
    const c = this.config;
    const out: Evaluated[] = [];
    const batch = c.layers > 8 ? 16 : 512;
    for (let start = 0; start < nonces.length; start += batch) {
      const chunk = nonces.slice(start, start + batch);
      const seeds = chunk.map((n) => this.seed(n));
      const inputs = seeds.map((s) => this.input(s));
      if (options.round) inputs.forEach(options.round);
      const split = options.partialLayers ?? 0;
      const fast = options.round ? undefined : this.passes;
      const run = (xs: Float64Array[], from: number, to: number) =>
        fast ? fast.runLayers(xs, from, to) : this.model.runLayers(xs, from, to, undefined, options.round);
      const mid = split > 0 ? run(inputs, 0, split) : inputs;
      const finals = run(mid, split, c.layers);
      const allLogits = fast ? fast.logits(finals) : finals.map((x) => this.model.logits(x));
      chunk.forEach((nonce, i) => {
        const h = lastNormed(finals[i]!, c.dModel);
        const logits = allLogits[i]!;
        if (options.round) options.round(logits);
        const fp = this.version === 2 ? fingerprint(logits, logitMean(logits)) : new Uint32Array(FINGERPRINT_WORDS);
        const distance = outputDistance(c, logits, this.keys(seeds[i]!, fp), this.model.target);
        out.push({ nonce, distance, hit: distance < this.rTarget, fp, h, partial: split > 0 ? lastNormed(mid[i]!, c.dModel) : undefined });
      });
      onProgress?.(out.length);
    }
    return out;
  }
}

/** rmsnorm of the last position of a sequence's hidden states. */
export function lastNormed(x: Float64Array, d: number): Float64Array {
  return rmsnorm(x.subarray(x.length - d));
}

/** Lower precision with `bits` significant bits (11: IEEE half, 8: bfloat16), round to nearest even. */
export function roundToBits(bits: number): Rounding {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const drop = 24 - bits;
  const half = 1 << (drop - 1);
  const mask = ~((1 << drop) - 1);
  return (v) => {
    for (let i = 0; i < v.length; i++) {
      f32[0] = v[i]!;
      const u = u32[0]!;
      const odd = (u >>> drop) & 1;
      u32[0] = ((u + half - 1 + odd) & mask) >>> 0;
      v[i] = f32[0]!;
    }
  };
}

export const sameFingerprint = (a: Uint32Array, b: Uint32Array): boolean => a.every((w, i) => w === b[i]);
