/**
 * The generation loop over any CausalLM (the WebGPU model or the CPU reference): prefill the
 * prompt into a KV cache, then one token per forward, sampled (greedy / temperature / top-p /
 * top-k), stopping on an EOS id, the token budget, a full context or cancellation, streaming each
 * token (and its new text, when a tokenizer is given) as it comes.
 *
 * Greedy decoding on a model with `greedySteps` (the WebGPU model) runs in blocks: a block of steps
 * is queued with no readback between them, the next block is queued before this one's ids are read
 * (the model encodes block b + 1 while the GPU runs block b), and ids stream per block. Ids past a
 * stop (EOS, budget, cancellation) are dropped and the cache's length is set back to the last
 * position the one-step loop would have filled, so both loops leave the same cache. Sampling
 * (temperature > 0) runs in blocks the same way on a model with `sampledSteps`, the draw made where
 * the logits are; elsewhere (or with pickOnModel false) one step per readback, sampleToken on the
 * CPU. Either way generated token i draws counterUniform(seed, i), so both paths draw the same u.
 */
import { LlmError } from './errors.ts';
import { MAX_GREEDY_BLOCK, type CausalLM, type DrawParams, type GreedyBlock, type KvCache } from './model-types.ts';
import { checkSampling, counterUniform, sampleToken, type SamplingOptions } from './sampling.ts';
import { StreamingDecoder, type TextTokenizer } from './tokenizer.ts';

export interface GeneratedToken {
  readonly id: number;
  /** Text this token completes (may be '' while a multi-byte character is incomplete). */
  readonly text: string;
  readonly index: number;
}

export interface GenerateOptions extends SamplingOptions {
  readonly maxTokens: number;
  /** Stop ids (default: config's eos_token_id list). */
  readonly eosTokenIds?: readonly number[];
  readonly tokenizer?: TextTokenizer | null;
  readonly signal?: AbortSignal;
  readonly onToken?: (token: GeneratedToken) => void;
  /** Context to allocate (default: prompt + maxTokens). */
  readonly maxContext?: number;
  /**
   * Picks on the model's side where it offers forwardGreedy / greedySteps (greedy) or sampledSteps
   * (temperature > 0) (default true); false reads every step's logits and picks on the CPU.
   */
  readonly pickOnModel?: boolean;
  /**
   * Steps queued per block where the model offers greedySteps, or sampledSteps when sampling
   * (default 8, at most 64); 0 runs one step per readback. Cancellation takes effect at the next
   * block's ids.
   */
  readonly greedyBlock?: number;
  /**
   * Continue this cache (the prompt goes at its current length) instead of a fresh one; it is kept,
   * with its length at the last position fed (the next input token goes there).
   */
  readonly kvCache?: KvCache;
}

/** Steps per greedy block by default: long enough to hide a block's encoding behind the GPU, short enough to stream. */
export const DEFAULT_GREEDY_BLOCK = 8;

export type StopReason = 'eos' | 'max-tokens' | 'abort' | 'context-full';

export interface GenerateResult {
  readonly tokens: number[];
  readonly text: string;
  readonly stoppedBy: StopReason;
  readonly promptTokens: number;
  /** Prompt submitted → first generated token known. */
  readonly timeToFirstTokenMs: number;
  readonly prefillMs: number;
  readonly prefillTokensPerSecond: number;
  /** Tokens after the first, per second of decode time. */
  readonly decodeTokensPerSecond: number;
  readonly decodeMs: number;
}

