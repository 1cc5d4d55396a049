/**
 * Screens: cheap per-nonce scores an attacker computes before deciding which nonces deserve a full
 * forward pass. Each one predicts the nonce's output (and, in version 2, its fingerprint, without
 * which the permutation is unknown) and scores the predicted output against the permuted target.
 */
import { FINGERPRINT_BITS } from '../sprint/fingerprint.ts';
import { features, predictLinear, type Knowledge } from './knowledge.ts';
import type { AuditWorld } from './world.ts';

export interface Candidate {
  seed: Uint8Array;
  /** rmsnorm of the last position after the screen's partial forward pass (fewer-layers screen). */
  partial?: Float64Array;
}

export interface Prepared {
  /** The screen's guess of the fingerprint (version 2); the permutation follows from it. */
  fp: Uint32Array;
  /** Higher means more likely appropriate, for the permutation with these keys. */
  score(keys: Uint32Array): number;
}

export interface Screen {
  readonly name: string;
  /** FLOPs per screened candidate. */
  cost(world: AuditWorld): number;
  /** Layers the candidate's partial forward pass runs (fewer-layers screen), else 0. */
  readonly partialLayers: (world: AuditWorld) => number;
  prepare(world: AuditWorld, k: Knowledge, candidate: Candidate): Prepared;
}

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

function quadratic(m: Float64Array, g: Float64Array): number {
  const d = g.length;
  let s = 0;
  for (let a = 0; a < d; a++) {
    let row = 0;
    for (let b = 0; b < d; b++) row += m[a * d + b]! * g[b]!;
    s += g[a]! * row;
  }
  return s;
}

/** g = Ucᵀ·t: the permuted target seen from the hidden state, so that z_c·t = h·g. */
function targetInHidden(world: AuditWorld, keys: Uint32Array): Float64Array {
  const { vocab: V, dModel: d } = world.config;
  const t = world.permutedTarget(keys);
  const g = new Float64Array(d);
  for (let j = 0; j < V; j++) {
    const tj = t[j]!;
    for (let k = 0; k < d; k++) g[k]! += world.uc[j * d + k]! * tj;
  }
  return g;
}

/** Fingerprint of Uc·h from its first FINGERPRINT_BITS rows only. */
function fingerprintOfHidden(world: AuditWorld, h: Float64Array): Uint32Array {
  const d = world.config.dModel;
  const zc = new Float64Array(FINGERPRINT_BITS);
  for (let j = 0; j < FINGERPRINT_BITS; j++) zc[j] = dot(world.uc.subarray(j * d, (j + 1) * d), h);
  return world.fingerprintOf(zc);
}

const permuteCost = (w: AuditWorld) => 3 * w.config.vocab;
const projectCost = (w: AuditWorld) => 2 * w.config.vocab * w.config.dModel + 2 * w.config.dModel ** 2 + permuteCost(w);

/** a. Mean-output screen: the permuted mean logits against the target. */
export const meanScreen: Screen = {
  name: 'mean-screen',
  cost: permuteCost,
  partialLayers: () => 0,
  prepare: (world, k) => ({
    fp: k.fpMajority,
    score: (keys) => dot(k.muZc, world.permutedTarget(keys)),
  }),
};

/** b. Projection screen: the mean term over the predicted spread, a Gaussian tail score. */
export const projectionScreen: Screen = {
  name: 'projection-screen',
  cost: projectCost,
  partialLayers: () => 0,
  prepare: (world, k) => ({
    fp: k.fpMajority,
    score: (keys) => {
      const g = targetInHidden(world, keys);
      return (dot(k.muH, g) - world.cosThreshold * k.norm) / Math.sqrt(quadratic(k.covH, g));
    },
  }),
};

/** b'. Variance screen: nonces whose permuted target lies most inside the output subspace. */
export const varianceScreen: Screen = {
  name: 'variance-screen',
  cost: projectCost,
  partialLayers: () => 0,
  prepare: (world, k) => ({ fp: k.fpMajority, score: (keys) => quadratic(k.covH, targetInHidden(world, keys)) }),
};

/** c. Linear predictor: h regressed on the nonce's input, then scored as the projection screen. */
export const linearScreen: Screen = {
  name: 'linear-predictor',
  cost: (w) => 2 * (w.config.seqLen * w.config.dModel + 1) * w.config.dModel + 2 * FINGERPRINT_BITS * w.config.dModel + projectCost(w),
  partialLayers: () => 0,
  prepare: (world, k, candidate) => {
    const lin = k.linear!;
    const d = world.config.dModel;
    const h = predictLinear(lin.a, lin.features, features(world, candidate.seed, new Float64Array(lin.features)), d);
    return {
      fp: fingerprintOfHidden(world, h),
      score: (keys) => {
        const g = targetInHidden(world, keys);
        return (dot(h, g) - world.cosThreshold * k.norm) / Math.sqrt(quadratic(lin.covRes, g));
      },
    };
  },
};

/** f. Fewer layers: the first L' layers and the head, as a cheap stand-in for the whole model. */
export const fewerLayersScreen: Screen = {
  name: 'fewer-layers',
  cost: (w) => (fewerLayers(w) / w.config.layers) * (w.passFlops - 2 * w.config.vocab * w.config.dModel) + projectCost(w),
  partialLayers: (w) => fewerLayers(w),
  prepare: (world, _k, candidate) => {
    const h = candidate.partial!;
    const zc = world.centredLogits(h);
    const norm = Math.sqrt(dot(zc, zc));
    return { fp: world.fingerprintOf(zc), score: (keys) => dot(zc, world.permutedTarget(keys)) / norm };
  },
};

/** L' = a quarter of the layers, at least one. */
export const fewerLayers = (w: AuditWorld): number => Math.max(1, Math.floor(w.config.layers / 4));

export const SCREENS: readonly Screen[] = [meanScreen, projectionScreen, varianceScreen, linearScreen, fewerLayersScreen];
