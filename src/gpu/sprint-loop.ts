/**
 * The Sprint loop both engines share (WebGPU in ./transformer.ts, CPU in ../cpu/engine.ts):
 * consecutive nonces in batches until the duration, maxNonces or the signal ends the Sprint,
 * appropriate nonces collected as batches complete, progress after every batch.
 *
 * Intensity (a duty cycle d): at d = 1 the runner keeps its pipeline full for the whole Sprint. At
 * d < 1 the loop hands the runner one batch at a time, measures that batch's wall time (busy) and
 * rests busy·(1−d)/d before the next, so the device is busy a fraction d of the time. A rest ends
 * early on abort, at the Sprint's duration, or when d rises, since d is read again every slice.
 */
import { DEFAULT_HIT_RATE, rTarget } from '../sprint/difficulty.ts';
import type { SprintConfig } from '../sprint/config.ts';
import { FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import { PERMUTATION_ROUNDS } from '../sprint/seeds.ts';
import type { IntensitySource, NonceInspection, SprintOptions, SprintResult } from './engine-types.ts';
import { GpuError, type FoundNonce } from './errors.ts';

/**
 * Runs batches from `next` in order and hands each one's distances to `onBatch`, until `next` gives
 * null or the signal aborts. It must have reported every batch it took before it resolves: at
 * intensity < 1 the loop calls it once per batch and rests between calls, and the device must be
 * idle during a rest.
 */
export type BatchRunner = (next: () => readonly number[] | null, onBatch: (nonces: readonly number[], distances: Float32Array) => void) => Promise<void>;

/** What a failed Sprint had done, for the engine to turn into its resumable error. */
export interface SprintSoFar {
  readonly found: FoundNonce[];
  readonly tried: number;
  readonly nextNonce: number;
}

export const MIN_INTENSITY = 0.1;
export const MAX_INTENSITY = 1;
/** Longest single wait of a rest: how soon a raised intensity takes effect. */
const REST_SLICE_MS = 100;

export function checkIntensity(value: unknown): number {
  if (typeof value !== 'number' || !(value >= MIN_INTENSITY && value <= MAX_INTENSITY)) {
    throw new GpuError('BAD_ARGUMENT', `intensity must be a number from ${MIN_INTENSITY} to ${MAX_INTENSITY}, got ${String(value)}`);
  }
  return value;
}

/** A duty cycle to change while a Sprint runs: pass it as `SprintOptions.intensity`, then `set()`. */
export class IntensityControl implements IntensitySource {
  private current: number;
  constructor(initial = MAX_INTENSITY) {
    this.current = checkIntensity(initial);
  }
  get value(): number {
    return this.current;
  }
  set(value: number): void {
    this.current = checkIntensity(value);
  }
}

/** The loop's clock and rest; tests pass a virtual one so that timing is exact. */
export interface LoopTiming {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realTiming: LoopTiming = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
    }),
};

