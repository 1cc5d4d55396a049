/**
 * UI state of the volunteer's Sprint view. The protocol peer is src/app's BrowserRuntime; this
 * store only decides when it runs and copies its snapshots (`snapshot`), so it holds state, not
 * the engine or the node.
 *
 * Taking part: Start sets `participating` (the settings store's participation, kept in
 * localStorage), so a reloaded page resumes by
 * itself, also with a locked wallet (the runtime searches with the public key and asks for the
 * passphrase only to sign). It needs a genesis (network.json) and a stored wallet.
 *
 * Participation (src/app/participation.ts) decides when the GPU works: Start/Stop, pause while on
 * battery, stop after N minutes. The store keeps one Participation for the page, saves its settings,
 * hands it to the runtime as the search's gate (a paused search waits inside the Sprint; Stop aborts
 * the Worker's run at once through its signal), and halts the runtime when it turns off. Intensity
 * is saved in the settings and passed to the runtime (BrowserRuntime.setIntensity). `samples` is
 * work per second, measured from the tries counted between two samples a second apart, for the chart.
 *
 * Tabs: the runtime runs only while this tab holds the `sprintnet-gpu` Web Lock (gpu-lock.ts),
 * so one browser is one protocol peer; other tabs say another tab is contributing and offer to
 * take over (the runtime there resumes the same Sprint from the shared IndexedDB store). When a
 * newer tab upgrades the `sprintnet` database, this page stops and asks for a reload.
 */
import { create } from 'zustand';
import { BrowserRuntime, type BrowserSnapshot, type RunGate, type RuntimeIssue, type WalletKeys } from '../../app/browser-runtime.ts';
import { browserBattery, createParticipation, type Participation, type ParticipationState } from '../../app/participation.ts';
import type { WorkSample } from '../contribute/format.ts';
import { keyOfPeer } from '../../app/transport.ts';
import { initialBackendChoice, saveBackendChoice } from '../../cpu/backend-setting.ts';
import type { BackendChoice } from '../../cpu/backend.ts';
import { GpuError, formatBytes, type GpuErrorCode } from '../../gpu/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { fromHex } from '../../sprint/bytes.ts';
import { StorageError } from '../../wallet/index.ts';
import { getDb, useStorageStore } from '../storage/store.ts';
import { getNode, useNetworkStore } from '../network/store.ts';
import { noticeTabs, onTabNotice } from '../tabs/channel.ts';
import { gpuLock, type GpuLease } from '../tabs/gpu-lock.ts';
import { getWallet, useWalletStore } from '../wallet/store.ts';
import { getContributeSettings, getParticipation, useSettingsStore } from '../settings/store.ts';

/** `preparing` also covers a runtime waiting for the wallet's first unlock (snapshot.status 'needs-unlock'). */
export type SprintStatus = 'loading' | 'idle' | 'preparing' | 'running' | 'stopping' | 'error';

export interface SprintUiError {
  /** GpuError code (NO_WEBGPU, DEVICE_LOST, …), StorageError code (QUOTA_EXCEEDED, …), or STORAGE / UNKNOWN. */
  readonly code: string;
  readonly title: string;
  readonly message: string;
}

export interface SprintUiState {
  status: SprintStatus;
  /** Setting: which backend runs the engine (auto: the CPU without WebGPU or on a software adapter). */
  backend: BackendChoice;
  /** The volunteer asked to take part (kept across reloads). */
  participating: boolean;
  /** The runtime's latest snapshot, or null when none runs. */
  snapshot: BrowserSnapshot | null;
  error: SprintUiError | null;
  /** Another tab holds the GPU lock: it is contributing, and this tab offers to take over. */
  gpuElsewhere: boolean;
  /** This tab stopped because another tab took the GPU over. */
  takenOver: boolean;
  /** When the GPU may work and why (null until init). */
  participation: ParticipationState | null;
  /** Duty cycle 0.1 … 1, saved in the settings. */
  intensity: number;
  /** Work per second, oldest first, the last SAMPLE_WINDOW_MS. */
  samples: WorkSample[];

  init(): Promise<void>;
  /** Saved in this browser; the next engine build uses it. */
  chooseBackend(backend: BackendChoice): void;
  /** Takes part in the network's Sprints (refused while another tab holds the GPU). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Takes the GPU from the tab that holds it and takes part here. */
  takeOver(): Promise<void>;
  /** Changes the duty cycle now (the running search too) and saves it. */
  setIntensity(value: number): void;
  setPauseOnBattery(on: boolean): void;
  /** null: no limit; ParticipationError BAD_SETTING for a bad value. */
  setStopAfterMinutes(minutes: number | null): void;
}

