/**
 * The Sprint loop both engines share (WebGPU in ./transformer.ts, CPU in ../cpu/engine.ts):
 * consecutive nonces in batches until the duration, maxNonces or the signal ends the Sprint,
 * appropriate nonces collected as batches complete, progress after every batch.
 */
import { DEFAULT_HIT_RATE, rTarget } from '../sprint/difficulty.ts';
import type { SprintConfig } from '../sprint/config.ts';
import type { SprintOptions, SprintResult } from './engine-types.ts';
import type { FoundNonce } from './errors.ts';

/** Runs batches from `next` in order and hands each one's distances to `onBatch`. */
export type BatchRunner = (
  next: () => readonly number[] | null,
  onBatch: (nonces: readonly number[], distances: Float32Array) => void,
) => Promise<void>;

/** What a failed Sprint had done, for the engine to turn into its resumable error. */
export interface SprintSoFar {
  readonly found: FoundNonce[];
  readonly tried: number;
  readonly nextNonce: number;
}

export async function runSprintLoop(
  config: SprintConfig,
  batch: number,
  options: SprintOptions,
  run: BatchRunner,
  onFailure: (error: unknown, soFar: SprintSoFar) => unknown,
): Promise<SprintResult> {
  const start = options.startNonce ?? 0;
  const threshold = rTarget(config, options.hitRate ?? DEFAULT_HIT_RATE);
  const found: FoundNonce[] = [...(options.found ?? [])];
  const began = performance.now();
  const elapsed = () => performance.now() - began;
  let cursor = start;
  let tried = 0;
  let stoppedBy: SprintResult['stoppedBy'] = 'duration';
  const next = (): number[] | null => {
    if (options.signal?.aborted) stoppedBy = 'abort';
    else if (options.maxNonces !== undefined && cursor - start >= options.maxNonces) stoppedBy = 'maxNonces';
    else if (options.durationMs !== undefined && elapsed() >= options.durationMs) stoppedBy = 'duration';
    else {
      const count = Math.min(batch, (options.maxNonces ?? Infinity) - (cursor - start));
      return Array.from({ length: count }, () => cursor++);
    }
    return null;
  };
  try {
    await run(next, (nonces, distances) => {
      const newlyFound: FoundNonce[] = [];
      distances.forEach((distance, i) => {
        if (distance < threshold) newlyFound.push({ nonce: nonces[i]!, distance });
      });
      found.push(...newlyFound);
      tried += nonces.length;
      options.onProgress?.({ noncesTried: tried, found: found.length, noncesPerSecond: (tried * 1000) / elapsed(), elapsedMs: elapsed(), nextNonce: start + tried, newlyFound });
    });
  } catch (e) {
    throw onFailure(e, { found, tried, nextNonce: start + tried });
  }
  if (options.signal?.aborted) stoppedBy = 'abort';
  const ms = elapsed();
  return { found, noncesTried: tried, nextNonce: start + tried, elapsedMs: ms, noncesPerSecond: (tried * 1000) / ms, stoppedBy };
}
