/**
 * Hit-rate calibration (spec §11): the fraction of (model output, permutation) samples whose
 * distance is below r_target must match p. The permutation dominates the randomness, so each
 * output is reused with many permutation keys; each permutation is built once and applied to
 * every output.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { vocabBits, type SprintConfig } from './config.ts';
import { concatBytes, u64le, utf8 } from './bytes.ts';
import { binomialUpperTail, DEFAULT_HIT_RATE, rTarget } from './difficulty.ts';
import { permutationTable } from './permutation.ts';
import { inputSeed, nodeSeed, permutationKeys, tokensFromInputSeed } from './seeds.ts';
import { ReferenceModel } from './reference.ts';

const CALIBRATION_PERM_TAG = utf8('sprintnet/calibration-perm');

export interface CalibrationOptions {
  outputs: number;
  permutationsPerOutput: number;
  hitRate?: number;
  sprintSeed?: Uint8Array;
  onProgress?: (phase: 'model' | 'permutations', done: number, total: number) => void;
}

export interface CalibrationResult {
  config: string;
  outputs: number;
  samples: number;
  hits: number;
  rate: number;
  p: number;
  /** Two-sided 99.9% binomial acceptance interval for the hit count. */
  interval: [number, number];
  withinInterval: boolean;
}

/** Smallest k with P[X ≥ k] ≤ a/2 and largest k with P[X ≤ k] ≤ a/2, i.e. the central 1 − a interval. */
export function binomialInterval(n: number, p: number, a = 1e-3): [number, number] {
  const mean = n * p;
  let hi = Math.ceil(mean);
  while (binomialUpperTail(hi + 1, n, p) > a / 2) hi++;
  let lo = Math.floor(mean);
  while (lo > 0 && 1 - binomialUpperTail(lo, n, p) > a / 2) lo--;
  return [lo, Math.min(n, hi)];
}

/** Centred, unit-norm model outputs (logits) for `count` nonces of a fixed calibration host. */
export function sampleOutputs(model: ReferenceModel, sprintSeed: Uint8Array, count: number, onDone?: (n: number) => void): Float64Array[] {
  const c = model.config;
  const ns = nodeSeed(sha256(utf8('sprintnet/calibration-host')));
  const outputs: Float64Array[] = [];
  const batch = c.layers > 8 ? 4 : 64;
  for (let start = 0; start < count; start += batch) {
    const nonces = Array.from({ length: Math.min(batch, count - start) }, (_, i) => start + i);
    const states = nonces.map((n) => model.embed(tokensFromInputSeed(c, inputSeed(sprintSeed, ns, n))));
    for (const x of model.runLayers(states, 0, c.layers)) outputs.push(centreAndNormalise(model.logits(x)));
    onDone?.(outputs.length);
  }
  return outputs;
}

function centreAndNormalise(z: Float64Array): Float64Array {
  const mean = z.reduce((s, v) => s + v, 0) / z.length;
  const y = z.map((v) => v - mean);
  const norm = Math.sqrt(y.reduce((s, v) => s + v * v, 0));
  return y.map((v) => v / norm);
}

export function calibrate(config: SprintConfig, options: CalibrationOptions): CalibrationResult {
  const p = options.hitRate ?? DEFAULT_HIT_RATE;
  const sprintSeed = options.sprintSeed ?? sha256(utf8('sprintnet/calibration-sprint'));
  const model = new ReferenceModel(config, sprintSeed, config.layers <= 8);
  const outputs = sampleOutputs(model, sprintSeed, options.outputs, (n) => options.onProgress?.('model', n, options.outputs));
  const tau = model.target.unit;
  const cosThreshold = 1 - rTarget(config, p) ** 2 / 2; // d < r  ⇔  cos > 1 − r²/2
  const bits = vocabBits(config);
  const perm = new Uint32Array(config.vocab);
  let hits = 0;
  let sample = 0;
  // Every sample gets its own permutation, as every real nonce does: sharing one permutation across
  // outputs would correlate the samples (model outputs share structure) and overdisperse the count.
  for (let k = 0; k < options.permutationsPerOutput; k++) {
    for (const y of outputs) {
      const keys = permutationKeys(sha256(concatBytes(CALIBRATION_PERM_TAG, u64le(sample++))));
      permutationTable(bits, keys, perm);
      let cos = 0;
      for (let i = 0; i < config.vocab; i++) cos += y[perm[i]] * tau[i];
      if (cos > cosThreshold) hits++;
    }
    if (k % 100 === 99) options.onProgress?.('permutations', k + 1, options.permutationsPerOutput);
  }
  const samples = outputs.length * options.permutationsPerOutput;
  const interval = binomialInterval(samples, p);
  return {
    config: config.name, outputs: outputs.length, samples, hits, rate: hits / samples, p, interval,
    withinInterval: hits >= interval[0] && hits <= interval[1],
  };
}
