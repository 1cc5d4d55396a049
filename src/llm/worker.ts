/**
 * Dedicated Worker of the language-model engine (browser only): loads a model from a URL, picked
 * files, the model cache or the built-in random test model into WebGPU, and generates with
 * streamed tokens. Speaks Comlink; callbacks arrive wrapped in Comlink.proxy; errors cross as
 * plain { code, message } objects.
 */
import * as Comlink from 'comlink';
import { GpuError } from '../gpu/errors.ts';
import {
  cachedSource,
  CachingSource,
  deleteCachedModel,
  FileListSource,
  listCachedModels,
  UrlSource,
  type CachedModel,
  type StoreKind,
} from './browser-source.ts';
import { LlmError } from './errors.ts';
import { generate, type GenerateResult, type GeneratedToken } from './generate.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import { loadLanguageModel, whereItRuns, type LanguageModel } from './cpu-select.ts';
import type { CausalLM } from './model-types.ts';
import type { LoadProgress } from './loader.ts';
import { MemorySource, type ModelSource } from './source.ts';
import { makeTestModel } from './test-model.ts';
import type { ChatMessage } from './tokenizer.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { tensorNames, type LlamaConfig } from './config.ts';
import { decodeFloats } from './dtype.ts';
import { streamWeights } from './loader.ts';
import type { KvCache, LogitsWanted } from './model-types.ts';

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
  /** Greedy steps per GPU block (generate's default when absent; 0: one step per readback). Tokens stream per block. */
  readonly greedyBlock?: number;
}

/** What split inference needs to know of the loaded model (src/app/split-model.ts). */
export interface SplitModelFacts {
  readonly config: LlamaConfig;
  /** SHA-256 of config.json then of each weight file in name order: the model hash's inputs. */
  readonly files: readonly { readonly name: string; readonly sha256: Uint8Array }[];
  /** model.norm.weight (C_t is measured after the final norm). */
  readonly normWeight: Float64Array;
}

/** One layer-range forward on a KV cache the worker keeps by id (created on first use). */
export interface RangeForwardRequest {
  readonly cache: { readonly id: number; readonly fromLayer: number; readonly toLayer: number; readonly maxContext: number; readonly length: number };
  readonly tokens?: number[];
  readonly hidden?: Float32Array | Float64Array;
  readonly fromLayer?: number;
  readonly toLayer?: number;
  readonly logits?: LogitsWanted;
  readonly returnHidden?: boolean;
}

export interface RangeForwardResult {
  readonly logits?: Float32Array | Float64Array;
  readonly hidden?: Float32Array | Float64Array;
  /** The cache's length after the forward. */
  readonly length: number;
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
/** Where the loaded model came from: split inference hashes its files. */
let loadedSource: ModelSource | null = null;
/** Split inference's KV caches by the main thread's ids; dropped with the model. */
const rangeCaches = new Map<number, KvCache>();

function dropRangeCaches(): void {
  const m = model as (LanguageModel & { destroyKvCache?(c: KvCache): void }) | null;
  for (const c of rangeCaches.values()) m?.destroyKvCache?.(c);
  rangeCaches.clear();
}

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
      dropRangeCaches();
      model?.destroy();
      model = null;
      loadedSource = null;
      const controller = new AbortController();
      loading = controller;
      const start = performance.now();
      const base = sourceOf(request.origin);
      const caching = request.cacheAs && request.origin.kind !== 'cache' ? new CachingSource(base, request.cacheAs) : null;
      const { model: m, decision } = await loadLanguageModel(caching ?? base, {
        backend: request.backend,
        onProgress,
        signal: controller.signal,
        maxContext: 2048,
      });
      loading = null;
      model = m;
      loadedSource = base;
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
          greedyBlock: request.greedyBlock,
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

