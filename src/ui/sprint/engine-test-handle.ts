/**
 * `window.__sprintnetEngine`: a handle for end-to-end tests to run the engine Worker directly,
 * installed only when the page URL has `?engine-test` (never in normal use). `evaluate` builds a
 * fresh engine in a fresh Worker, evaluates the nonces and tears everything down; `loseDevice`
 * pulls the GPU from under the Sprint runtime's engine to exercise recovery; `snapshot` is the
 * runtime's latest snapshot (finds, ledger), for tests that compare finds across a reload.
 */
import { EngineClient, type EngineInfo } from '../../gpu/engine-client.ts';
import type { BrowserSnapshot } from '../../app/browser-runtime.ts';
import { currentRuntime, useSprintStore } from './store.ts';

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

export interface EngineTestResult {
  readonly distances: number[];
  readonly info: EngineInfo;
  readonly readyMs: number;
  readonly evaluateMs: number;
  /** Build phases in the order their progress was first reported. */
  readonly phases: string[];
}

export interface EngineTestHandle {
  /** `backend` defaults to webgpu, so that the WebGPU tests stay on WebGPU. */
  evaluate(config: string, sprintSeedHex: string, publicKeyHex: string, nonces: number[], backend?: 'auto' | 'webgpu' | 'cpu'): Promise<EngineTestResult>;
  /** Destroys the GPU device of the Sprint runtime's engine, as a driver reset would. */
  loseDevice(): Promise<void>;
  snapshot(): BrowserSnapshot | null;
}

declare global {
  interface Window {
    __sprintnetEngine?: EngineTestHandle;
  }
}

export function installEngineTestHandle(): void {
  if (typeof window === 'undefined' || !new URLSearchParams(window.location.search).has('engine-test')) return;
  window.__sprintnetEngine = {
    async evaluate(config, sprintSeedHex, publicKeyHex, nonces, backend = 'webgpu') {
      const client = new EngineClient();
      const phases: string[] = [];
      try {
        const t0 = performance.now();
        const info = await client.create({ config, sprintSeed: hexBytes(sprintSeedHex), batch: nonces.length, backend }, (phase) => {
          if (!phases.includes(phase)) phases.push(phase);
        });
        const t1 = performance.now();
        const distances = await client.evaluateNonces(hexBytes(publicKeyHex), nonces);
        return { distances: Array.from(distances), info, readyMs: t1 - t0, evaluateMs: performance.now() - t1, phases };
      } finally {
        await client.terminate();
      }
    },
    loseDevice: () => currentRuntime()?.loseDeviceForTesting() ?? Promise.resolve(),
    snapshot: () => useSprintStore.getState().snapshot,
  };
}