export async function runSprintLoop(
  config: SprintConfig,
  batch: number,
  options: SprintOptions,
  run: BatchRunner,
  onFailure: (error: unknown, soFar: SprintSoFar) => unknown,
  timing: LoopTiming = realTiming,
): Promise<SprintResult> {
  const source = options.intensity;
  const intensity = (): number => checkIntensity(source === undefined ? MAX_INTENSITY : typeof source === 'number' ? source : source.value);
  intensity();
  const start = options.startNonce ?? 0;
  const threshold = rTarget(config, options.hitRate ?? DEFAULT_HIT_RATE);
  const found: FoundNonce[] = [...(options.found ?? [])];
  const began = timing.now();
  const elapsed = () => timing.now() - began;
  let cursor = start;
  let tried = 0;
  let busyMs = 0;
  let stoppedBy: SprintResult['stoppedBy'] = 'duration';
  let ended = false;
  // A segment is one call of the runner: the whole Sprint at d = 1, a single batch at d < 1.
  let segmentOpen = false;
  const stopReason = (): SprintResult['stoppedBy'] | null => {
    if (options.signal?.aborted) return 'abort';
    if (options.maxNonces !== undefined && cursor - start >= options.maxNonces) return 'maxNonces';
    if (options.durationMs !== undefined && elapsed() >= options.durationMs) return 'duration';
    return null;
  };
  const next = (): number[] | null => {
    if (!segmentOpen) return null;
    const reason = stopReason();
    if (reason) {
      stoppedBy = reason;
      ended = true;
      return null;
    }
    if (intensity() < MAX_INTENSITY) segmentOpen = false;
    const count = Math.min(batch, (options.maxNonces ?? Infinity) - (cursor - start));
    return Array.from({ length: count }, () => cursor++);
  };
  // A timer fires late under load, so a rest runs over what was asked; the next rest is shortened
  // by that much (at most one slice), or the busy fraction would drift below d on a busy machine.
  let overslept = 0;
  const rest = async (busy: number) => {
    const from = timing.now();
    for (;;) {
      const reason = stopReason();
      if (reason === 'abort' || reason === 'maxNonces') return;
      const d = intensity();
      const owed = (busy * (1 - d)) / d - overslept;
      const rested = timing.now() - from;
      let remaining = owed - rested;
      if (options.durationMs !== undefined) remaining = Math.min(remaining, options.durationMs - elapsed());
      if (remaining <= 0) {
        overslept = d < MAX_INTENSITY ? Math.min(REST_SLICE_MS, Math.max(0, rested - Math.max(0, owed))) : 0;
        return;
      }
      await timing.sleep(Math.min(remaining, REST_SLICE_MS), options.signal);
    }
  };
  // The rest follows the last batch alone: a segment that ran flat out before d was lowered must
  // not be paid back with one long rest. In a pipeline that batch's time is the gap since the one before.
  let segmentStart = 0;
  let batchesInSegment = 0;
  let lastBatchFrom = 0;
  let lastBatchEnd = 0;
  const onBatch = (nonces: readonly number[], distances: Float32Array) => {
    lastBatchFrom = batchesInSegment++ === 0 ? segmentStart : lastBatchEnd;
    lastBatchEnd = timing.now();
    const newlyFound: FoundNonce[] = [];
    distances.forEach((distance, i) => {
      if (distance < threshold) newlyFound.push({ nonce: nonces[i]!, distance });
    });
    found.push(...newlyFound);
    tried += nonces.length;
    options.onProgress?.({
      noncesTried: tried,
      found: found.length,
      noncesPerSecond: (tried * 1000) / elapsed(),
      elapsedMs: elapsed(),
      nextNonce: start + tried,
      newlyFound,
    });
  };
  try {
    for (;;) {
      segmentOpen = true;
      batchesInSegment = 0;
      segmentStart = timing.now();
      await run(next, onBatch);
      const segmentEnd = timing.now();
      busyMs += segmentEnd - segmentStart;
      // segmentOpen still true: the runner returned without asking for the end (it saw the abort).
      if (ended || segmentOpen || options.signal?.aborted) break;
      await rest(segmentEnd - (batchesInSegment > 1 ? lastBatchFrom : segmentStart));
    }
  } catch (e) {
    throw onFailure(e, { found, tried, nextNonce: start + tried });
  }
  if (options.signal?.aborted) stoppedBy = 'abort';
  const ms = elapsed();
  return { found, noncesTried: tried, nextNonce: start + tried, elapsedMs: ms, noncesPerSecond: (tried * 1000) / ms, busyMs, stoppedBy };
}

/** A runner's `next` over a fixed list: its nonces in order, `batch` at a time, then null. */
export function inBatches(nonces: readonly number[], batch: number): () => readonly number[] | null {
  let cursor = 0;
  return () => (cursor < nonces.length ? nonces.slice(cursor, (cursor += batch)) : null);
}

/**
 * Runs `nonces` in batches and gathers what the output stage wrote per nonce: `infoWords` words
 * each, the fingerprint first, then the permutation keys (both engines use this layout).
 */
export async function collectInspection(
  nonces: readonly number[],
  batch: number,
  infoWords: number,
  run: (next: () => readonly number[] | null, onBatch: (nonces: readonly number[], distances: Float32Array, info: Uint32Array) => void) => Promise<void>,
): Promise<NonceInspection> {
  const distances = new Float32Array(nonces.length);
  const fingerprints = new Uint32Array(nonces.length * FINGERPRINT_WORDS);
  const keys = new Uint32Array(nonces.length * PERMUTATION_ROUNDS);
  let written = 0;
  await run(inBatches(nonces, batch), (done, batchDistances, info) => {
    distances.set(batchDistances, written);
    done.forEach((_, b) => {
      const words = info.subarray(b * infoWords, (b + 1) * infoWords);
      fingerprints.set(words.subarray(0, FINGERPRINT_WORDS), (written + b) * FINGERPRINT_WORDS);
      keys.set(words.subarray(FINGERPRINT_WORDS, FINGERPRINT_WORDS + PERMUTATION_ROUNDS), (written + b) * PERMUTATION_ROUNDS);
    });
    written += done.length;
  });
  return { distances, fingerprints, keys };
}
