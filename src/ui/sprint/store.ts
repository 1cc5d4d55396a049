/**
 * UI state of the volunteer's Sprint view: which config, building the engine (with per-phase
 * progress), the search (live stats, found nonces), and typed errors. The engine runs in a
 * dedicated Worker (EngineClient); this store only drives it and mirrors what it reports, and
 * saves the practice Sprint after every report so a reload resumes where it stopped.
 */
import { create } from 'zustand';
import { EngineClient, type EngineInfo, type WorkerSprintProgress } from '../../gpu/engine-client.ts';
import { GpuError, formatBytes, type FoundNonce } from '../../gpu/errors.ts';
import type { BuildPhase } from '../../gpu/transformer.ts';
import type { ConfigName } from '../../sprint/config.ts';
import { getWallet } from '../wallet/store.ts';
import { clearOtherPractice, ephemeralKey, fromHex, loadCurrentPractice, newPracticeSprint, savePractice, type HostKey, type PracticeSprint } from './practice.ts';

export type SprintStatus = 'loading' | 'idle' | 'preparing' | 'running' | 'stopping' | 'error';

export type BuildProgress = Record<BuildPhase, number>;

export interface SprintUiError {
  /** GpuError code (NO_WEBGPU, DEVICE_LOST, INSUFFICIENT_MEMORY, …) or STORAGE / UNKNOWN. */
  readonly code: string;
  readonly title: string;
  readonly message: string;
}

export interface SprintUiState {
  status: SprintStatus;
  /** Config of the next Sprint started. */
  config: ConfigName;
  build: BuildProgress;
  buildPhase: BuildPhase | null;
  engine: EngineInfo | null;
  /** The current (or saved) practice Sprint, with everything found so far. */
  sprint: PracticeSprint | null;
  /** First nonce of the current run, nonces evaluated in it so far, and the rate. */
  runStart: number;
  runTried: number;
  noncesPerSecond: number;
  error: SprintUiError | null;

  init(): Promise<void>;
  chooseConfig(config: ConfigName): void;
  /** Resumes the current practice Sprint, or starts a new one when there is none or the config changed. */
  start(): Promise<void>;
  /** Starts a new practice Sprint (new random seed) with the chosen config. */
  startNew(): Promise<void>;
  stop(): Promise<void>;
}

const NO_BUILD: BuildProgress = { autotune: 0, weights: 0, compile: 0 };

/** Worker and what it currently holds: rebuilt only when the config or seed changes. */
let client: EngineClient | null = null;
let loadedFor: string | null = null;
let initialising: Promise<void> | null = null;
/** Saves run one after another, so an older state never lands after a newer one. */
let saving: Promise<void> = Promise.resolve();

/** The unlocked wallet's key, else a throwaway one. */
function hostKey(): HostKey {
  const wallet = getWallet();
  if (wallet?.state === 'unlocked') {
    return { publicKey: wallet.identity.publicKey.slice(), source: 'wallet', address: wallet.info?.address };
  }
  return ephemeralKey();
}

/** Test hook (see engine-test-handle.ts): the running engine's GPU device is destroyed. */
export function loseDeviceForTesting(): Promise<void> {
  return client?.loseDeviceForTesting() ?? Promise.resolve();
}

export function describeError(e: unknown): SprintUiError {
  if (e instanceof GpuError) {
    switch (e.code) {
      case 'NO_WEBGPU':
      case 'NO_ADAPTER':
        return { code: e.code, title: 'No WebGPU', message: `This browser cannot give Sprintnet a GPU: ${e.message}. Use Chrome or Edge 113+ on https or localhost, with hardware acceleration on.` };
      case 'DEVICE_LOST':
        return { code: e.code, title: 'GPU device lost', message: `The GPU stopped (driver reset, another tab or the system took it back). Everything found is saved; press Start to resume. (${e.message})` };
      case 'INSUFFICIENT_MEMORY':
        return {
          code: e.code,
          title: 'Out of GPU memory',
          message: `The model does not fit in this GPU's memory${e.details.requiredBytes ? ` (needs ${formatBytes(e.details.requiredBytes)})` : ''}. Close other GPU-heavy tabs, or choose the tiny config. (${e.message})`,
        };
      case 'INSUFFICIENT_LIMITS':
        return { code: e.code, title: 'GPU too limited', message: `This GPU's WebGPU limits are below what the model needs: ${e.message}` };
      default:
        return { code: e.code, title: 'Engine error', message: e.message };
    }
  }
  return { code: 'UNKNOWN', title: 'Unexpected error', message: e instanceof Error ? e.message : String(e) };
}

function mergeFound(a: readonly FoundNonce[], b: readonly FoundNonce[]): FoundNonce[] {
  const seen = new Set(a.map((f) => f.nonce));
  return [...a, ...b.filter((f) => !seen.has(f.nonce))].sort((x, y) => x.nonce - y.nonce);
}

/** Progress reports arrive every ~250 ms; the resume point need not hit IndexedDB that often. */
const SAVE_RESUME_EVERY_MS = 2000;

