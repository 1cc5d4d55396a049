/**
 * UI state of the volunteer's Sprint view: which config, building the engine (with per-phase
 * progress), the search (live stats, found nonces), and typed errors. The engine runs in a
 * dedicated Worker (EngineClient); this store only drives it and mirrors what it reports, and
 * saves the practice Sprint after every report so a reload resumes where it stopped.
 *
 * Tabs: the GPU runs only while this tab holds the `sprintnet-gpu` Web Lock (gpu-lock.ts);
 * otherwise the view says another tab is contributing and offers to take over. Saves merge with
 * the stored Sprint (practice.ts), and when a newer tab upgrades the database the search stops
 * and its last finds are saved before the connection closes.
 */
import { create } from 'zustand';
import { EngineClient, type EngineInfo, type WorkerSprintProgress } from '../../gpu/engine-client.ts';
import { GpuError, formatBytes } from '../../gpu/errors.ts';
import type { BuildPhase } from '../../gpu/transformer.ts';
import type { ConfigName } from '../../sprint/config.ts';
import { initialBackendChoice, saveBackendChoice } from '../../cpu/backend-setting.ts';
import type { BackendChoice } from '../../cpu/backend.ts';
import { StorageError } from '../../wallet/index.ts';
import { getDb } from '../storage/store.ts';
import { noticeTabs, onTabNotice } from '../tabs/channel.ts';
import { gpuLock, type GpuLease } from '../tabs/gpu-lock.ts';
import { getWallet } from '../wallet/store.ts';
import {
  clearOtherPractice,
  ephemeralKey,
  fromHex,
  loadCurrentPractice,
  loadPractice,
  mergeFound,
  mergePractice,
  newPracticeSprint,
  savePractice,
  type HostKey,
  type PracticeSprint,
} from './practice.ts';

export type SprintStatus = 'loading' | 'idle' | 'preparing' | 'running' | 'stopping' | 'error';

export type BuildProgress = Record<BuildPhase, number>;

export interface SprintUiError {
  /** GpuError code (NO_WEBGPU, DEVICE_LOST, …), StorageError code (QUOTA_EXCEEDED, …), or STORAGE / UNKNOWN. */
  readonly code: string;
  readonly title: string;
  readonly message: string;
}

export interface SprintUiState {
  status: SprintStatus;
  /** Config of the next Sprint started. */
  config: ConfigName;
  /** Setting: which backend runs the engine (auto: the CPU without WebGPU or on a software adapter). */
  backend: BackendChoice;
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
  /** Another tab holds the GPU lock: it is contributing, and this tab offers to take over. */
  gpuElsewhere: boolean;
  /** This tab stopped because another tab took the GPU over. */
  takenOver: boolean;

  init(): Promise<void>;
  chooseConfig(config: ConfigName): void;
  /** Saved in this browser; the next engine build uses it. */
  chooseBackend(backend: BackendChoice): void;
  /** Resumes the current practice Sprint, or starts a new one when there is none or the config changed. */
  start(): Promise<void>;
  /** Starts a new practice Sprint (new random seed) with the chosen config. */
  startNew(): Promise<void>;
  stop(): Promise<void>;
  /** Takes the GPU from the tab that holds it and continues the latest saved practice Sprint here. */
  takeOver(): Promise<void>;
}

const NO_BUILD: BuildProgress = { autotune: 0, weights: 0, compile: 0 };

/** Worker and what it currently holds: rebuilt only when the config or seed changes. */
let client: EngineClient | null = null;
let loadedFor: string | null = null;
let initialising: Promise<void> | null = null;
/** Saves run one after another; each merges with the stored Sprint, so none can undo another. */
let saving: Promise<void> = Promise.resolve();
/** This tab's hold on the GPU lock while it builds or searches. */
let lease: GpuLease | null = null;
/** The run in progress (lock held), settled when its last save is queued. */
let running: Promise<void> | null = null;
/** Rejects the engine build in progress (stop, take-over, storage failure). */
let cancelBuild: (() => void) | null = null;
/** Set by stop / take-over / storage failure; the run checks it before each GPU step. */
let haltRequested = false;
/** How often an idle tab re-checks whether the GPU lock was freed (a tab closed without a notice). */
const HOLDER_POLL_MS = 3000;

class BuildCancelled extends Error {
  constructor() {
    super('engine build cancelled');
  }
}

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
  if (e instanceof StorageError) {
    switch (e.code) {
      case 'QUOTA_EXCEEDED':
        return {
          code: e.code,
          title: 'Storage full',
          message:
            "The browser refused to save progress: this site's storage quota is used up. The GPU was stopped so that nothing is found that cannot be saved; the finds shown are kept on this page. Free some space (site data in the browser settings) and press Start: they are saved first.",
        };
      case 'UPGRADED_ELSEWHERE':
        return { code: e.code, title: 'Sprintnet was updated in another tab', message: 'Reload this page to continue; this page can save nothing more.' };
      default:
        return { code: e.code, title: 'Storage unavailable', message: `Progress cannot be saved: ${e.message}. Reload the page.` };
    }
  }
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

