/**
 * Which backend runs the language model, like the Sprint engine's choice (src/cpu/select.ts):
 * `auto` takes the CPU backend when WebGPU is missing or its adapter is a software renderer
 * (SwiftShader, WARP, lavapipe: a CPU behind a GPU API), WebGPU on a hardware adapter; `cpu` and
 * `webgpu` force one. Browser-safe: Node callers pass `gpu` (src/gpu/gpu-node.ts) and `spawner`
 * (src/cpu/threads-node.ts).
 */
import { decideBackend, type BackendChoice, type BackendDecision } from '../cpu/backend.ts';
import type { ThreadSpawner } from '../cpu/threads.ts';
import { canShareMemory } from '../cpu/threads-browser.ts';
import { adapterLabel } from '../gpu/device.ts';
import { isGpuError } from '../gpu/errors.ts';
import { CpuLlmModel } from './cpu-model.ts';
import { GpuModel } from './gpu-model.ts';
import type { LoadProgress } from './loader.ts';
import type { ModelSource } from './source.ts';

export type LanguageModel = GpuModel | CpuLlmModel;

export interface LoadLanguageModelOptions {
  /** Default 'auto'. */
  readonly backend?: BackendChoice;
  /** WebGPU entry (default navigator.gpu); null for none. */
  readonly gpu?: GPU | null;
  readonly spawner?: ThreadSpawner;
  readonly threads?: number;
  readonly maxContext?: number;
  readonly fromLayer?: number;
  readonly toLayer?: number;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
}

export interface LoadedLanguageModel {
  readonly model: LanguageModel;
  readonly decision: BackendDecision;
}

export async function loadLanguageModel(source: ModelSource, options: LoadLanguageModelOptions = {}): Promise<LoadedLanguageModel> {
  const choice = options.backend ?? 'auto';
  const gpu = options.gpu === undefined ? (typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { gpu?: GPU }).gpu) : options.gpu;
  const decision = await decideBackend(choice, { gpu, cpuAvailable: canShareMemory() });
  const shared = {
    maxContext: options.maxContext,
    fromLayer: options.fromLayer,
    toLayer: options.toLayer,
    onProgress: options.onProgress,
    signal: options.signal,
  };
  const cpu = () => CpuLlmModel.load(source, { ...shared, spawner: options.spawner, threads: options.threads });
  if (decision.backend === 'cpu') return { model: await cpu(), decision };
  try {
    return { model: await GpuModel.load(source, { ...shared, gpu: gpu ?? undefined }), decision };
  } catch (e) {
    if (choice !== 'auto' || !canShareMemory() || !['NO_WEBGPU', 'NO_ADAPTER', 'INSUFFICIENT_LIMITS'].some((code) => isGpuError(e, code as 'NO_WEBGPU')))
      throw e;
    return { model: await cpu(), decision: { ...decision, backend: 'cpu', reason: `WebGPU failed (${(e as Error).message}): running on the CPU` } };
  }
}

/** Where the model runs, in a few words: the CPU backend's threads or the WebGPU adapter. */
export function whereItRuns(model: LanguageModel): string {
  return model instanceof CpuLlmModel ? model.description : `WebGPU (${adapterLabel(model.adapter)})`;
}