export const useSprintStore = create<SprintUiState>()((set, get) => {
  const persist = (sprint: PracticeSprint) => {
    saving = saving
      .then(() => savePractice(sprint))
      .catch((e: unknown) => set({ error: { code: 'STORAGE', title: 'Could not save progress', message: `IndexedDB refused the write: ${e instanceof Error ? e.message : String(e)}` } }));
  };

  /**
   * Records progress in the store. Finds go to disk at once; the resume point alone is saved at
   * most every SAVE_RESUME_EVERY_MS (losing it costs only re-searching those nonces after a reload).
   */
  let resumeSavedAt = 0;
  const onProgress = (p: WorkerSprintProgress) => {
    const sprint = get().sprint;
    if (!sprint) return;
    set({ runTried: p.noncesTried, noncesPerSecond: p.noncesPerSecond });
    if (p.nextNonce > sprint.nextNonce || p.newlyFound.length > 0) {
      const next = { ...sprint, nextNonce: Math.max(sprint.nextNonce, p.nextNonce), found: mergeFound(sprint.found, p.newlyFound) };
      set({ sprint: next });
      const now = Date.now();
      if (p.newlyFound.length > 0 || now - resumeSavedAt >= SAVE_RESUME_EVERY_MS) {
        resumeSavedAt = now;
        persist(next);
      }
    }
  };

  const dropEngine = () => {
    void client?.terminate();
    client = null;
    loadedFor = null;
  };

  const ensureEngine = async (sprint: PracticeSprint) => {
    const wanted = `${sprint.config}:${sprint.sprintSeedHex}`;
    if (client && loadedFor === wanted) return;
    client ??= new EngineClient((message) => {
      dropEngine();
      set({ status: 'error', error: { code: 'WORKER', title: 'Engine worker crashed', message } });
    });
    loadedFor = null;
    set({ status: 'preparing', build: { ...NO_BUILD }, buildPhase: null, engine: null });
    const engine = await client.create({ config: sprint.config, sprintSeed: fromHex(sprint.sprintSeedHex) }, (phase, fraction) =>
      set((s) => ({ buildPhase: phase, build: { ...s.build, [phase]: fraction } })),
    );
    loadedFor = wanted;
    set({ engine });
  };

  const run = async (sprint: PracticeSprint) => {
    set({ sprint, error: null, runStart: sprint.nextNonce, runTried: 0, noncesPerSecond: 0 });
    persist(sprint);
    try {
      await ensureEngine(sprint);
      set({ status: 'running' });
      const result = await client!.runSprint({ publicKey: fromHex(sprint.publicKeyHex), startNonce: sprint.nextNonce }, onProgress);
      const current = get().sprint ?? sprint;
      const done = { ...current, nextNonce: Math.max(current.nextNonce, result.nextNonce), found: mergeFound(current.found, result.found) };
      set({ sprint: done, status: 'idle', runStart: done.nextNonce, runTried: 0 });
      persist(done);
    } catch (e) {
      const details = e instanceof GpuError ? e.details : {};
      const current = get().sprint ?? sprint;
      const saved = { ...current, nextNonce: Math.max(current.nextNonce, details.nextNonce ?? 0), found: mergeFound(current.found, details.found ?? []) };
      // The live count may include nonces whose results were lost with the device: show the saved point.
      set({ sprint: saved, status: 'error', error: describeError(e), runStart: saved.nextNonce, runTried: 0 });
      persist(saved);
      // A lost device or a failed build leaves nothing worth keeping in the worker.
      dropEngine();
    }
  };

  return {
    status: 'loading',
    config: 'tiny',
    build: { ...NO_BUILD },
    buildPhase: null,
    engine: null,
    sprint: null,
    runStart: 0,
    runTried: 0,
    noncesPerSecond: 0,
    error: null,

    init() {
      // Idempotent: React StrictMode runs effects twice.
      initialising ??= (async () => {
        try {
          const saved = await loadCurrentPractice();
          set({ sprint: saved, config: (saved?.config as ConfigName | undefined) ?? get().config, status: 'idle' });
        } catch (e) {
          set({ status: 'idle', error: { code: 'STORAGE', title: 'Saved Sprint unavailable', message: `Could not read saved progress: ${e instanceof Error ? e.message : String(e)}` } });
        }
      })();
      return initialising;
    },

    chooseConfig(config) {
      if (get().status === 'idle' || get().status === 'error') set({ config });
    },

    async start() {
      const { status, sprint, config } = get();
      if (status !== 'idle' && status !== 'error') return;
      if (sprint && sprint.config === config) return run(sprint);
      return get().startNew();
    },

    async startNew() {
      const { status, config } = get();
      if (status !== 'idle' && status !== 'error') return;
      const sprint = newPracticeSprint(config, hostKey());
      saving = saving.then(() => clearOtherPractice(sprint.sprintId)).catch(() => undefined);
      return run(sprint);
    },

    async stop() {
      const { status } = get();
      if (status === 'running') {
        set({ status: 'stopping' });
        await client?.abort();
      } else if (status === 'preparing') {
        // Building cannot be interrupted half way: drop the worker, the GPU memory goes with it.
        dropEngine();
        set({ status: 'idle', buildPhase: null });
      }
    },
  };
});
