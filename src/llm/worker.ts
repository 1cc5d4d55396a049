/**
 * Dedicated Worker of the language-model engine (browser only): loads a model from a URL, picked
 * files, the model cache or the built-in random test model into WebGPU, and generates with
 * streamed tokens. Speaks Comlink; callbacks arrive wrapped in Comlink.proxy; errors cross as
 * plain { code, message } objects.
 */
import * as Comlink from 'comlink';
import { GpuError } from '../gpu/errors.ts';
import { cachedSource, CachingSource, deleteCachedModel, FileListSource, listCachedModels, UrlSource, type CachedModel, type StoreKind } from './browser-source.ts';
import { LlmError } from './errors.ts';
import { generate, type GenerateResult, type GeneratedToken } from './generate.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import { loadLanguageModel, whereItRuns, type LanguageModel } from './cpu-select.ts';
import type { CausalLM } from './model-types.ts';
import type { LoadProgress } from './loader.ts';
import { MemorySource, type ModelSource } from './source.ts';
import { makeTestModel } from './test-model.ts';
import type { ChatMessage } from './tokenizer.ts';

export type ModelOrigin =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'files'; readonly files: File[] }
  | { readonly kind: 'cache'; readonly id: string; readonly store?: StoreKind }
  | { readonly kind: 'test' };

export interface LoadRequest {
  readonly origin: ModelOrigin;
  /** Save into the model cache under this id while loading (not for 'cache'). */
  readonly cacheAs?: string;
  /** auto (default: the CPU backend where WebGPU is missing or a software adapter), webgpu or cpu. */
  readonly backend?: BackendChoice;
}

export interface LoadedModelInfo {
  readonly label: string;
  readonly isTestModel: boolean;
  readonly modelType: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  readonly weightBytes: number;
  /** Where it runs: the WebGPU adapter, or the CPU backend and its threads. */
  readonly adapter: string;
  readonly isFallbackAdapter: boolean;
  readonly backend: 'webgpu' | 'cpu';
  readonly backendReason: string;
  readonly hasChatTemplate: boolean;
  readonly loadMs: number;
  /** Cache entry made by this load, or null (not asked, or failed: see cacheError). */
  readonly cached: CachedModel | null;
  readonly cacheError: { code: string; message: string } | null;
}

export interface GenerateRequest {
  readonly prompt: string;
  readonly useChatTemplate: boolean;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed?: number;
}

export interface WireLlmError {
  readonly wireError: true;
  readonly code: string;
  readonly message: string;
}

const toWire = (e: unknown): WireLlmError => ({
  wireError: true,
  code: e instanceof LlmError || e instanceof GpuError ? e.code : 'UNKNOWN',
  message: e instanceof Error ? e.message : String(e),
});

let model: LanguageModel | null = null;
let running: AbortController | null = null;
let loading: AbortController | null = null;

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw toWire(e);
  }
}

function sourceOf(origin: ModelOrigin): ModelSource {
  switch (origin.kind) {
    case 'url':
      return new UrlSource(new URL(origin.url, self.location.href).href);
    case 'files':
      return new FileListSource(origin.files);
    case 'cache':
      return cachedSource(origin.id, origin.store);
    case 'test':
      return new MemorySource(makeTestModel({ dtype: 'BF16', tieEmbeddings: false, seed: 2 }).files, 'built-in random test model');
  }
}

const api = {
  async load(request: LoadRequest, onProgress?: (p: LoadProgress) => void): Promise<LoadedModelInfo> {
    return guard(async () => {
      running?.abort();
      loading?.abort();
      model?.destroy();
      model = null;
      const controller = new AbortController();
      loading = controller;
      const start = performance.now();
      const base = sourceOf(request.origin);
      const caching = request.cacheAs && request.origin.kind !== 'cache' ? new CachingSource(base, request.cacheAs) : null;
      const { model: m, decision } = await loadLanguageModel(caching ?? base, { backend: request.backend, onProgress, signal: controller.signal, maxContext: 2048 });
      loading = null;
      model = m;
      const cached = caching ? await caching.complete(m.manifest.files, m.manifest.isTestModel) : null;
      const c = m.config;
      return {
        label: base.label,
        isTestModel: m.manifest.isTestModel,
        modelType: c.modelType,
        layers: c.numLayers,
        hiddenSize: c.hiddenSize,
        vocabSize: c.vocabSize,
        weightBytes: m.weightBytes,
        adapter: whereItRuns(m),
        isFallbackAdapter: 'adapter' in m ? m.adapter.isFallback : false,
        backend: decision.backend,
        backendReason: decision.reason,
        hasChatTemplate: m.manifest.tokenizer?.hasChatTemplate ?? false,
        loadMs: performance.now() - start,
        cached,
        cacheError: caching?.error ? { code: caching.error.code, message: caching.error.message } : null,
      };
    });
  },

  async cancelLoad(): Promise<void> {
    loading?.abort();
  },

  async generate(request: GenerateRequest, onToken?: (t: GeneratedToken) => void): Promise<GenerateResult> {
    return guard(async () => {
      const m = model;
      if (!m) throw new LlmError('BAD_ARGUMENT', 'no model is loaded');
      const tokenizer = m.manifest.tokenizer;
      if (!tokenizer) throw new LlmError('BAD_CONFIG', 'the model has no tokenizer.json');
      const messages: ChatMessage[] = [{ role: 'user', content: request.prompt }];
      const prompt = request.useChatTemplate && tokenizer.hasChatTemplate ? tokenizer.encodeChat(messages) : tokenizer.encode(request.prompt);
      running?.abort();
      const controller = new AbortController();
      running = controller;
      try {
        return await generate(m as CausalLM, prompt, {
          maxTokens: request.maxTokens,
          temperature: request.temperature,
          topP: request.topP,
          seed: request.seed,
          tokenizer,
          signal: controller.signal,
          onToken,
          maxContext: Math.min(m.maxContext, prompt.length + request.maxTokens),
        });
      } finally {
        if (running === controller) running = null;
      }
    });
  },

  async stop(): Promise<void> {
    running?.abort();
  },

  async listCached(): Promise<CachedModel[]> {
    return guard(listCachedModels);
  },

  async deleteCached(id: string, store?: StoreKind): Promise<number> {
    return guard(() => deleteCachedModel(id, store));
  },

  /** Tests only: logits of every position of `tokens` from a fresh KV cache, with the loaded model. */
  async logitsForTesting(tokens: number[]): Promise<Float32Array> {
    return guard(async () => {
      if (!model) throw new LlmError('BAD_ARGUMENT', 'no model is loaded');
      const lm = model as CausalLM & { destroyKvCache(c: unknown): void };
      const cache = lm.createKvCache({ maxContext: tokens.length });
      try {
        const out = await lm.forward({ tokens, kvCache: cache, logits: 'all' });
        return out.logits as Float32Array;
      } finally {
        lm.destroyKvCache(cache);
      }
    });
  },

  async unload(): Promise<void> {
    running?.abort();
    model?.destroy();
    model = null;
  },
};

export type LlmWorkerApi = typeof api;

Comlink.expose(api);