/** How often an idle tab re-checks whether the GPU lock was freed (a tab closed without a notice). */
const HOLDER_POLL_MS = 3000;
const SAMPLE_EVERY_MS = 1000;
const SAMPLE_WINDOW_MS = 10 * 60_000;

let runtime: BrowserRuntime | null = null;
let lease: GpuLease | null = null;
let initialising: Promise<void> | null = null;
let participation: Participation | null = null;
const gateListeners = new Set<() => void>();
/** The search's gate: participation's signal (no participation yet: run, as before init). */
const gate: RunGate = {
  runSignal: () => (participation ? participation.runSignal() : new AbortController().signal),
  subscribe(listener) {
    gateListeners.add(listener);
    return () => gateListeners.delete(listener);
  },
};

/** Test hook (engine-test-handle.ts): the lost-device test pulls the GPU from under the engine. */
export function currentRuntime(): BrowserRuntime | null {
  return runtime;
}

/** The stored wallet as the runtime sees it: its public key (known while locked) and lazy secrets. */
function walletKeys(): WalletKeys | null {
  const w = getWallet();
  const hex = w?.info ? keyOfPeer(w.info.peerId) : null;
  if (!w || !hex) return null;
  return {
    publicKey: fromHex(hex, 32, 'BAD_PUBLIC_KEY', 'wallet public key'),
    unlocked: () => (w.state === 'unlocked' ? { ed25519Seed: w.identity.ed25519Seed, blsSecretKey: w.identity.blsSecretKey } : null),
    subscribe: (listener) => w.subscribe(() => listener()),
  };
}

const ENGINE_MESSAGES: Partial<Record<GpuErrorCode, (m: string) => Omit<SprintUiError, 'code'>>> = {
  NO_WEBGPU: (m) => ({
    title: 'No WebGPU',
    message: `This browser cannot give Sprintnet a GPU: ${m}. Use Chrome or Edge 113+ on https or localhost, with hardware acceleration on, or choose the CPU backend.`,
  }),
  NO_ADAPTER: (m) => ({ title: 'No WebGPU', message: `No GPU adapter: ${m}. Choose the CPU backend, or enable hardware acceleration.` }),
  DEVICE_LOST: (m) => ({
    title: 'GPU device lost',
    message: `The GPU stopped (driver reset, another tab or the system took it back). Everything found is saved and the search resumes on a rebuilt engine. (${m})`,
  }),
  INSUFFICIENT_LIMITS: (m) => ({ title: 'GPU too limited', message: `This GPU's WebGPU limits are below what the model needs: ${m}` }),
};

export function describeError(e: unknown): SprintUiError {
  if (e instanceof StorageError) {
    switch (e.code) {
      case 'QUOTA_EXCEEDED':
        return quotaError();
      case 'UPGRADED_ELSEWHERE':
        return { code: e.code, title: 'Sprintnet was updated in another tab', message: 'Reload this page to continue; this page can save nothing more.' };
      default:
        return { code: e.code, title: 'Storage unavailable', message: `Progress cannot be saved: ${e.message}. Reload the page.` };
    }
  }
  if (e instanceof GpuError) {
    if (e.code === 'INSUFFICIENT_MEMORY') {
      return {
        code: e.code,
        title: 'Out of GPU memory',
        message: `The model does not fit in this GPU's memory${e.details.requiredBytes ? ` (needs ${formatBytes(e.details.requiredBytes)})` : ''}. Close other GPU-heavy tabs, or choose the CPU backend. (${e.message})`,
      };
    }
    const known = ENGINE_MESSAGES[e.code];
    return { code: e.code, ...(known ? known(e.message) : { title: 'Engine error', message: e.message }) };
  }
  return { code: 'UNKNOWN', title: 'Unexpected error', message: e instanceof Error ? e.message : String(e) };
}

function quotaError(): SprintUiError {
  return {
    code: 'QUOTA_EXCEEDED',
    title: 'Storage full',
    message:
      "The browser refused to save progress: this site's storage quota is used up. The GPU was stopped so that nothing is found that cannot be saved; what was saved before is kept. Free some space (site data in the browser settings) and press Start.",
  };
}

/** The runtime's issue as the view shows it (GpuError codes keep their titles). */
export function describeIssue(issue: RuntimeIssue): SprintUiError {
  if (issue.code === 'QUOTA_EXCEEDED') return quotaError();
  if (issue.code === 'STORAGE') return { code: issue.code, title: 'Could not save progress', message: `IndexedDB refused the write: ${issue.message}` };
  const known = ENGINE_MESSAGES[issue.code as GpuErrorCode];
  if (known) return { code: issue.code, ...known(issue.message) };
  return { code: issue.code, title: issue.code === 'UNKNOWN' ? 'Unexpected error' : 'Engine error', message: issue.message };
}

