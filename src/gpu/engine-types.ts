/** Options and results of SprintEngine (src/gpu/transformer.ts), kept apart so the engine file stays readable. */
import type { SprintConfig } from '../sprint/config.ts';
import type { TuneCache } from './autotune.ts';
import type { FoundNonce } from './errors.ts';
import type { MatmulVariant } from './shaders/matmul.wgsl.ts';
import type { OutputMode } from './shaders/output.wgsl.ts';
import type { ScreenCounts, ScreenMargins } from './screen.ts';

export type BuildPhase = 'autotune' | 'weights' | 'compile';

export interface EngineOptions {
  readonly config: SprintConfig | string;
  readonly sprintSeed: Uint8Array;
  /** WebGPU entry: navigator.gpu by default; in Node pass `await getGpu()` from ./gpu-node.ts. */
  readonly gpu?: GPU | null;
  /** Nonces per pass; default from the measured throughput (~0.25 s per pass) and memory. */
  readonly batch?: number;
  /** Time matmul variants (default true). `false` uses a per-adapter default; a cache skips the timing next time. */
  readonly autotune?: boolean;
  readonly tuneCache?: TuneCache;
  /** Force a matmul variant (and its weight format); skips autotuning. */
  readonly variant?: MatmulVariant;
  /** Output-stage form; default 'serial' on CPU adapters, 'workgroup' on GPUs. */
  readonly outputMode?: OutputMode;
  readonly onProgress?: (phase: BuildPhase, fraction: number) => void;
  /** Refuse to use more GPU memory than this (the adapter cannot tell how much it has). */
  readonly memoryBudgetBytes?: number;
  /** Cap on one storage binding below the adapter's limit (forces tensor splitting; for tests). */
  readonly maxBindingBytes?: number;
  /** WebGPU errors outside the engine's error scopes (they mean a bug); also in `device.uncapturedErrors`. */
  readonly onUncapturedError?: (error: GPUError) => void;
  /** The f16 screen (src/gpu/screen.ts): 'auto' (default) runs it where it pays; 'f16-emulated' for tests. */
  readonly screen?: 'auto' | 'off' | 'f16' | 'f16-emulated';
  /** Confirmation margins of the f16 screen (default DEFAULT_SCREEN_MARGINS). */
  readonly screenMargins?: ScreenMargins;
}

export type ScreenMode = 'off' | 'f16' | 'f16-emulated';

/** `SprintEngine.screen`: whether Sprints run through the f16 screen, and why. */
export interface ScreenInfo {
  readonly mode: ScreenMode;
  readonly reason: string;
  readonly variant: string | null;
  readonly projectedSpeedup: number | null;
  readonly margins: ScreenMargins;
  /** Nonces per f32 confirmation pass (0 when off). */
  readonly confirmCapacity: number;
  /** Since the engine was built: nonces screened in f16, and how many of them were confirmed in f32. */
  readonly counts: ScreenCounts;
}

export interface SprintProgress {
  readonly noncesTried: number;
  readonly found: number;
  readonly noncesPerSecond: number;
  readonly elapsedMs: number;
  /** Resume point: every nonce below it (from startNonce) was evaluated and reported. */
  readonly nextNonce: number;
  /** Appropriate nonces of the batch this report covers (so a caller can persist them at once). */
  readonly newlyFound: readonly FoundNonce[];
}

export interface SprintOptions {
  readonly publicKey: Uint8Array;
  /** Must equal the engine's seed when given (the weights belong to one Sprint). */
  readonly sprintSeed?: Uint8Array;
  readonly durationMs?: number;
  /** Stop after exactly this many nonces. */
  readonly maxNonces?: number;
  readonly onProgress?: (p: SprintProgress) => void;
  readonly signal?: AbortSignal;
  /** Resume point, e.g. GpuError.details.nextNonce after a device loss. */
  readonly startNonce?: number;
  /** Nonces found before (kept in the result). */
  readonly found?: readonly FoundNonce[];
  /** Difficulty p of spec §8 (default 1/900). */
  readonly hitRate?: number;
  /**
   * Duty cycle d in [0.1, 1] (default 1): after each batch the engine rests busy·(1−d)/d, so the
   * device is busy about a fraction d of the time. Pass an `IntensityControl` (./sprint-loop.ts)
   * to change it while the Sprint runs; it is read before every batch and during every rest.
   */
  readonly intensity?: number | IntensitySource;
}

/** A duty cycle that may change while a Sprint runs (`IntensityControl` is the checked one). */
export interface IntensitySource {
  readonly value: number;
}

export interface SprintResult {
  readonly found: FoundNonce[];
  readonly noncesTried: number;
  readonly nextNonce: number;
  readonly elapsedMs: number;
  readonly noncesPerSecond: number;
  /** Wall time spent running batches; elapsedMs − busyMs is the rest that intensity < 1 asked for. */
  readonly busyMs: number;
  readonly stoppedBy: 'duration' | 'maxNonces' | 'abort';
}

export interface ForwardOptions {
  /** Sequences of one common length n (1 ≤ n ≤ seqLen); or give `hidden`. */
  readonly tokens?: readonly (Uint32Array | readonly number[])[];
  /** Start from hidden states [sequences, seqLen, d] instead of tokens (split inference). */
  readonly hidden?: { readonly data: Float32Array; readonly sequences: number; readonly seqLen: number };
  /** Run layers [fromLayer, toLayer); default all. */
  readonly fromLayer?: number;
  readonly toLayer?: number;
  /** Layer indices ℓ whose output (the residual stream after layer ℓ) is returned in `captured`. */
  readonly capture?: readonly number[];
  /** Also return the last position's logits (final RMSNorm + LM head). */
  readonly logits?: boolean;
}

export interface ForwardResult {
  /** Residual stream after the last layer run, [sequences, seqLen, d]. */
  readonly hidden: Float32Array;
  readonly captured: Map<number, Float32Array>;
  readonly logits?: Float32Array;
}

/** `SprintEngine.inspectNonces`: what the GPU's output stage computed for each nonce. */
export interface NonceInspection {
  readonly distances: Float32Array;
  /** f0 … f3 per nonce (spec §7): bit j of word j >> 5 is z_j > mean(z), j < 128. */
  readonly fingerprints: Uint32Array;
  /** The 8 permutation keys per nonce, derived from the fingerprint and the output key. */
  readonly keys: Uint32Array;
}

/** `SprintEngine.profilePass`: medians of one-at-a-time passes of `batch` nonces, in ms. */
export interface PassProfile {
  readonly batch: number;
  /** The whole pass: hashing and upload, GPU work, readback. */
  readonly passMs: number;
  /** The pass without the layer steps: inputs (incl. input noise), head, output stage (incl. fingerprint), readback. */
  readonly outsideLayersMs: number;
  readonly outsideLayersShare: number;
  readonly passes: number;
  readonly outsidePasses: number;
}
