/**
 * The Sprint loop both engines share (WebGPU in ./transformer.ts, CPU in ../cpu/engine.ts):
 * consecutive nonces in batches until the duration, maxNonces or the signal ends the Sprint,
 * appropriate nonces collected as batches complete, progress after every batch.
 */
import { DEFAULT_HIT_RATE, rTarget } from '../sprint/difficulty.ts';
import type { SprintConfig } from '../sprint/config.ts';
import { FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import { PERMUTATION_ROUNDS } from '../sprint/seeds.ts';
import type { NonceInspection, SprintOptions, SprintResult } from './engine-types.ts';
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
  let cursor = 0;
  let written = 0;
  await run(
    () => (cursor < nonces.length ? nonces.slice(cursor, (cursor += batch)) : null),
    (done, batchDistances, info) => {
      distances.set(batchDistances, written);
      done.forEach((_, b) => {
        const words = info.subarray(b * infoWords, (b + 1) * infoWords);
        fingerprints.set(words.subarray(0, FINGERPRINT_WORDS), (written + b) * FINGERPRINT_WORDS);
        keys.set(words.subarray(FINGERPRINT_WORDS, FINGERPRINT_WORDS + PERMUTATION_ROUNDS), (written + b) * PERMUTATION_ROUNDS);
      });
      written += done.length;
    },
  );
  return { distances, fingerprints, keys };
}
