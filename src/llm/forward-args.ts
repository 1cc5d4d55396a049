/** The forward-argument checks the GPU engine and the CPU reference share, so both refuse the same calls with the same errors. */
import { checkLayerRange, type LlamaConfig } from './config.ts';
import { LlmError } from './errors.ts';
import type { ForwardArgs } from './model-types.ts';

export interface CheckedForward {
  readonly fromLayer: number;
  readonly toLayer: number;
  /** Positions this forward adds (tokens, or rows of hidden). */
  readonly total: number;
  /** The KV cache's length before the forward: where its first position lands. */
  readonly pos0: number;
}

/**
 * The layer range defaults to the cache's; it must lie in the cache and in the layers the model
 * holds. Tokens enter only at layer 0 and must be in the vocabulary; hidden must be whole rows; the
 * cache must have room for every new position.
 */
export function checkForwardArgs(c: LlamaConfig, held: { readonly fromLayer: number; readonly toLayer: number }, args: ForwardArgs): CheckedForward {
  const cache = args.kvCache;
  const fromLayer = args.fromLayer ?? cache.fromLayer;
  const toLayer = args.toLayer ?? cache.toLayer;
  checkLayerRange(c, fromLayer, toLayer);
  if (fromLayer < cache.fromLayer || toLayer > cache.toLayer)
    throw new LlmError('BAD_ARGUMENT', `layers [${fromLayer}, ${toLayer}) are not all in the KV cache's [${cache.fromLayer}, ${cache.toLayer})`);
  if (fromLayer < held.fromLayer || toLayer > held.toLayer) throw new LlmError('BAD_ARGUMENT', `this model holds layers [${held.fromLayer}, ${held.toLayer})`);
  const D = c.hiddenSize;
  let total: number;
  if (args.hidden) {
    if (args.hidden.length === 0 || args.hidden.length % D !== 0)
      throw new LlmError('BAD_ARGUMENT', `hidden has ${args.hidden.length} values, not a multiple of hidden_size ${D}`);
    total = args.hidden.length / D;
  } else {
    if (!args.tokens || args.tokens.length === 0) throw new LlmError('BAD_ARGUMENT', 'forward needs tokens or hidden');
    if (fromLayer !== 0) throw new LlmError('BAD_ARGUMENT', 'tokens enter at layer 0; pass hidden for a later layer');
    for (let i = 0; i < args.tokens.length; i++) {
      const tok = args.tokens[i]!; // i < length; a hole in a sparse array fails the integer check below
      if (!Number.isInteger(tok) || tok < 0 || tok >= c.vocabSize)
        throw new LlmError('BAD_ARGUMENT', `token ${tok} is outside the vocabulary [0, ${c.vocabSize})`);
    }
    total = args.tokens.length;
  }
  const pos0 = cache.length;
  if (pos0 + total > cache.maxContext)
    throw new LlmError('CONTEXT_FULL', `the KV cache holds ${cache.maxContext} positions; ${pos0} used, ${total} more asked`);
  return { fromLayer, toLayer, total, pos0 };
}

export interface CacheRequest {
  readonly fromLayer?: number;
  readonly toLayer?: number;
  readonly maxContext?: number;
}

/** A new KV cache's layer range and length: within the layers the model holds and its maxContext. */
export function checkCacheArgs(
  c: LlamaConfig,
  held: { readonly fromLayer: number; readonly toLayer: number; readonly maxContext: number },
  options: CacheRequest,
  optionsName: string,
): { readonly fromLayer: number; readonly toLayer: number; readonly maxContext: number } {
  const fromLayer = options.fromLayer ?? held.fromLayer;
  const toLayer = options.toLayer ?? held.toLayer;
  checkLayerRange(c, fromLayer, toLayer);
  if (fromLayer < held.fromLayer || toLayer > held.toLayer)
    throw new LlmError('BAD_ARGUMENT', `this model holds layers [${held.fromLayer}, ${held.toLayer}), not [${fromLayer}, ${toLayer})`);
  const maxContext = options.maxContext ?? held.maxContext;
  if (maxContext > held.maxContext)
    throw new LlmError('BAD_ARGUMENT', `maxContext ${maxContext} exceeds the model's ${held.maxContext} (set ${optionsName}.maxContext)`);
  return { fromLayer, toLayer, maxContext };
}
