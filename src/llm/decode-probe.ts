/**
 * The LLM's `auto` measurement on a hardware adapter: a few real decode steps on each backend,
 * through a few layers of the model's own shapes and weight dtype (config.json's), with synthetic weights.
 *
 * Why whole layers and not one GEMV: decode at M = 1 is bound by per-dispatch and per-step costs
 * as much as by weight bandwidth (on an H100 ≈ 8.5 µs between WebGPU dispatches, serialised per
 * token, docs/benchmarks.md), and a lone GEMV times neither that nor the CPU's barriers between
 * steps. Why synthetic weights: the real ones have not been streamed when the choice is made, and
 * loading the model twice would cost more than the choice saves. Each backend times a pass over
 * one layer and over `k` layers at M = 1; the difference gives a layer's cost, the rest the fixed
 * cost of a step (submit, read back, thread wake-up), and a step of the real model is estimated as
 * fixed + numLayers · layer. The output head is left out (a vocab-sized GEMV on both backends).
 */
import type { ThreadSpawner } from '../cpu/threads.ts';
import { tensorNames, type LlamaConfig } from './config.ts';
import { CpuLlmModel } from './cpu-model.ts';
import { encodeFloats, type FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';
import { GpuModel } from './gpu-model.ts';
import { SINGLE_FILE, type ModelManifest } from './loader.ts';
import type { CausalLM, KvCache } from './model-types.ts';
import { encodeSafetensors, type TensorToWrite } from './safetensors.ts';
import { MemorySource, type ModelSource } from './source.ts';

/** One backend's estimate of a decode step of the whole model (head excluded), in ms. */
export interface DecodeTiming {
  readonly stepMs: number;
  readonly layerMs: number;
  /** What a step costs besides its layers (submission, read-back, waking threads). */
  readonly fixedMs: number;
  readonly tokensPerSecond: number;
  /** Timed passes (each of one layer and of `layers`). */
  readonly rounds: number;
}

export interface DecodeProbe {
  readonly cpu: DecodeTiming;
  readonly gpu: DecodeTiming;
  /** Layers in the longer timed pass, of the model's numLayers. */
  readonly layers: number;
  readonly numLayers: number;
  readonly dtype: FloatDType;
  /** Positions in the KV cache while timing. */
  readonly context: number;
  /** Wall time of the whole probe (both loads included). */
  readonly wallMs: number;
  /** Where that time went: writing the synthetic layers, loading them on each backend. */
  readonly synthesizeMs: number;
  readonly gpuLoadMs: number;
  readonly cpuLoadMs: number;
}

export interface DecodeProbeOptions {
  readonly gpu: GPU;
  readonly spawner?: ThreadSpawner;
  readonly threads?: number;
  /** Layers in the longer pass (default 2: loading the layers is most of the probe's time). */
  readonly layers?: number;
  /** Timing budget per backend in ms (default 60); at least 5 and at most 40 rounds. */
  readonly budgetMs?: number;
  readonly context?: number;
}

export interface ProbeChoice {
  readonly backend: 'cpu' | 'webgpu';
  readonly reason: string;
}

/**
 * The faster estimated decode step wins; a tie stays on WebGPU (it leaves the CPU to the page).
 * `where` names both sides for the reason, e.g. { cpu: 'CPU (16 threads)', gpu: 'NVIDIA H100' }.
 */
export function chooseByDecodeProbe(
  probe: Pick<DecodeProbe, 'cpu' | 'gpu' | 'layers' | 'numLayers' | 'dtype'>,
  where: { cpu: string; gpu: string },
): ProbeChoice {
  for (const [side, t] of [
    ['cpu', probe.cpu],
    ['gpu', probe.gpu],
  ] as const) {
    if (!Number.isFinite(t.stepMs) || t.stepMs <= 0) throw new LlmError('BAD_ARGUMENT', `the ${side} decode step must be a positive time, got ${t.stepMs} ms`);
  }
  const cpu = probe.cpu.stepMs < probe.gpu.stepMs;
  const figures =
    `decode ≈ ${rate(probe.cpu.stepMs)} tok/s on the CPU vs ${rate(probe.gpu.stepMs)} on WebGPU ` +
    `(${probe.cpu.stepMs.toFixed(2)} vs ${probe.gpu.stepMs.toFixed(2)} ms a step, from ${probe.layers} of ${probe.numLayers} layers, ${probe.dtype}, head left out)`;
  return cpu
    ? { backend: 'cpu', reason: `measured here, ${where.cpu} is faster than WebGPU (${where.gpu}): ${figures}` }
    : { backend: 'webgpu', reason: `measured here, WebGPU (${where.gpu}) is faster than ${where.cpu}: ${figures}` };
}

const rate = (ms: number) => (1000 / ms).toFixed(ms < 10 ? 0 : 1); // whole tokens from 100 tok/s up

/** Loads `layers` synthetic layers of the model's shapes on both backends and times decode steps. */
export async function probeDecode(manifest: ModelManifest, options: DecodeProbeOptions): Promise<DecodeProbe> {
  const start = performance.now();
  const c = manifest.config;
  const dtype = checkpointDType(manifest);
  const layers = options.layers ?? 2;
  if (!Number.isInteger(layers) || layers < 2) throw new LlmError('BAD_ARGUMENT', `the probe needs at least 2 layers, got ${layers}`);
  const context = options.context ?? 64;
  const probeSource = syntheticLayers(manifest, dtype, layers);
  const synthesized = performance.now();
  const shared = { fromLayer: 1, toLayer: 1 + layers, maxContext: context + 8, maxTokens: context };
  const budgetMs = options.budgetMs ?? 60;
  const gpuModel = await GpuModel.load(probeSource, { ...shared, gpu: options.gpu });
  const gpuLoadMs = performance.now() - synthesized;
  let gpu: DecodeTiming;
  try {
    gpu = await timeSteps(gpuModel, c, layers, context, budgetMs);
  } finally {
    gpuModel.destroy();
  }
  const cpuLoadStart = performance.now();
  const cpuModel = await CpuLlmModel.load(probeSource, { ...shared, spawner: options.spawner, threads: options.threads });
  const cpuLoadMs = performance.now() - cpuLoadStart;
  let cpu: DecodeTiming;
  try {
    cpu = await timeSteps(cpuModel, c, layers, context, budgetMs);
  } finally {
    cpuModel.destroy();
  }
  const wallMs = performance.now() - start;
  return { cpu, gpu, layers, numLayers: c.numLayers, dtype, context, wallMs, synthesizeMs: synthesized - start, gpuLoadMs, cpuLoadMs };
}

const TORCH_DTYPES: Readonly<Record<string, FloatDType>> = { bfloat16: 'BF16', float16: 'F16', float32: 'F32' };

/**
 * The checkpoint's dtype as config.json states it (torch_dtype, or dtype in newer transformers);
 * BF16 when it says nothing, as most checkpoints are. Not from a weight file's header: opening a
 * file through the browser's CachingSource and stopping after the header would leave its cache
 * write unfinished.
 */
function checkpointDType(manifest: ModelManifest): FloatDType {
  return TORCH_DTYPES[manifest.config.torchDtype ?? ''] ?? 'BF16';
}

/** A model folder in memory: the real config with numLayers = layers + 2, and layers [1, 1 + layers) filled with small values. */
function syntheticLayers(manifest: ModelManifest, dtype: FloatDType, layers: number): ModelSource {
  const c = manifest.config;
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const pattern = encodeFloats(
    dtype,
    Array.from({ length: 4099 }, (_, i) => Math.sin(i * 1.7) * 0.04),
  );
  const ones = encodeFloats(dtype, [1]);
  const fill = (count: number, source: Uint8Array) => {
    const out = new Uint8Array(count * (dtype === 'F32' ? 4 : 2));
    out.set(source.subarray(0, Math.min(source.length, out.length)));
    for (let have = Math.min(source.length, out.length); have < out.length; have *= 2) out.copyWithin(have, 0, Math.min(have, out.length - have));
    return out;
  };
  const tensors: TensorToWrite[] = [];
  const add = (name: string, shape: number[], values = pattern) =>
    tensors.push({
      name,
      dtype,
      shape,
      bytes: fill(
        shape.reduce((a, b) => a * b, 1),
        values,
      ),
    });
  for (let l = 1; l < 1 + layers; l++) {
    const n = tensorNames.layer(l);
    add(n.inputNorm, [D], ones);
    add(n.postNorm, [D], ones);
    add(n.q, [qDim, D]);
    add(n.k, [kvDim, D]);
    add(n.v, [kvDim, D]);
    add(n.o, [D, qDim]);
    add(n.gate, [F, D]);
    add(n.up, [F, D]);
    add(n.down, [D, F]);
    if (c.qkvBias)
      for (const [name, len] of [
        [n.qBias, qDim],
        [n.kBias, kvDim],
        [n.vBias, kvDim],
      ] as const)
        add(name, [len]);
    if (c.oBias) add(n.oBias, [D]);
    if (c.mlpBias)
      for (const [name, len] of [
        [n.gateBias, F],
        [n.upBias, F],
        [n.downBias, D],
      ] as const)
        add(name, [len]);
  }
  const config = { ...manifest.rawConfig, num_hidden_layers: layers + 2 };
  const files = new Map<string, Uint8Array>([
    ['config.json', new TextEncoder().encode(JSON.stringify(config))],
    [SINGLE_FILE, encodeSafetensors(tensors)],
  ]);
  return new MemorySource(files, `decode probe (${manifest.config.modelType} shapes)`, 1 << 22);
}

/** Alternates one-layer and `layers`-layer passes at M = 1 after a prefill of `context` positions; medians of each. */
async function timeSteps<K extends KvCache>(model: CausalLM<K>, c: LlamaConfig, layers: number, context: number, budgetMs: number): Promise<DecodeTiming> {
  const D = c.hiddenSize;
  const cache = model.createKvCache({ fromLayer: 1, toLayer: 1 + layers, maxContext: context + 8 });
  const row = Float32Array.from({ length: D }, (_, i) => Math.cos(i * 0.37));
  const prefill = new Float32Array(context * D);
  for (let t = 0; t < context; t++) prefill.set(row, t * D);
  await model.forward({ hidden: prefill, kvCache: cache });
  // Every pass sits at position `context`: a pass through the cache's last layer would advance it.
  const pass = async (toLayer: number) => {
    cache.length = context;
    const t0 = performance.now();
    await model.forward({ hidden: row, fromLayer: 1, toLayer, kvCache: cache });
    return performance.now() - t0;
  };
  for (let i = 0; i < 2; i++) {
    await pass(2);
    await pass(1 + layers);
  }
  const shortMs: number[] = [];
  const longMs: number[] = [];
  const began = performance.now();
  while (shortMs.length < 40 && (shortMs.length < 5 || performance.now() - began < budgetMs)) {
    shortMs.push(await pass(2));
    longMs.push(await pass(1 + layers));
  }
  const one = median(shortMs);
  const all = median(longMs);
  const layerMs = Math.max(0, (all - one) / (layers - 1));
  const fixedMs = Math.max(0, one - layerMs);
  const stepMs = fixedMs + c.numLayers * layerMs;
  return { stepMs, layerMs, fixedMs, tokensPerSecond: 1000 / stepMs, rounds: shortMs.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
