/** What the GPU engine and the CPU reference share: the layer-range forward and its KV cache. */
import type { LlamaConfig } from './config.ts';

export interface KvCache {
  readonly fromLayer: number;
  readonly toLayer: number;
  /** Positions the cache can hold. */
  readonly maxContext: number;
  /** Positions filled so far: the next forward's tokens sit at positions length, length + 1, … */
  length: number;
}

/** Most decode steps one greedy block (CausalLM.greedySteps) may queue. */
export const MAX_GREEDY_BLOCK = 64;

/** Ids a greedy block picked, in order; the first was computed at position pos0. */
export interface GreedyBlock {
  readonly pos0: number;
  readonly ids: number[];
}

/** A sampled pick's rule (temperature > 0; topK 0 keeps all) and its counter-hash seed. */
export interface DrawParams {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly seed: number;
}

export type LogitsWanted = 'last' | 'all' | 'none';

export interface ForwardArgs<K extends KvCache = KvCache> {
  /** Token ids (when fromLayer is 0). */
  readonly tokens?: ArrayLike<number>;
  /** Hidden states [T, hidden] entering layer fromLayer (when fromLayer > 0; also allowed at 0). */
  readonly hidden?: ArrayLike<number>;
  readonly fromLayer?: number;
  /** Exclusive; defaults to the last layer. */
  readonly toLayer?: number;
  readonly kvCache: K;
  /** With toLayer = numLayers: logits of the last position (default), of every position, or none. */
  readonly logits?: LogitsWanted;
  /** Return the hidden states leaving layer toLayer − 1 (always returned when toLayer < numLayers). */
  readonly returnHidden?: boolean;
}

export interface ForwardResult {
  /** [1, V] for 'last', [T, V] for 'all'. */
  readonly logits?: Float32Array | Float64Array;
  /** [T, hidden], before the final norm. */
  readonly hidden?: Float32Array | Float64Array;
}

export interface CausalLM<K extends KvCache = KvCache> {
  readonly config: LlamaConfig;
  createKvCache(options?: { fromLayer?: number; toLayer?: number; maxContext?: number }): K;
  forward(args: ForwardArgs<K>): Promise<ForwardResult>;
  /** Optional: a forward through the last layer returning only the greedy next token (argmax of the last row's logits, lowest id on ties), picked where the logits are. */
  forwardGreedy?(args: Omit<ForwardArgs<K>, 'logits' | 'returnHidden'>): Promise<number>;
  /**
   * Optional: `steps` single-token greedy steps queued at once, each pick feeding the next step
   * where the logits are (no readback between steps); `token` is the first input, or absent to go
   * on from the previous block's last pick on this cache, so a caller can queue block b + 1 before
   * reading block b. Advances kvCache.length by `steps`; a caller keeping fewer ids sets it back.
   */
  greedySteps?(args: { readonly kvCache: K; readonly steps: number; readonly token?: number }): Promise<GreedyBlock>;
  /**
   * Optional: greedySteps with each step's token drawn by `draw` where the logits are (sampling.ts's
   * rule in f32), step i using counterUniform(draw.seed, firstIndex + i). A block without `token`
   * goes on from the previous block's last pick (greedy or sampled) on this cache.
   */
  sampledSteps?(args: {
    readonly kvCache: K;
    readonly steps: number;
    readonly token?: number;
    readonly draw: DrawParams;
    readonly firstIndex: number;
  }): Promise<GreedyBlock>;
}