export const useSprintStore = create<SprintUiState>()((set, get) => {
  let offSnapshot: (() => void) | null = null;
  let sampler: ReturnType<typeof setInterval> | undefined;

  /** One sample a second: tries counted since the last one (0 while nothing searches). */
  const startSampling = () => {
    clearInterval(sampler);
    let last: { t: number; tried: number; epoch: number } | null = null;
    sampler = setInterval(() => {
      const rt = get().snapshot?.runtime;
      const t = Date.now();
      if (!rt) return;
      const tried = rt.findsEpoch === rt.epoch ? rt.tried : 0;
      const prev = last;
      last = { t, tried, epoch: rt.epoch };
      if (!prev) return;
      const rate = rt.searching && prev.epoch === rt.epoch && tried >= prev.tried ? ((tried - prev.tried) * 1000) / (t - prev.t) : 0;
      set((s) => ({ samples: [...s.samples.filter((x) => x.t > t - SAMPLE_WINDOW_MS), { t, noncesPerSecond: rate }] }));
    }, SAMPLE_EVERY_MS);
  };

  let halting: Promise<void> | null = null;
  /** Stops the runtime (its search saves what it found) and gives the GPU back; callers during a halt share it. */
  const halt = (): Promise<void> => (halting ??= haltNow().finally(() => (halting = null)));
  const haltNow = async () => {
    const r = runtime;
    const mine = lease;
    runtime = null;
    lease = null;
    clearInterval(sampler);
    if (r) {
      set({ status: 'stopping' });
      offSnapshot?.();
      offSnapshot = null;
      await r.dispose();
    }
    mine?.release();
    if (mine) noticeTabs({ type: 'gpu', running: false });
    set((s) => ({ status: s.status === 'error' ? 'error' : 'idle' }));
  };

  const statusOf = (snap: BrowserSnapshot): SprintStatus => (snap.status === 'running' ? 'running' : snap.status === 'stopped' ? 'stopping' : 'preparing');

  /** Takes the GPU lock (refused while another tab holds it, unless `steal`), then runs the runtime. */
  const run = async (steal: boolean) => {
    const genesis = useNetworkStore.getState().genesis;
    const wallet = walletKeys();
    if (!genesis || !wallet) return;
    if (useStorageStore.getState().closed === 'versionchange') {
      set({ status: 'error', error: describeError(new StorageError('UPGRADED_ELSEWHERE', 'upgraded in another tab')) });
      return;
    }
    set({ status: 'preparing', error: null });
    const mine = await gpuLock().acquire({ steal });
    if (!mine) {
      set({ status: 'idle', gpuElsewhere: true });
      return;
    }
    lease = mine;
    set({ gpuElsewhere: false, takenOver: false, participating: true });
    useSettingsStore.getState().setParticipation(true);
    noticeTabs({ type: 'gpu', running: true });
    void mine.lost.then(() => {
      if (lease !== mine) return;
      set({ takenOver: true, gpuElsewhere: true });
      void halt();
    });
    const r = (runtime = new BrowserRuntime({
      genesis,
      wallet,
      backend: get().backend,
      intensity: get().intensity,
      runGate: gate,
      log: (line) => console.debug(`[sprint] ${line}`),
    }));
    startSampling();
    offSnapshot = r.subscribe((snapshot) => {
      if (runtime !== r) return;
      set({ snapshot, status: statusOf(snapshot), error: snapshot.issue && !snapshot.issue.recovered ? describeIssue(snapshot.issue) : get().error });
      if (snapshot.issue?.code === 'QUOTA_EXCEEDED') set({ error: quotaError() });
    });
    try {
      await r.start(getNode());
    } catch (e) {
      if (runtime === r) {
        set({ status: 'error', error: describeError(e) });
        await halt();
      }
    }
  };

  /** Whether another tab holds the GPU now (only asked while this tab does not). */
  const checkHolder = async () => {
    if (lease) return;
    const held = await gpuLock().isHeld();
    if (!lease) set({ gpuElsewhere: held });
  };

  /** Starts when everything it needs is there and the volunteer asked for it (also after a reload). */
  const maybeResume = () => {
    const s = get();
    if (s.participating && !runtime && !s.gpuElsewhere && s.status !== 'error' && s.status !== 'loading') void run(false);
  };

  /** Saves what participation decided, wakes or aborts the search, and halts when it turned off. */
  function onParticipation(p: ParticipationState): void {
    const settings = useSettingsStore.getState();
    const c = settings.contribute;
    if (c.pauseOnBattery !== p.settings.pauseOnBattery || c.stopAfterMinutes !== p.settings.stopAfterMinutes || c.startedAt !== p.startedAt) {
      settings.setContribute({ pauseOnBattery: p.settings.pauseOnBattery, stopAfterMinutes: p.settings.stopAfterMinutes, startedAt: p.startedAt });
    }
    if (settings.participation !== p.settings.enabled) settings.setParticipation(p.settings.enabled);
    set({ participation: p, participating: p.settings.enabled });
    for (const l of gateListeners) l();
    if (!p.settings.enabled && runtime) void halt();
  }

  return {
    status: 'loading',
    backend: initialBackendChoice(),
    participating: getParticipation(),
    snapshot: null,
    error: null,
    gpuElsewhere: false,
    takenOver: false,
    participation: null,
    intensity: getContributeSettings().intensity,
    samples: [],

    init() {
      // Idempotent: React StrictMode runs effects twice.
      initialising ??= (async () => {
        try {
          const db = await getDb();
          // A newer tab wants to upgrade the database: stop, so it is the one that contributes.
          db.onVersionChange(async () => {
            await halt();
          });
        } catch (e) {
          set({ error: describeError(e) });
        }
        onTabNotice((notice) => {
          if (notice.type !== 'gpu') return;
          if (notice.running && !lease) set({ gpuElsewhere: true });
          else void checkHolder().catch(() => undefined);
        });
        await checkHolder().catch(() => undefined);
        setInterval(() => {
          if (get().gpuElsewhere) void checkHolder().catch(() => undefined);
        }, HOLDER_POLL_MS);
        // The node restarts when the wallet locks or unlocks: the runtime follows it.
        useNetworkStore.subscribe((n, prev) => {
          if (n.nodeGeneration !== prev.nodeGeneration) runtime?.node.attach(getNode());
          if (n.genesis !== prev.genesis) maybeResume();
        });
        // Another wallet stored or the wallet deleted (here or in another tab): the runtime ran with the old key.
        useWalletStore.subscribe((w, prev) => {
          if (w.info?.peerId === prev.info?.peerId) return;
          if (runtime) void halt().then(maybeResume);
          else maybeResume();
        });
        participation = createParticipation({
          battery: browserBattery(),
          settings: {
            enabled: get().participating,
            pauseOnBattery: getContributeSettings().pauseOnBattery,
            stopAfterMinutes: getContributeSettings().stopAfterMinutes,
          },
          startedAt: getContributeSettings().startedAt,
          onChange: onParticipation,
        });
        onParticipation(participation.state);
        set({ status: 'idle' });
        maybeResume();
      })();
      return initialising;
    },

    chooseBackend(backend) {
      if (runtime) return;
      saveBackendChoice(backend);
      set({ backend });
    },

    async start() {
      const { status } = get();
      if (runtime || (status !== 'idle' && status !== 'error')) return;
      participation?.setEnabled(true);
      set({ participating: true, samples: [] });
      return run(false);
    },

    async stop() {
      // Aborts the Worker's run now (the gate's signal); halt then leaves the network and frees the engine.
      participation?.setEnabled(false);
      useSettingsStore.getState().setParticipation(false);
      set({ participating: false });
      await halt();
    },

    async takeOver() {
      const { status } = get();
      if (runtime || (status !== 'idle' && status !== 'error')) return;
      participation?.setEnabled(true);
      return run(true);
    },

    setIntensity(value) {
      useSettingsStore.getState().setContribute({ intensity: value });
      runtime?.setIntensity(value);
      set({ intensity: value });
    },

    setPauseOnBattery(on) {
      participation?.setPauseOnBattery(on);
    },

    setStopAfterMinutes(minutes) {
      participation?.setStopAfterMinutes(minutes);
    },
  };
});

/** What the view needs to know before it can take part: a genesis and a wallet. */
export function readiness(
  network: { networkKnown: boolean; genesis: Genesis | null; genesisProblem: string | null },
  walletStatus: string,
): 'loading' | 'no-network' | 'bad-genesis' | 'no-wallet' | 'ready' {
  if (!network.networkKnown) return 'loading';
  if (network.genesisProblem) return 'bad-genesis';
  if (!network.genesis) return 'no-network';
  if (walletStatus === 'loading') return 'loading';
  if (walletStatus === 'none') return 'no-wallet';
  return 'ready';
}
