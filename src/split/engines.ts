/** What each side needs from a model folder beyond the layer-range forward: the final norm's weight (for C_t). */
import { tensorNames } from '../llm/config.ts';
import { decodeFloats } from '../llm/dtype.ts';
import { LlmError } from '../llm/errors.ts';
import { streamWeights, type ModelManifest } from '../llm/loader.ts';
import type { CausalLM, KvCache } from '../llm/model-types.ts';
import type { ModelSource } from '../llm/source.ts';

/** A layer-range model whose KV caches may need freeing (the GPU model's do). */
export type SplitModel<K extends KvCache = KvCache> = CausalLM<K> & { destroyKvCache?(cache: K): void };

/** model.norm.weight, decoded to float64 (streams only the last layer's file(s) and keeps one tensor). */
export async function loadFinalNorm(source: ModelSource, manifest: ModelManifest, signal?: AbortSignal): Promise<Float64Array> {
  const L = manifest.config.numLayers;
  let bytes: Uint8Array | null = null;
  let dtype = '';
  await streamWeights(source, manifest, {
    data(_file, e) {
      if (e.tensor.name !== tensorNames.norm) return;
      if (e.offset === 0) {
        bytes = new Uint8Array(e.tensor.end - e.tensor.begin);
        dtype = e.tensor.dtype;
      }
      bytes!.set(e.bytes, e.offset);
    },
  }, { fromLayer: L - 1, toLayer: L, signal });
  if (!bytes) throw new LlmError('MISSING_TENSOR', `${source.label}: no ${tensorNames.norm}`);
  return decodeFloats(dtype, bytes, tensorNames.norm);
}
