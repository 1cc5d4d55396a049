/**
 * The generation loop over any CausalLM (the WebGPU model or the CPU reference): prefill the
 * prompt into a KV cache, then one token per forward, sampled (greedy / temperature / top-p /
 * top-k), stopping on an EOS id, the token budget, a full context or cancellation, streaming each
 * token (and its new text, when a tokenizer is given) as it comes.
 */
import { LlmError } from './errors.ts';
import type { CausalLM, KvCache } from './model-types.ts';
import { checkSampling, sampleToken, SeededRandom, type SamplingOptions } from './sampling.ts';
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
  /** Greedy runs pick on the model's side when it offers forwardGreedy (default true); false reads every step's logits. */
  readonly pickOnModel?: boolean;
}

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
  const eos = new Set(options.eosTokenIds ?? model.config.eosTokenIds);
  const rng = new SeededRandom(options.seed ?? 0);
  const cache = model.createKvCache({ maxContext: options.maxContext ?? Math.min(prompt.length + options.maxTokens, model.config.maxPositions) });
  const decoder = options.tokenizer ? new StreamingDecoder(options.tokenizer) : null;
  const tokens: number[] = [];
  let text = '';
  const start = performance.now();
  let stoppedBy: StopReason = 'max-tokens';
  let firstAt = 0;
  let prefillMs = 0;
  try {
    if (options.signal?.aborted) return finish('abort');
    // Greedy on a model that picks where its logits are: a step returns an id, not V logits.
    const pick = (options.temperature ?? 0) === 0 && options.pickOnModel !== false && model.forwardGreedy ? model.forwardGreedy.bind(model) : null;
    const step = async (input: readonly number[]): Promise<number> =>
      pick
        ? pick({ tokens: input, kvCache: cache })
        : sampleToken((await model.forward({ tokens: input, kvCache: cache, logits: 'last' })).logits!, options, rng);
    let id = await step(prompt);
    prefillMs = performance.now() - start;
    while (true) {
      if (tokens.length === 0) firstAt = performance.now();
      if (eos.has(id)) {
        stoppedBy = 'eos';
        break;
      }
      tokens.push(id);
      const fresh = decoder ? decoder.push(id) : '';
      text += fresh;
      options.onToken?.({ id, text: fresh, index: tokens.length - 1 });
      if (tokens.length >= options.maxTokens) {
        stoppedBy = 'max-tokens';
        break;
      }
      if (options.signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      if (cache.length >= cache.maxContext) {
        stoppedBy = 'context-full';
        break;
      }
      id = await step([id]);
    }
  } finally {
    (model as { destroyKvCache?: (c: K) => void }).destroyKvCache?.(cache);
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
