/** Main-thread handle on the LLM Worker (./worker.ts): plain callbacks in, LlmError out. */
import * as Comlink from 'comlink';
import { LlmError, type LlmErrorCode } from './errors.ts';
import type { CachedModel, StoreKind } from './browser-source.ts';
import type { GenerateResult, GeneratedToken } from './generate.ts';
import type { LoadProgress } from './loader.ts';
import type {
  GenerateRequest,
  LlmWorkerApi,
  LoadedModelInfo,
  LoadRequest,
  RangeForwardRequest,
  RangeForwardResult,
  SplitModelFacts,
  WireLlmError,
} from './worker.ts';

export type { GenerateRequest, LoadedModelInfo, LoadRequest, ModelOrigin, RangeForwardRequest, RangeForwardResult, SplitModelFacts } from './worker.ts';

/** Error from the worker: an LlmError with its code (GPU codes such as NO_ADAPTER pass through as the message's code). */
export class WorkerLlmError extends LlmError {
  constructor(
    readonly wireCode: string,
    message: string,
  ) {
    super((wireCode as LlmErrorCode) ?? 'BAD_ARGUMENT', message);
  }
}

async function unwrap<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    const w = e as WireLlmError;
    if (w && w.wireError) throw new WorkerLlmError(w.code, w.message);
    throw e;
  }
}

export class LlmClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<LlmWorkerApi>;

  constructor(onCrash?: (message: string) => void) {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'sprintnet-llm' });
    if (onCrash) this.worker.addEventListener('error', (e) => onCrash(e.message || 'the model worker stopped unexpectedly'));
    this.remote = Comlink.wrap<LlmWorkerApi>(this.worker);
  }

  load(request: LoadRequest, onProgress?: (p: LoadProgress) => void): Promise<LoadedModelInfo> {
    return unwrap(this.remote.load(request, onProgress && Comlink.proxy(onProgress)));
  }
  cancelLoad(): Promise<void> {
    return unwrap(this.remote.cancelLoad());
  }
  generate(request: GenerateRequest, onToken?: (t: GeneratedToken) => void): Promise<GenerateResult> {
    return unwrap(this.remote.generate(request, onToken && Comlink.proxy(onToken)));
  }
  stop(): Promise<void> {
    return unwrap(this.remote.stop());
  }
  listCached(): Promise<CachedModel[]> {
    return unwrap(this.remote.listCached());
  }
  deleteCached(id: string, store?: StoreKind): Promise<number> {
    return unwrap(this.remote.deleteCached(id, store));
  }
  /** Tests only: all-position logits of `tokens` with the loaded model. */
  logitsForTesting(tokens: number[]): Promise<Float32Array> {
    return unwrap(this.remote.logitsForTesting(tokens));
  }
  /** Split inference (src/app/split-model.ts): the loaded model's facts, layer-range forwards, the tokenizer. */
  splitModelFacts(): Promise<SplitModelFacts> {
    return unwrap(this.remote.splitModelFacts());
  }
  rangeForward(request: RangeForwardRequest): Promise<RangeForwardResult> {
    return unwrap(this.remote.rangeForward(request));
  }
  dropRangeCache(id: number): Promise<void> {
    return unwrap(this.remote.dropRangeCache(id));
  }
  encodePrompt(prompt: string, useChatTemplate: boolean): Promise<number[]> {
    return unwrap(this.remote.encodePrompt(prompt, useChatTemplate));
  }
  decodeTokens(tokens: number[]): Promise<string> {
    return unwrap(this.remote.decodeTokens(tokens));
  }
  terminate(): void {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}