/** Progress reports arrive every ~250 ms; the resume point need not hit IndexedDB that often. */
const SAVE_RESUME_EVERY_MS = 2000;

export const useSprintStore = create<SprintUiState>()((set, get) => {
  /** Stops using the GPU: aborts a search (it resolves and saves), or cancels a build. */
  const halt = async () => {
    haltRequested = true;
    const { status } = get();
    if (status === 'running') {
      set({ status: 'stopping' });
      await client?.abort();
    } else if (status === 'preparing') {
      // Building cannot be interrupted half way: drop the worker, the GPU memory goes with it.
      cancelBuild?.();
      dropEngine();
    }
  };

  /** A save failed: the search stops, so that nothing is found that cannot be kept. */
  const storageFailed = (e: unknown) => {
    const error = e instanceof StorageError ? describeError(e) : { code: 'STORAGE', title: 'Could not save progress', message: `IndexedDB refused the write: ${e instanceof Error ? e.message : String(e)}` };
    set({ error });
    void halt();
  };

  /** Queues a merge-save of `sprint`; the merged result (maybe with other tabs' finds) is shown. Resolves false on failure. */
  const persist = (sprint: PracticeSprint): Promise<boolean> => {
    const done = saving.then(async () => {
      try {
        const merged = await savePractice(sprint);
        set((s) => (s.sprint?.sprintId === merged.sprintId ? { sprint: mergePractice(s.sprint, merged) } : {}));
        noticeTabs({ type: 'practice-saved', sprintId: merged.sprintId });
        return true;
      } catch (e) {
        storageFailed(e);
        return false;
      }
    });
    saving = done.then(() => undefined);
    return done;
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
        void persist(next);
      }
    }
  };

  const dropEngine = () => {
    void client?.terminate();
    client = null;
    loadedFor = null;
  };

  const ensureEngine = async (sprint: PracticeSprint) => {
    const wanted = `${sprint.config}:${sprint.sprintSeedHex}:${get().backend}`;
    if (client && loadedFor === wanted) return;
    client ??= new EngineClient((message) => {
      dropEngine();
      set({ status: 'error', error: { code: 'WORKER', title: 'Engine worker crashed', message } });
    });
    loadedFor = null;
    set({ status: 'preparing', build: { ...NO_BUILD }, buildPhase: null, engine: null });
    const cancelled = new Promise<never>((_, reject) => (cancelBuild = () => reject(new BuildCancelled())));
    try {
      const engine = await Promise.race([
        client.create({ config: sprint.config, sprintSeed: fromHex(sprint.sprintSeedHex), backend: get().backend }, (phase, fraction) =>
          set((s) => ({ buildPhase: phase, build: { ...s.build, [phase]: fraction } })),
        ),
        cancelled,
      ]);
      loadedFor = wanted;
      set({ engine });
    } finally {
      cancelBuild = null;
    }
  };

  /** Builds (if needed) and searches `requested`, merged with what other tabs saved of it. Lock held. */
  const search = async (requested: PracticeSprint, clearOthers: boolean) => {
    set({ sprint: mergePractice(requested, get().sprint), error: null });
    let stored: PracticeSprint | null;
    try {
      stored = await loadPractice(requested.sprintId);
    } catch (e) {
      set({ status: 'error', error: describeError(e) });
      return;
    }
    // Save first: it checks that storage works before any GPU time is spent, and keeps unsaved finds.
    if (!(await persist(mergePractice(get().sprint ?? requested, stored)))) {
      set({ status: 'error' });
      return;
    }
    if (clearOthers) saving = saving.then(() => clearOtherPractice(requested.sprintId)).catch(() => undefined);
    const sprint = get().sprint ?? requested;
    set({ runStart: sprint.nextNonce, runTried: 0, noncesPerSecond: 0 });
    try {
      if (haltRequested) throw new BuildCancelled();
      await ensureEngine(sprint);
      if (haltRequested) throw new BuildCancelled();
      set({ status: 'running' });
      const result = await client!.runSprint({ publicKey: fromHex(sprint.publicKeyHex), startNonce: sprint.nextNonce }, onProgress);
      const current = get().sprint ?? sprint;
      const done = { ...current, nextNonce: Math.max(current.nextNonce, result.nextNonce), found: mergeFound(current.found, result.found) };
      set({ sprint: done, status: 'idle', runStart: done.nextNonce, runTried: 0 });
      void persist(done);
    } catch (e) {
      const current = get().sprint ?? sprint;
      if (e instanceof BuildCancelled) {
        set({ status: 'idle', buildPhase: null, runStart: current.nextNonce, runTried: 0 });
        return;
      }
      const details = e instanceof GpuError ? e.details : {};
      const saved = { ...current, nextNonce: Math.max(current.nextNonce, details.nextNonce ?? 0), found: mergeFound(current.found, details.found ?? []) };
      // The live count may include nonces whose results were lost with the device: show the saved point.
      set({ sprint: saved, status: 'error', error: describeError(e), runStart: saved.nextNonce, runTried: 0 });
      void persist(saved);
      // A lost device or a failed build leaves nothing worth keeping in the worker.
      dropEngine();
    }
  };

  /** Takes the GPU lock (refused while another tab holds it, unless `steal`), then searches. */
  const run = async (sprint: PracticeSprint, opts: { steal?: boolean; clearOthers?: boolean } = {}) => {
    haltRequested = false;
    set({ status: 'preparing', build: { ...NO_BUILD }, buildPhase: null });
    const mine = await gpuLock().acquire({ steal: opts.steal });
    if (!mine) {
      set({ status: 'idle', gpuElsewhere: true });
      return;
    }
    lease = mine;
    set({ gpuElsewhere: false, takenOver: false });
    noticeTabs({ type: 'gpu', running: true });
    void mine.lost.then(() => {
      if (lease !== mine) return;
      set({ takenOver: true, gpuElsewhere: true });
      void halt(); // the search resolves with everything it found, and is saved
    });
    const current = search(sprint, opts.clearOthers === true);
    running = current;
    try {
      await current;
    } finally {
      if (running === current) running = null;
      // Taken over: free the GPU memory for the tab that now runs the GPU.
      if (get().takenOver) dropEngine();
      mine.release();
      if (lease === mine) lease = null;
      noticeTabs({ type: 'gpu', running: false });
    }
  };

  /** Whether another tab holds the GPU now (only asked while this tab does not). */
  const checkHolder = async () => {
    if (lease) return;
    const held = await gpuLock().isHeld();
    if (!lease) set({ gpuElsewhere: held });
  };

  /** Shows the latest saved practice Sprint (another tab saved progress) while this tab is idle. */
  const showLatest = async () => {
    if (lease) return;
    const latest = await loadCurrentPractice();
    if (!latest || lease) return;
    set((s) => ({ sprint: s.sprint?.sprintId === latest.sprintId ? mergePractice(latest, s.sprint) : latest, config: latest.config as ConfigName }));
  };

  return {
    status: 'loading',
    config: 'tiny',
    backend: initialBackendChoice(),
    build: { ...NO_BUILD },
    buildPhase: null,
    engine: null,
    sprint: null,
    runStart: 0,
    runTried: 0,
    noncesPerSecond: 0,
    error: null,
    gpuElsewhere: false,
    takenOver: false,

    init() {
      // Idempotent: React StrictMode runs effects twice.
      initialising ??= (async () => {
        try {
          const db = await getDb();
          // A newer tab wants to upgrade the database: stop, save the last finds, then let it close.
          db.onVersionChange(async () => {
            await halt();
            await running;
            await saving;
          });
          const saved = await loadCurrentPractice(db);
          set({ sprint: saved, config: (saved?.config as ConfigName | undefined) ?? get().config, status: 'idle' });
        } catch (e) {
          set({ status: 'idle', error: e instanceof StorageError ? describeError(e) : { code: 'STORAGE', title: 'Saved Sprint unavailable', message: `Could not read saved progress: ${e instanceof Error ? e.message : String(e)}` } });
        }
        onTabNotice((notice) => {
          if (notice.type === 'gpu') {
            if (notice.running && !lease) set({ gpuElsewhere: true });
            else void checkHolder().catch(() => undefined);
          } else if (notice.type === 'practice-saved') {
            void showLatest().catch(() => undefined);
          }
        });
        await checkHolder().catch(() => undefined);
        setInterval(() => {
          if (get().gpuElsewhere) void checkHolder().catch(() => undefined);
        }, HOLDER_POLL_MS);
      })();
      return initialising;
    },

    chooseConfig(config) {
      if (get().status === 'idle' || get().status === 'error') set({ config });
    },

    chooseBackend(backend) {
      if (get().status !== 'idle' && get().status !== 'error' && get().status !== 'loading') return;
      saveBackendChoice(backend);
      set({ backend });
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
      return run(newPracticeSprint(config, hostKey()), { clearOthers: true });
    },

    async stop() {
      await halt();
    },

    async takeOver() {
      const { status, config } = get();
      if (status !== 'idle' && status !== 'error') return;
      let latest: PracticeSprint | null;
      try {
        latest = await loadCurrentPractice();
      } catch (e) {
        set({ status: 'error', error: describeError(e) });
        return;
      }
      if (latest) {
        set({ config: latest.config as ConfigName });
        return run(latest, { steal: true });
      }
      return run(newPracticeSprint(config, hostKey()), { steal: true, clearOthers: true });
    },
  };
});
