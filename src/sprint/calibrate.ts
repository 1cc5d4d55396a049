/**
 * Hit-rate calibration (spec §11), end to end: real nonces of a fixed calibration host go through
 * the whole task (seeds, input noise, forward pass, fingerprint, permutation, distance), and the
 * number of appropriate ones must lie inside the central 99.9% binomial interval of N·p.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { SprintConfig } from './config.ts';
import { utf8 } from './bytes.ts';
import { binomialUpperTail, DEFAULT_HIT_RATE, rTarget } from './difficulty.ts';
import { evaluateNonces, ReferenceModel } from './reference.ts';

export const CALIBRATION_SPRINT_SEED = sha256(utf8('sprintnet/calibration-sprint'));
export const CALIBRATION_PUBLIC_KEY = sha256(utf8('sprintnet/calibration-host'));

export interface CalibrationOptions {
  nonces: number;
  /** First nonce; runs with disjoint ranges can be added up. */
  start?: number;
  hitRate?: number;
  sprintSeed?: Uint8Array;
  onProgress?: (done: number, total: number) => void;
}

export interface CalibrationResult {
  config: string;
  nonces: number;
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

/** Distances of consecutive nonces of the calibration host: any engine that implements the task. */
export type CalibrationDistances = (nonces: readonly number[]) => Promise<ArrayLike<number>>;

/** Calibration on the float64 reference (spec §11), synchronously. */
export function calibrate(config: SprintConfig, options: CalibrationOptions): CalibrationResult {
  const sprintSeed = options.sprintSeed ?? CALIBRATION_SPRINT_SEED;
  const model = new ReferenceModel(config, sprintSeed, config.layers <= 8);
  const r = rTarget(config, options.hitRate ?? DEFAULT_HIT_RATE);
  let hits = 0;
  forEachBatch(config, options, (nonces) => {
    hits += evaluateNonces(config, sprintSeed, CALIBRATION_PUBLIC_KEY, nonces, model).filter((e) => e.distance < r).length;
  });
  return result(config, options, hits);
}

/**
 * The same calibration on a faster engine (the CPU or WebGPU backend), which must hold the weights of
 * `options.sprintSeed` (default CALIBRATION_SPRINT_SEED) and evaluate for CALIBRATION_PUBLIC_KEY.
 */
export async function calibrateWith(
  config: SprintConfig,
  options: CalibrationOptions,
  distances: CalibrationDistances,
  batch = 4096,
): Promise<CalibrationResult> {
  const r = rTarget(config, options.hitRate ?? DEFAULT_HIT_RATE);
  let hits = 0;
  const start = options.start ?? 0;
  for (let done = 0; done < options.nonces;) {
    const nonces = Array.from({ length: Math.min(batch, options.nonces - done) }, (_, i) => start + done + i);
    const d = await distances(nonces);
    for (let i = 0; i < nonces.length; i++) if (d[i]! < r) hits++;
    done += nonces.length;
    options.onProgress?.(done, options.nonces);
  }
  return result(config, options, hits);
}

function forEachBatch(config: SprintConfig, options: CalibrationOptions, run: (nonces: number[]) => void): void {
  const batch = config.layers > 8 ? 16 : 1024;
  const start = options.start ?? 0;
  for (let done = 0; done < options.nonces;) {
    const nonces = Array.from({ length: Math.min(batch, options.nonces - done) }, (_, i) => start + done + i);
    run(nonces);
    done += nonces.length;
    options.onProgress?.(done, options.nonces);
  }
}

function result(config: SprintConfig, options: CalibrationOptions, hits: number): CalibrationResult {
  const p = options.hitRate ?? DEFAULT_HIT_RATE;
  const interval = binomialInterval(options.nonces, p);
  return {
    config: config.name,
    nonces: options.nonces,
    hits,
    rate: hits / options.nonces,
    p,
    interval,
    withinInterval: hits >= interval[0] && hits <= interval[1],
  };
}