export async function generate<K extends KvCache>(model: CausalLM<K>, prompt: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
  checkSampling(options);
  if (prompt.length === 0) throw new LlmError('BAD_ARGUMENT', 'the prompt has no tokens');
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 1)
    throw new LlmError('BAD_ARGUMENT', `maxTokens must be a positive integer, got ${options.maxTokens}`);
  const block = options.greedyBlock ?? DEFAULT_GREEDY_BLOCK;
  if (!Number.isInteger(block) || block < 0 || block > MAX_GREEDY_BLOCK)
    throw new LlmError('BAD_ARGUMENT', `greedyBlock must be an integer in [0, ${MAX_GREEDY_BLOCK}], got ${block}`);
  const eos = new Set(options.eosTokenIds ?? model.config.eosTokenIds);
  const seed = (options.seed ?? 0) >>> 0;
  const ownCache = !options.kvCache;
  const cache =
    (options.kvCache as K | undefined) ??
    model.createKvCache({ maxContext: options.maxContext ?? Math.min(prompt.length + options.maxTokens, model.config.maxPositions) });
  const decoder = options.tokenizer ? new StreamingDecoder(options.tokenizer) : null;
  const tokens: number[] = [];
  let text = '';
  const start = performance.now();
  let stoppedBy: StopReason = 'max-tokens';
  let firstAt = 0;
  let prefillMs = 0;

  /** Takes one picked id; `filled` is the cache length the one-step loop has at that point. */
  const accept = (id: number, filled: number): StopReason | null => {
    if (tokens.length === 0) firstAt = performance.now();
    if (eos.has(id)) return 'eos';
    tokens.push(id);
    const fresh = decoder ? decoder.push(id) : '';
    text += fresh;
    options.onToken?.({ id, text: fresh, index: tokens.length - 1 });
    if (tokens.length >= options.maxTokens) return 'max-tokens';
    if (options.signal?.aborted) return 'abort';
    if (filled >= cache.maxContext) return 'context-full';
    return null;
  };

  /** Blocks from `first` (accepted, not yet fed) until a stop; sets the cache length back to the stop. */
  const decodeBlocks = async (first: number, draw: DrawParams | null): Promise<StopReason> => {
    // Draw index of the next step queued: token i of the output draws counterUniform(seed, i).
    let index = tokens.length;
    const queue = (a: { kvCache: K; steps: number; token?: number }): Promise<GreedyBlock> => {
      const firstIndex = index;
      index += a.steps;
      return draw ? model.sampledSteps!({ ...a, draw, firstIndex }) : model.greedySteps!(a);
    };
    // Each step yields one token to keep: no more than the budget or the context allows.
    let left = Math.min(options.maxTokens - tokens.length, cache.maxContext - cache.length);
    const take = () => {
      const n = Math.min(block, left);
      left -= n;
      return n;
    };
    let pending: Promise<GreedyBlock> = queue({ kvCache: cache, steps: take(), token: first });
    let next: Promise<GreedyBlock> | null = null;
    let keep = -1;
    let stop: StopReason | null = null;
    try {
      while (true) {
        next = left > 0 && !options.signal?.aborted ? queue({ kvCache: cache, steps: take() }) : null;
        const { pos0, ids } = await pending;
        for (let j = 0; j < ids.length && !stop; j++) {
          const id = ids[j]!; // j < ids.length
          if (!Number.isInteger(id) || id < 0 || id >= model.config.vocabSize)
            throw new LlmError('BAD_ARGUMENT', `the model picked id ${id}, outside the vocabulary`);
          stop = accept(id, pos0 + j + 1);
          if (stop) keep = pos0 + j + 1;
        }
        if (stop) return stop;
        if (!next) {
          // Only an abort before the budget ran out stops queueing without a stop above.
          keep = pos0 + ids.length;
          return 'abort';
        }
        pending = next;
        next = null;
      }
    } finally {
      // A block queued past the stop still runs; wait for it before the cache's length is set back.
      if (next) await next.catch(() => undefined);
      if (keep >= 0) cache.length = keep;
    }
  };

  try {
    if (options.signal?.aborted) return finish('abort');
    const onModel = options.pickOnModel !== false;
    const greedy = (options.temperature ?? 0) === 0;
    // Greedy on a model that picks where its logits are: a step returns an id, not V logits.
    const pick = greedy && onModel && model.forwardGreedy ? model.forwardGreedy.bind(model) : null;
    const draw: DrawParams | null = greedy ? null : { temperature: options.temperature!, topP: options.topP ?? 1, topK: options.topK ?? 0, seed };
    const blocks = onModel && block > 0 && (greedy ? model.greedySteps !== undefined : model.sampledSteps !== undefined);
    const step = async (input: readonly number[]): Promise<number> => {
      if (pick) return pick({ tokens: input, kvCache: cache });
      const { logits } = await model.forward({ tokens: input, kvCache: cache, logits: 'last' });
      const index = tokens.length;
      return sampleToken(logits!, options, { uniform: () => counterUniform(seed, index) });
    };
    let id = await step(prompt);
    prefillMs = performance.now() - start;
    let stop = accept(id, cache.length);
    if (!stop && blocks) stop = await decodeBlocks(id, draw);
    while (!stop) {
      id = await step([id]);
      stop = accept(id, cache.length);
    }
    stoppedBy = stop;
  } finally {
    if (ownCache) (model as { destroyKvCache?: (c: K) => void }).destroyKvCache?.(cache);
  }
  if (decoder) text += decoder.flush();
  return finish(stoppedBy);

  function finish(reason: StopReason): GenerateResult {
    const end = performance.now();
    const decodeMs = firstAt ? end - firstAt : 0;
    return {
      tokens,
      text,
      stoppedBy: reason,
      promptTokens: prompt.length,
      timeToFirstTokenMs: firstAt ? firstAt - start : 0,
      prefillMs,
      prefillTokensPerSecond: prefillMs > 0 ? (prompt.length / prefillMs) * 1000 : 0,
      decodeTokensPerSecond: decodeMs > 0 && tokens.length > 1 ? ((tokens.length - 1) / decodeMs) * 1000 : 0,
      decodeMs,
    };
  }
}
