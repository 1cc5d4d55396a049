/**
 * Dedicated Worker entry of the GPU engine (browser only: WebGPU through navigator.gpu). The page
 * keeps its main thread for the UI; this worker owns the SprintEngine, and speaks Comlink:
 * progress arrives through callbacks the page wraps in Comlink.proxy, and a Sprint stops on
 * `abort()` (an AbortSignal cannot cross the worker boundary).
 *
 * Errors cross as plain objects (see `toWireError`): Comlink would otherwise keep only the
 * message of a GpuError and drop its code and details (found nonces, resume point).
 */
import * as Comlink from 'comlink';
import { browserTuneCache } from './gpu-browser.ts';
import { GpuError, type FoundNonce, type GpuErrorCode } from './errors.ts';
import { SprintEngine, type BuildPhase } from './transformer.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import { createSprintEngine, type AnySprintEngine } from '../cpu/select.ts';
import { CpuSprintEngine } from '../cpu/engine.ts';
import type { SprintResult } from './engine-types.ts';
import { IntensityControl } from './sprint-loop.ts';
import { variantName } from './shaders/matmul.wgsl.ts';
import { adapterLabel } from './device.ts';

export interface WorkerEngineOptions {
  readonly config: string;
  readonly sprintSeed: Uint8Array;
  readonly batch?: number;
  readonly autotune?: boolean;
  readonly memoryBudgetBytes?: number;
  /** auto (default), webgpu or cpu (src/cpu, WebAssembly SIMD in nested Workers). */
  readonly backend?: BackendChoice;
}

export interface EngineInfo {
  /** The backend that runs, and why (docs/cpu-backend.md "Selection"). */
  readonly backend: 'webgpu' | 'cpu';
  readonly backendReason: string;
  /** CPU backend: compute threads; null on WebGPU. */
  readonly threads: number | null;
  readonly config: string;
  readonly batch: number;
  readonly adapter: string;
  readonly isFallbackAdapter: boolean;
  readonly weightBytes: number;
  readonly variant: string;
}

export interface WorkerSprintOptions {
  readonly publicKey: Uint8Array;
  readonly startNonce?: number;
  /** Found before (a resumed Sprint): kept in the result and in DEVICE_LOST details. */
  readonly found?: readonly FoundNonce[];
  readonly durationMs?: number;
  readonly maxNonces?: number;
  readonly hitRate?: number;
  /** Duty cycle in [0.1, 1]; omitted: the last one set (setIntensity), 1 at first. */
  readonly intensity?: number;
}

export interface WorkerSprintProgress {
  /** Nonces evaluated by this run (not counting a resumed Sprint's earlier runs). */
  readonly noncesTried: number;
  readonly noncesPerSecond: number;
  readonly elapsedMs: number;
  /** Resume point: every nonce below it (from startNonce) has been evaluated and its result reported. */
  readonly nextNonce: number;
  /** Appropriate nonces found since the previous progress report. */
  readonly newlyFound: readonly FoundNonce[];
}

/** Same shape as the engine's result: it crosses the worker boundary by structured clone. */
export type WorkerSprintResult = SprintResult;

export interface WireError {
  readonly wireError: true;
  readonly code: GpuErrorCode | 'UNKNOWN';
  readonly message: string;
  readonly found?: readonly FoundNonce[];
  readonly nextNonce?: number;
  readonly noncesTried?: number;
  readonly requiredBytes?: number;
}

/** Progress reaches the page at most this often; finds in between are batched, never dropped. */
const REPORT_EVERY_MS = 250;

let engine: AnySprintEngine | null = null;
let running: AbortController | null = null;
/** Kept across Sprints: the volunteer's setting outlives one Sprint. */
const intensity = new IntensityControl();

function toWireError(e: unknown): WireError {
  if (e instanceof GpuError) {
    const { found, nextNonce, noncesTried, requiredBytes } = e.details;
    return { wireError: true, code: e.code, message: e.message, found, nextNonce, noncesTried, requiredBytes };
  }
  return { wireError: true, code: 'UNKNOWN', message: e instanceof Error ? e.message : String(e) };
}

