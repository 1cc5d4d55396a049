/**
 * Typed errors of the GPU engine. `code` is stable and machine-readable; `message` says why and,
 * for memory, how much was needed. A DEVICE_LOST error raised by a Sprint carries what the Sprint
 * had already found and the next nonce to try, so that a caller can rebuild the engine and resume.
 */
import type { FoundNonce } from '../sprint/claims.ts';

export type GpuErrorCode =
  | 'NO_WEBGPU' // no navigator.gpu / no Node binding
  | 'NO_ADAPTER' // requestAdapter() gave nothing
  | 'INSUFFICIENT_LIMITS' // adapter limits below what the model needs
  | 'INSUFFICIENT_MEMORY' // the model does not fit (out-of-memory scope, or budget)
  | 'DEVICE_LOST'
  | 'VALIDATION' // a WebGPU validation error: a bug, never expected at run time
  | 'BAD_ARGUMENT';

/** One type from the Sprint task down to the proof (src/sprint/claims.ts). */
export type { FoundNonce };

export interface GpuErrorDetails {
  /** Bytes the engine tried to allocate (INSUFFICIENT_MEMORY). */
  readonly requiredBytes?: number;
  /** Appropriate nonces found before the failure (DEVICE_LOST during a Sprint). */
  readonly found?: readonly FoundNonce[];
  /** First nonce whose result was not read back: resume from here (DEVICE_LOST during a Sprint). */
  readonly nextNonce?: number;
  /** Nonces fully evaluated before the failure. */
  readonly noncesTried?: number;
  readonly cause?: unknown;
}

export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly code: GpuErrorCode,
    message: string,
    readonly details: GpuErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

export const isGpuError = (e: unknown, code?: GpuErrorCode): e is GpuError => e instanceof GpuError && (code === undefined || e.code === code);

export const formatBytes = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
