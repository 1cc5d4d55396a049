/**
 * State of the "Run a model on this device" screen: what is loaded, load progress, the streamed
 * output and its speed, the model cache, and the device's compatibility. The model itself lives in
 * the LLM Worker (src/llm/worker.ts), started on the first load; this store talks to it through
 * LlmClient. The cache list and deletion use OPFS and the Cache API from the page (no worker needed).
 */
import { initialBackendChoice } from '../../cpu/backend-setting.ts';
import { create } from 'zustand';
import { deleteCachedModel, listCachedModels, type CachedModel, type StoreKind } from '../../llm/browser-source.ts';
import type { LoadProgress } from '../../llm/loader.ts';
import { LlmClient, type LoadedModelInfo, type ModelOrigin } from '../../llm/worker-client.ts';

export type LlmStatus = 'idle' | 'loading' | 'ready' | 'generating';

export interface Compatibility {
  readonly webgpu: boolean;
  readonly adapter: string | null;
  readonly shaderF16: boolean;
  readonly maxBufferBytes: number | null;
  readonly maxBindingBytes: number | null;
  /** navigator.deviceMemory (GiB, rounded by the browser), when the browser tells. */
  readonly deviceMemoryGiB: number | null;
  readonly problem: string | null;
}

export interface RunStats {
  readonly tokens: number;
  readonly promptTokens: number;
  readonly ttftMs: number;
  readonly decodeTokensPerSecond: number;
  readonly prefillTokensPerSecond: number;
  readonly stoppedBy: string | null;
}

export interface LlmUiState {
  status: LlmStatus;
  compat: Compatibility | null;
  progress: LoadProgress | null;
  model: LoadedModelInfo | null;
  output: string;
  /** Live while generating: tokens so far and their rate. */
  liveTokens: number;
  liveTokensPerSecond: number;
  stats: RunStats | null;
  cached: CachedModel[];
  cacheUsage: { usage: number; quota: number } | null;
  error: string | null;
  notice: string | null;
  checkCompatibility(): Promise<void>;
  load(origin: ModelOrigin, cacheAs?: string): Promise<void>;
  cancelLoad(): Promise<void>;
  generate(prompt: string, options: { maxTokens: number; temperature: number; topP: number; useChatTemplate: boolean }): Promise<void>;
  stop(): Promise<void>;
  refreshCache(): Promise<void>;
  deleteCached(id: string, store?: StoreKind): Promise<void>;
}

let client: LlmClient | null = null;
const worker = (): LlmClient =>
  (client ??= new LlmClient((message) => useLlmStore.setState({ status: 'idle', model: null, error: `The model worker stopped: ${message}` })));

/** The page's LLM Worker (started on first use): split inference runs its layer ranges there too. */
export const getLlmClient = (): LlmClient => worker();

/** Bumped when a generation starts and ends: its token callbacks count only while it runs. */
let generation = 0;

export const useLlmStore = create<LlmUiState>()((set, get) => ({
  status: 'idle',
  compat: null,
  progress: null,
  model: null,
  output: '',
  liveTokens: 0,
  liveTokensPerSecond: 0,
  stats: null,
  cached: [],
  cacheUsage: null,
  error: null,
  notice: null,

  async checkCompatibility() {
    const nav = navigator as Navigator & { gpu?: GPU; deviceMemory?: number };
    const deviceMemoryGiB = typeof nav.deviceMemory === 'number' ? nav.deviceMemory : null;
    const unusable = (webgpu: boolean, problem: string) => ({
      webgpu,
      adapter: null,
      shaderF16: false,
      maxBufferBytes: null,
      maxBindingBytes: null,
      deviceMemoryGiB,
      problem,
    });
    if (!nav.gpu) {
      set({ compat: unusable(false, 'This browser has no WebGPU: use Chrome or Edge 113 or newer, on https or localhost.') });
      return;
    }
    try {
      const adapter = await nav.gpu.requestAdapter();
      if (!adapter) {
        set({ compat: unusable(true, 'WebGPU is present but offers no GPU adapter.') });
        return;
      }
      const info = adapter.info;
      set({
        compat: {
          webgpu: true,
          adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter',
          shaderF16: adapter.features.has('shader-f16'),
          maxBufferBytes: adapter.limits.maxBufferSize,
          maxBindingBytes: adapter.limits.maxStorageBufferBindingSize,
          deviceMemoryGiB,
          problem: null,
        },
      });
    } catch (e) {
      set({ compat: unusable(true, `WebGPU failed: ${(e as Error).message}`) });
    }
  },

  async load(origin, cacheAs) {
    if (get().status === 'loading') return;
    set({ status: 'loading', progress: null, error: null, notice: null, model: null, output: '', stats: null });
    try {
      // The Settings screen's backend choice applies to the language model as to the Sprint engine.
      const model = await worker().load({ origin, cacheAs, backend: initialBackendChoice() }, (progress) => set({ progress }));
      const notice = model.cacheError
        ? model.cacheError.message
        : model.cached
          ? `Saved in this browser's model cache (${storeName(model.cached.store)}) as "${model.cached.id}".`
          : null;
      set({ status: 'ready', model, notice });
      await get().refreshCache();
    } catch (e) {
      set({ status: 'idle', error: `Loading failed: ${(e as Error).message}` });
    }
  },

  async cancelLoad() {
    await worker().cancelLoad();
  },

  async generate(prompt, options) {
    if (get().status !== 'ready') return;
    set({ status: 'generating', output: '', stats: null, error: null, liveTokens: 0, liveTokensPerSecond: 0 });
    let first = 0;
    // Tokens come through a Comlink proxy port, the result through the worker's own port: nothing
    // orders the two, so a fast backend's last tokens can land after the result. Drop those.
    const run = ++generation;
    try {
      const result = await worker().generate({ prompt, ...options }, (t) => {
        if (run !== generation || get().status !== 'generating') return;
        const now = performance.now();
        if (t.index === 0) first = now;
        set((s) => ({ output: s.output + t.text, liveTokens: t.index + 1, liveTokensPerSecond: t.index > 0 ? (t.index / (now - first)) * 1000 : 0 }));
      });
      generation++;
      set({
        status: 'ready',
        output: result.text,
        stats: {
          tokens: result.tokens.length,
          promptTokens: result.promptTokens,
          ttftMs: result.timeToFirstTokenMs,
          decodeTokensPerSecond: result.decodeTokensPerSecond,
          prefillTokensPerSecond: result.prefillTokensPerSecond,
          stoppedBy: result.stoppedBy,
        },
      });
    } catch (e) {
      generation++;
      set({ status: 'ready', error: `Generation failed: ${(e as Error).message}` });
    }
  },

  async stop() {
    await worker().stop();
  },

  async refreshCache() {
    try {
      const cached = await listCachedModels();
      const estimate = await navigator.storage?.estimate?.();
      set({ cached, cacheUsage: estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0 } : null });
    } catch (e) {
      set({ notice: `The model cache is not available: ${(e as Error).message}` });
    }
  },

  async deleteCached(id, store) {
    try {
      await deleteCachedModel(id, store);
      set({ notice: `Deleted "${id}" from the model cache.` });
    } catch (e) {
      set({ error: `Could not delete "${id}": ${(e as Error).message}` });
    }
    await get().refreshCache();
  },
}));

/** How the UI names a model store. */
export function storeName(store: StoreKind | undefined): string {
  return store === 'opfs' ? 'private file system' : 'Cache API';
}
