/**
 * Typed errors of the language-model engine. `code` is stable and machine-readable; `message`
 * names the file, tensor or field and says what was wrong.
 */
export type LlmErrorCode =
  | 'SAFETENSORS_HEADER' // header length or JSON unreadable, or a field is malformed
  | 'SAFETENSORS_LAYOUT' // data offsets overlap, leave gaps, or disagree with shape × dtype
  | 'SAFETENSORS_TRUNCATED' // the file ends before its header says it should
  | 'UNSUPPORTED_DTYPE' // a tensor in a dtype the engine does not read
  | 'MISSING_TENSOR' // a weight the config needs is in no file
  | 'SHAPE_MISMATCH' // a weight's shape disagrees with config.json
  | 'BAD_CONFIG' // config.json (or tokenizer files) missing a field or holding a bad value
  | 'UNSUPPORTED_MODEL' // a model type, activation or RoPE scaling this engine does not implement
  | 'MISSING_FILE' // a file the model needs is not in the folder / at the URL
  | 'FETCH_FAILED' // HTTP error while downloading
  | 'CACHE_QUOTA' // the browser refused to store the model (storage quota)
  | 'CACHE_FAILED' // another cache error
  | 'CONTEXT_FULL' // the KV cache has no room for more positions
  | 'BAD_ARGUMENT'
  | 'ABORTED';

export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isLlmError = (e: unknown, code?: LlmErrorCode): e is LlmError => e instanceof LlmError && (code === undefined || e.code === code);

/** Throws ABORTED when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LlmError('ABORTED', 'cancelled');
}
