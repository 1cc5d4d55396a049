/** What each side needs from a model folder beyond the layer-range forward: the final norm's weight (for C_t). */
import { tensorNames } from '../llm/config.ts';
import { decodeFloats } from '../llm/dtype.ts';
import { LlmError } from '../llm/errors.ts';
import { streamWeights, type ModelManifest } from '../llm/loader.ts';
import type { CausalLM, KvCache } from '../llm/model-types.ts';
import type { ModelSource } from '../llm/source.ts';

/** A layer-range model whose KV caches may need freeing (the GPU model's do). */
export type SplitModel<K extends KvCache = KvCache> = CausalLM<K> & { destroyKvCache?(cache: K): void };

/** One tensor decoded to float64, streaming only the files of layers [fromLayer, toLayer) (whose expected set must hold it). */
async function loadTensor(
  source: ModelSource,
  manifest: ModelManifest,
  name: string,
  fromLayer: number,
  toLayer: number,
  signal?: AbortSignal,
): Promise<Float64Array> {
  let bytes: Uint8Array | null = null;
  let dtype = '';
  await streamWeights(
    source,
    manifest,
    {
      data(_file, e) {
        if (e.tensor.name !== name) return;
        if (e.offset === 0) {
          bytes = new Uint8Array(e.tensor.end - e.tensor.begin);
          dtype = e.tensor.dtype;
        }
        bytes!.set(e.bytes, e.offset);
      },
    },
    { fromLayer, toLayer, signal },
  );
  if (!bytes) throw new LlmError('MISSING_TENSOR', `${source.label}: no ${name}`);
  return decodeFloats(dtype, bytes, name);
}

/** model.norm.weight (for C_t). */
export function loadFinalNorm(source: ModelSource, manifest: ModelManifest, signal?: AbortSignal): Promise<Float64Array> {
  const L = manifest.config.numLayers;
  return loadTensor(source, manifest, tensorNames.norm, L - 1, L, signal);
}

/** The input embedding [V, D] (the privacy meter's nearest-embedding attack). */
export function loadEmbedding(source: ModelSource, manifest: ModelManifest, signal?: AbortSignal): Promise<Float64Array> {
  return loadTensor(source, manifest, tensorNames.embed, 0, 1, signal);
}