/** Runs `fn`, rethrowing any failure as a structured-cloneable WireError. */
async function wire<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toWireError(e);
  }
}

function requireEngine(): AnySprintEngine {
  if (!engine) throw new GpuError('BAD_ARGUMENT', 'no engine: call create() first');
  return engine;
}

const api = {
  /** Builds the engine (replacing any previous one); `onProgress` hears autotune, weights, compile. */
  create(options: WorkerEngineOptions, onProgress?: (phase: BuildPhase, fraction: number) => void): Promise<EngineInfo> {
    return wire(async () => {
      running?.abort();
      engine?.destroy();
      engine = null;
      const created = await createSprintEngine({
        backend: options.backend ?? 'auto',
        config: options.config,
        sprintSeed: options.sprintSeed,
        batch: options.batch,
        autotune: options.autotune,
        memoryBudgetBytes: options.memoryBudgetBytes,
        tuneCache: browserTuneCache(),
        onProgress: (phase, fraction) => void onProgress?.(phase, fraction),
      });
      engine = created.engine;
      const common = { config: engine.config.name, batch: engine.batch, weightBytes: engine.weightBytes, backendReason: created.decision.reason };
      if (engine instanceof CpuSprintEngine) {
        return {
          ...common,
          backend: 'cpu',
          threads: engine.threads,
          adapter: engine.description,
          isFallbackAdapter: created.decision.adapter?.software ?? false,
          variant: engine.variant,
        };
      }
      const a = engine.adapter;
      return { ...common, backend: 'webgpu', threads: null, adapter: adapterLabel(a), isFallbackAdapter: a.isFallback, variant: variantName(engine.variant) };
    });
  },

  /** Distances of `nonces` for `publicKey`, in order. */
  evaluateNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<Float32Array> {
    return wire(async () => {
      const distances = await requireEngine().evaluateNonces(publicKey, nonces);
      return Comlink.transfer(distances, [distances.buffer as ArrayBuffer]);
    });
  },

  /** Searches consecutive nonces until duration, maxNonces or abort(); one Sprint at a time. */
  runSprint(options: WorkerSprintOptions, onProgress?: (p: WorkerSprintProgress) => void): Promise<WorkerSprintResult> {
    return wire(async () => {
      const e = requireEngine();
      if (running) throw new GpuError('BAD_ARGUMENT', 'a Sprint is already running in this worker');
      if (options.intensity !== undefined) intensity.set(options.intensity);
      const controller = new AbortController();
      running = controller;
      let pending: FoundNonce[] = [];
      let lastReport = 0;
      try {
        const result = await e.runSprint({
          publicKey: options.publicKey,
          startNonce: options.startNonce,
          found: options.found,
          maxNonces: options.maxNonces,
          durationMs: options.durationMs,
          hitRate: options.hitRate,
          signal: controller.signal,
          intensity,
          onProgress: (p) => {
            pending.push(...p.newlyFound);
            const now = performance.now();
            if (pending.length === 0 && now - lastReport < REPORT_EVERY_MS) return;
            lastReport = now;
            const newlyFound = pending;
            pending = [];
            void onProgress?.({ noncesTried: p.noncesTried, noncesPerSecond: p.noncesPerSecond, elapsedMs: p.elapsedMs, nextNonce: p.nextNonce, newlyFound });
          },
        });
        return { ...result };
      } finally {
        running = null;
      }
    });
  },

  /** Changes the duty cycle of the running Sprint (from its next batch or rest slice) and of later ones. */
  setIntensity(value: number): Promise<void> {
    return wire(async () => intensity.set(value));
  },

  /** Stops the running Sprint after the batches in flight; its runSprint call then resolves. */
  abort(): void {
    running?.abort();
  },

  /** Destroys the GPU device under the engine, as a driver reset would (end-to-end tests of recovery). */
  loseDeviceForTesting(): void {
    if (engine instanceof SprintEngine) engine.device.device.destroy();
  },

  destroy(): void {
    running?.abort();
    engine?.destroy();
    engine = null;
  },
};

export type EngineWorkerApi = typeof api;

Comlink.expose(api);
