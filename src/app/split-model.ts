/**
 * The LLM Worker's loaded model as src/split sees a model: a CausalLM whose layer-range forwards run
 * in the Worker (src/llm/worker.ts rangeForward) on KV caches the Worker keeps by id. The cache
 * objects here only mirror `length`, which split inference sets to rewind a step; the next forward
 * carries it over. Both sides of a split session use it: the user for layers [0, k), a volunteer
 * page for [k, L).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryWriter } from '../codec/binary.ts';
import type { LlamaConfig } from '../llm/config.ts';
import type { ForwardArgs, ForwardResult, KvCache } from '../llm/model-types.ts';
import type { RangeForwardRequest, RangeForwardResult, SplitModelFacts } from '../llm/worker-client.ts';
import { HASH_BYTES, TAG_MODEL } from '../split/constants.ts';
import type { SplitModel } from '../split/engines.ts';

/** The part of LlmClient this needs (tests pass a fake). */
export interface RangeWorker {
  splitModelFacts(): Promise<SplitModelFacts>;
  rangeForward(request: RangeForwardRequest): Promise<RangeForwardResult>;
  dropRangeCache(id: number): Promise<void>;
  encodePrompt(prompt: string, useChatTemplate: boolean): Promise<number[]>;
  decodeTokens(tokens: number[]): Promise<string>;
}

export interface WorkerCache extends KvCache {
  readonly id: number;
}

let nextCacheId = 1;

export class WorkerRangeModel implements SplitModel<WorkerCache> {
  constructor(
    private readonly worker: RangeWorker,
    readonly config: LlamaConfig,
  ) {}

  createKvCache(o: { fromLayer?: number; toLayer?: number; maxContext?: number } = {}): WorkerCache {
    return {
      id: nextCacheId++,
      fromLayer: o.fromLayer ?? 0,
      toLayer: o.toLayer ?? this.config.numLayers,
      maxContext: o.maxContext ?? this.config.maxPositions,
      length: 0,
    };
  }

  async forward(a: ForwardArgs<WorkerCache>): Promise<ForwardResult> {
    const c = a.kvCache;
    const hidden =
      a.hidden === undefined ? undefined : a.hidden instanceof Float32Array || a.hidden instanceof Float64Array ? a.hidden : Float64Array.from(a.hidden);
    const out = await this.worker.rangeForward({
      cache: { id: c.id, fromLayer: c.fromLayer, toLayer: c.toLayer, maxContext: c.maxContext, length: c.length },
      tokens: a.tokens === undefined ? undefined : Array.from(a.tokens),
      hidden,
      fromLayer: a.fromLayer,
      toLayer: a.toLayer,
      logits: a.logits,
      returnHidden: a.returnHidden,
    });
    c.length = out.length;
    return { logits: out.logits, hidden: out.hidden };
  }

  destroyKvCache(cache: WorkerCache): void {
    void this.worker.dropRangeCache(cache.id).catch(() => undefined);
  }
}

/** docs/split-inference.md §6: SHA-256(tag ‖ Σ lp(name) ‖ SHA-256(file)) over config.json then the weight files in name order. */
export function modelHashOf(files: SplitModelFacts['files']): Uint8Array {
  const outer = sha256.create().update(new TextEncoder().encode(TAG_MODEL));
  for (const f of files) outer.update(new BinaryWriter().string(f.name).fixed(f.sha256, HASH_BYTES).finish());
  return outer.digest();
}

export interface LoadedSplitModel {
  readonly model: WorkerRangeModel;
  readonly hash: Uint8Array;
  readonly normWeight: Float64Array;
}

export async function splitModelOf(worker: RangeWorker): Promise<LoadedSplitModel> {
  const facts = await worker.splitModelFacts();
  return { model: new WorkerRangeModel(worker, facts.config), hash: modelHashOf(facts.files), normWeight: facts.normWeight };
}
