/**
 * Main-thread handle on the engine Worker (./engine-worker.ts). Wraps Comlink so callers pass
 * plain callbacks, and turns the worker's wire errors back into GpuError with code and details.
 */
import * as Comlink from 'comlink';
import { GpuError, type GpuErrorCode } from './errors.ts';
import type { BuildPhase } from './transformer.ts';
import type {
  EngineInfo,
  EngineWorkerApi,
  WireError,
  WorkerEngineOptions,
  WorkerSprintOptions,
  WorkerSprintProgress,
  WorkerSprintResult,
} from './engine-worker.ts';

export type { EngineInfo, WorkerEngineOptions, WorkerSprintOptions, WorkerSprintProgress, WorkerSprintResult } from './engine-worker.ts';

const isWireError = (e: unknown): e is WireError => typeof e === 'object' && e !== null && (e as WireError).wireError === true;

function fromWire(e: unknown): unknown {
  if (!isWireError(e)) return e;
  const code: GpuErrorCode = e.code === 'UNKNOWN' ? 'VALIDATION' : e.code;
  const message = e.code === 'UNKNOWN' ? `engine worker failed: ${e.message}` : e.message;
  return new GpuError(code, message, { found: e.found, nextNonce: e.nextNonce, noncesTried: e.noncesTried, requiredBytes: e.requiredBytes });
}

async function unwrap<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw fromWire(e);
  }
}

export class EngineClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<EngineWorkerApi>;

  /** `onCrash`: the worker itself failed (script error, out of memory): pending calls may never settle. */
  constructor(onCrash?: (message: string) => void) {
    this.worker = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: 'sprintnet-engine' });
    if (onCrash) this.worker.addEventListener('error', (e) => onCrash(e.message || 'the engine worker stopped unexpectedly'));
    this.remote = Comlink.wrap<EngineWorkerApi>(this.worker);
  }

  create(options: WorkerEngineOptions, onProgress?: (phase: BuildPhase, fraction: number) => void): Promise<EngineInfo> {
    return unwrap(this.remote.create(options, onProgress && Comlink.proxy(onProgress)));
  }

  evaluateNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<Float32Array> {
    return unwrap(this.remote.evaluateNonces(publicKey, [...nonces]));
  }

  runSprint(options: WorkerSprintOptions, onProgress?: (p: WorkerSprintProgress) => void): Promise<WorkerSprintResult> {
    return unwrap(this.remote.runSprint(options, onProgress && Comlink.proxy(onProgress)));
  }

  /** Duty cycle in [0.1, 1] for the running Sprint and later ones; GpuError BAD_ARGUMENT outside. */
  setIntensity(value: number): Promise<void> {
    return unwrap(this.remote.setIntensity(value));
  }

  /** Asks the running Sprint to stop; its runSprint promise resolves with stoppedBy 'abort'. */
  abort(): Promise<void> {
    return unwrap(this.remote.abort());
  }

  /** Destroys the worker's GPU device, as a driver reset would: for end-to-end tests of recovery. */
  loseDeviceForTesting(): Promise<void> {
    return unwrap(this.remote.loseDeviceForTesting());
  }

  /** Frees the GPU and ends the worker. The client is unusable afterwards. */
  async terminate(): Promise<void> {
    try {
      await Promise.race([this.remote.destroy(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    } finally {
      this.remote[Comlink.releaseProxy]();
      this.worker.terminate();
    }
  }
}
