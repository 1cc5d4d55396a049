/**
 * Which backend runs the language model, like the Sprint engine's choice (src/cpu/select.ts):
 * `auto` takes the CPU backend when WebGPU is missing or its adapter is a software renderer
 * (SwiftShader, WARP, lavapipe: a CPU behind a GPU API); on a hardware adapter it times a few
 * decode steps on both (./decode-probe.ts) and takes the faster. `cpu` and `webgpu` force one. Browser-safe: Node callers pass `gpu` (src/gpu/gpu-node.ts) and `spawner`
 * (src/cpu/threads-node.ts).
 */
import { decideBackend, type BackendChoice, type BackendDecision } from '../cpu/backend.ts';
import type { ThreadSpawner } from '../cpu/threads.ts';
import { browserSpawner, canShareMemory } from '../cpu/threads-browser.ts';
import { adapterLabel } from '../gpu/device.ts';
import { isGpuError } from '../gpu/errors.ts';
import { CpuLlmModel } from './cpu-model.ts';
import { chooseByDecodeProbe, probeDecode, type DecodeProbe } from './decode-probe.ts';
import { GpuModel } from './gpu-model.ts';
import { readManifest, type LoadProgress } from './loader.ts';
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
  /** Under `auto` with a hardware adapter, time decode steps on both backends before choosing (default true). */
  readonly measure?: boolean;
}

export interface LlmBackendDecision extends BackendDecision {
  /** The decode timings behind a measured `auto` choice. */
  readonly decodeProbe?: DecodeProbe;
}

export interface LoadedLanguageModel {
  readonly model: LanguageModel;
  readonly decision: LlmBackendDecision;
}

/** Probes by model, adapter and thread count: a model loaded again in this page does not pay twice. */
const probes = new Map<string, Promise<DecodeProbe>>();

/** The CPU backend cannot hold more than its 4 GiB WebAssembly memory (weights, caches, activations). */
const CPU_WEIGHT_LIMIT = 3.5 * 2 ** 30;

export async function loadLanguageModel(source: ModelSource, options: LoadLanguageModelOptions = {}): Promise<LoadedLanguageModel> {
  const choice = options.backend ?? 'auto';
  const gpu = options.gpu === undefined ? (typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { gpu?: GPU }).gpu) : options.gpu;
  let decision: LlmBackendDecision = await decideBackend(choice, { gpu, cpuAvailable: canShareMemory() });
  // decideBackend without `measure` leaves a hardware adapter on WebGPU unmeasured: measure it here.
  const unmeasured =
    choice === 'auto' && decision.backend === 'webgpu' && decision.adapter?.available === true && !decision.adapter.software && canShareMemory();
  if (unmeasured && gpu && options.measure !== false) decision = await measureDecode(source, decision, gpu, options);
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

async function measureDecode(source: ModelSource, decision: BackendDecision, gpu: GPU, options: LoadLanguageModelOptions): Promise<LlmBackendDecision> {
  const label = decision.adapter?.label ?? 'adapter';
  try {
    const manifest = await readManifest(source);
    if (manifest.totalWeightBytes !== null && manifest.totalWeightBytes > CPU_WEIGHT_LIMIT) {
      const gb = (manifest.totalWeightBytes / 2 ** 30).toFixed(1);
      return { ...decision, reason: `hardware WebGPU adapter (${label}); the CPU backend cannot hold ${gb} GiB of weights, so nothing was measured` };
    }
    const spawner = options.spawner ?? browserSpawner;
    const threads = options.threads ?? Math.max(1, spawner.cores());
    const key = `${source.label}|${label}|${threads}`;
    let probe = probes.get(key);
    if (!probe) {
      probe = probeDecode(manifest, { gpu, spawner, threads });
      probes.set(key, probe);
      probe.catch(() => probes.delete(key));
    }
    const measured = await probe;
    const choice = chooseByDecodeProbe(measured, { cpu: `the CPU (${threads} thread${threads === 1 ? '' : 's'})`, gpu: label });
    return { ...decision, backend: choice.backend, reason: choice.reason, decodeProbe: measured };
  } catch (e) {
    if (options.signal?.aborted) throw e;
    return { ...decision, reason: `hardware WebGPU adapter (${label}); the decode measurement failed (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Where the model runs, in a few words: the CPU backend's threads or the WebGPU adapter. */
export function whereItRuns(model: LanguageModel): string {
  return model instanceof CpuLlmModel ? model.description : `WebGPU (${adapterLabel(model.adapter)})`;
}