  /** Split inference: the config, the files' digests and the final norm of the loaded model. */
  async splitModelFacts(): Promise<SplitModelFacts> {
    return guard(async () => {
      const m = model;
      const source = loadedSource;
      if (!m || !source) throw new LlmError('BAD_ARGUMENT', 'no model is loaded');
      const files = [];
      for (const name of ['config.json', ...m.manifest.weightFiles.map((f) => f.name).sort()]) {
        const h = sha256.create();
        const opened = await source.open(name);
        for await (const chunk of opened.chunks) h.update(chunk);
        files.push({ name, sha256: h.digest() });
      }
      const L = m.config.numLayers;
      let bytes: Uint8Array | null = null;
      let dtype = '';
      await streamWeights(
        source,
        m.manifest,
        {
          data(_file, e) {
            if (e.tensor.name !== tensorNames.norm) return;
            if (e.offset === 0) {
              bytes = new Uint8Array(e.tensor.end - e.tensor.begin);
              dtype = e.tensor.dtype;
            }
            bytes!.set(e.bytes, e.offset);
          },
        },
        { fromLayer: L - 1, toLayer: L },
      );
      if (!bytes) throw new LlmError('MISSING_TENSOR', `${source.label}: no ${tensorNames.norm}`);
      return { config: m.config, files, normWeight: decodeFloats(dtype, bytes, tensorNames.norm) };
    });
  },

  /** Split inference: a layer-range forward (either side) on a cache kept here; `cache.length` rewinds it first. */
  async rangeForward(request: RangeForwardRequest): Promise<RangeForwardResult> {
    return guard(async () => {
      const m = model as (CausalLM & { destroyKvCache?(c: KvCache): void }) | null;
      if (!m) throw new LlmError('BAD_ARGUMENT', 'no model is loaded');
      const r = request.cache;
      let cache = rangeCaches.get(r.id);
      if (!cache) {
        cache = m.createKvCache({ fromLayer: r.fromLayer, toLayer: r.toLayer, maxContext: r.maxContext });
        rangeCaches.set(r.id, cache);
      }
      if (r.length > cache.length) throw new LlmError('BAD_ARGUMENT', `cache ${r.id} holds ${cache.length} positions, the caller thinks ${r.length}`);
      cache.length = r.length;
      const out = await m.forward({
        tokens: request.tokens,
        hidden: request.hidden,
        fromLayer: request.fromLayer,
        toLayer: request.toLayer,
        kvCache: cache,
        logits: request.logits,
        returnHidden: request.returnHidden,
      });
      return { logits: out.logits, hidden: out.hidden, length: cache.length };
    });
  },

  async dropRangeCache(id: number): Promise<void> {
    const m = model as (LanguageModel & { destroyKvCache?(c: KvCache): void }) | null;
    const c = rangeCaches.get(id);
    if (c) m?.destroyKvCache?.(c);
    rangeCaches.delete(id);
  },

  /** The prompt as token ids (chat template when asked and present): split inference tokenizes here, never on the wire. */
  async encodePrompt(prompt: string, useChatTemplate: boolean): Promise<number[]> {
    return guard(async () => {
      const tokenizer = model?.manifest.tokenizer;
      if (!tokenizer) throw new LlmError('BAD_CONFIG', 'no model with a tokenizer is loaded');
      return useChatTemplate && tokenizer.hasChatTemplate ? tokenizer.encodeChat([{ role: 'user', content: prompt }]) : tokenizer.encode(prompt);
    });
  },

  async decodeTokens(tokens: number[]): Promise<string> {
    return guard(async () => {
      const tokenizer = model?.manifest.tokenizer;
      if (!tokenizer) throw new LlmError('BAD_CONFIG', 'no model with a tokenizer is loaded');
      return tokenizer.decode(tokens);
    });
  },

  async unload(): Promise<void> {
    running?.abort();
    dropRangeCaches();
    model?.destroy();
    model = null;
  },
};

export type LlmWorkerApi = typeof api;

Comlink.expose(api);
