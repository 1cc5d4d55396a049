/**
 * A whole Llama-family model of given shapes with deterministic random weights made on the GPU,
 * for decode benchmarks at sizes whose weights cannot be downloaded or written here (an 8B model
 * is ≈ 16 GB). `GpuModel.load` reads it through the ordinary ModelSource path: config.json, and a
 * safetensors stream whose vectors (norms, biases) carry their values and whose matrices carry
 * zeros from one reused host chunk; then every matrix is overwritten on the GPU by the seeded fill
 * kernel (synthetic-weights.ts). So host memory stays at one chunk whatever the model's size, and
 * the model runs the engine's real decode path (fused kernels, greedy blocks, binding chunks).
 */
import { GpuError } from '../gpu/errors.ts';
import type { GpuDevice } from '../gpu/device.ts';
import { expectedTensors, parseConfig, tensorNames, type LlamaConfig, type TensorShape } from './config.ts';
import { DTYPE_BYTES, encodeFloats, type FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';
import { GpuModel, type GpuModelOptions } from './gpu-model.ts';
import { SINGLE_FILE } from './loader.ts';
import type { LoadedTensor, TensorInfo } from './safetensors.ts';
import type { ModelSource, OpenedFile } from './source.ts';
import { SYNTHETIC_PRESETS } from './synthetic-presets.ts';
import { TEST_MODEL_MARKER } from './test-model.ts';
import { fillOnGpu, scaleExponent, syntheticValue, tensorKey } from './synthetic-weights.ts';

export interface SyntheticModelSpec {
  /** config.json's fields (a preset's or a file's). */
  readonly config: Readonly<Record<string, unknown>>;
  /** For messages and the bench's JSON: the preset's name or the config's path. */
  readonly label: string;
  readonly dtype: FloatDType;
  readonly seed: number;
}

/** A preset by name (SYNTHETIC_PRESETS), typed error otherwise. */
export function presetSpec(name: string, dtype: FloatDType = 'BF16', seed = 1): SyntheticModelSpec {
  const preset = SYNTHETIC_PRESETS[name];
  if (!preset) throw new LlmError('BAD_ARGUMENT', `no synthetic preset '${name}' (presets: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`);
  return { config: preset.config, label: name, dtype, seed };
}

const ZERO_CHUNK_BYTES = 8 << 20;

/** Weight matrices a decode step reads: q, k, v, o, gate, up, down per layer and the head (tied or not); vectors and the one embedding row left out. */
export function syntheticBytesPerToken(c: LlamaConfig, dtype: FloatDType): number {
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const perLayer = 2 * D * qDim + 2 * D * kvDim + 3 * D * c.intermediateSize;
  return (c.numLayers * perLayer + c.vocabSize * D) * DTYPE_BYTES[dtype]!;
}

export interface SyntheticPlan {
  readonly config: LlamaConfig;
  /** Every tensor's bytes (embedding, head when untied, layers, norms, biases). */
  readonly weightBytes: number;
  readonly bytesPerToken: number;
  /** One KV cache of `maxContext` positions (f32 keys and values). */
  readonly kvCacheBytes: number;
  /** Activation buffers (maxTokens rows), the RoPE table and the logits: an estimate of GpuModel's. */
  readonly activationBytes: number;
  readonly totalBytes: number;
  /** The binding size tensors are split under (min of maxStorageBufferBindingSize, maxBufferSize, maxBindingBytes). */
  readonly bindingBytes: number;
  /** Whether every layer matrix fits one binding (the fused decode kernels need it; otherwise the legacy ones run). */
  readonly layersFitOneBinding: boolean;
}

export interface PlanOptions {
  readonly maxTokens: number;
  readonly maxContext: number;
  readonly maxBindingBytes?: number;
  /** GPU memory the model may take; WebGPU does not tell a device's size, so without it only the adapter's limits are checked. */
  readonly memoryBudgetBytes?: number;
}

/**
 * What the model needs against the adapter's limits and the budget, before anything is allocated:
 * INSUFFICIENT_LIMITS when a tensor row exceeds the binding or buffer limit, INSUFFICIENT_MEMORY
 * when the total exceeds the budget.
 */
export function planSyntheticModel(
  spec: SyntheticModelSpec,
  limits: Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>,
  options: PlanOptions,
): SyntheticPlan {
  const c = parseConfig(spec.config);
  const bytes = DTYPE_BYTES[spec.dtype];
  if (bytes === undefined) throw new LlmError('UNSUPPORTED_DTYPE', `synthetic weights are F32, F16 or BF16, not ${spec.dtype}`);
  const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, options.maxBindingBytes ?? Infinity);
  let weightBytes = 0;
  let fits = true;
  for (const [name, shape] of expectedTensors(c)) {
    const rows = shape.length === 2 ? shape[0] : 1;
    const rowBytes = (shape.length === 2 ? shape[1] : shape[0]) * bytes;
    if (rowBytes > binding)
      throw new GpuError('INSUFFICIENT_LIMITS', `${spec.label}: a row of ${name} is ${rowBytes} bytes, over the adapter's binding limit of ${binding} bytes`);
    if (shape.length === 2 && rows * rowBytes > binding && !isEnd(name)) fits = false;
    weightBytes += rows * rowBytes;
  }
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const kvCacheBytes = 2 * c.numLayers * options.maxContext * kvDim * 4;
  const rowFloats = 3 * D + 2 * qDim + 4 * kvDim + 3 * c.intermediateSize;
  const activationBytes = 4 * (options.maxTokens * rowFloats + options.maxContext * c.headDim + options.maxTokens * c.vocabSize);
  const totalBytes = weightBytes + kvCacheBytes + activationBytes;
  const budget = options.memoryBudgetBytes;
  if (budget !== undefined && totalBytes > budget)
    throw new GpuError(
      'INSUFFICIENT_MEMORY',
      `${spec.label} in ${spec.dtype} needs ≈ ${gib(totalBytes)} of GPU memory (weights ${gib(weightBytes)}, KV cache ${gib(kvCacheBytes)}, activations ${gib(activationBytes)}), over the budget of ${gib(budget)}`,
      { requiredBytes: totalBytes },
    );
  return {
    config: c,
    weightBytes,
    bytesPerToken: syntheticBytesPerToken(c, spec.dtype),
    kvCacheBytes,
    activationBytes,
    totalBytes,
    bindingBytes: binding,
    layersFitOneBinding: fits,
  };
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
const isEnd = (name: string) => name === tensorNames.embed || name === tensorNames.lmHead;

/** Values of a vector (norm or bias) on the host: norms 1 ± 0.015, biases ± 0.25. */
function vectorValues(spec: SyntheticModelSpec, name: string, length: number): Uint8Array {
  const key = tensorKey(spec.seed, name);
  const norm = name.endsWith('norm.weight');
  return encodeFloats(
    spec.dtype,
    Array.from({ length }, (_, i) => (norm ? 1 + syntheticValue(key, i, 12) : syntheticValue(key, i, 8))),
  );
}

/** The fill kernel's scale exponent of a matrix: std 1/√fan-in, the embedding 0.5. */
export function matrixExponent(name: string, shape: TensorShape): number {
  return scaleExponent(name === tensorNames.embed ? 0.5 : 1 / Math.sqrt(shape[shape.length - 1]!));
}

/** The model as a folder: config.json (dtype and seed recorded) and a lazily streamed model.safetensors. */
export function syntheticSource(spec: SyntheticModelSpec): ModelSource {
  const c = parseConfig(spec.config);
  const bytes = DTYPE_BYTES[spec.dtype]!;
  const config = {
    ...spec.config,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[spec.dtype],
    [TEST_MODEL_MARKER]: { seed: spec.seed, note: `synthetic ${spec.label}: random weights made on the GPU, this model generates nonsense` },
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const tensors: { name: string; shape: TensorShape; bytes: number }[] = [];
  const entries: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of expectedTensors(c)) {
    const n = shape.reduce((a, b) => a * b, 1) * bytes;
    entries[name] = { dtype: spec.dtype, shape, data_offsets: [offset, offset + n] };
    tensors.push({ name, shape, bytes: n });
    offset += n;
  }
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + jsonBytes.byteLength);
  new DataView(head.buffer).setUint32(0, jsonBytes.byteLength, true);
  head.set(jsonBytes, 8);
  const fileBytes = head.byteLength + offset;
  const label = `synthetic ${spec.label} (${spec.dtype}, seed ${spec.seed})`;
  return {
    label,
    text: async (name) => (name === 'config.json' ? new TextDecoder().decode(configBytes) : null),
    size: async (name) => (name === 'config.json' ? configBytes.byteLength : name === SINGLE_FILE ? fileBytes : null),
    open: async (name): Promise<OpenedFile> => {
      if (name !== SINGLE_FILE) throw new LlmError('MISSING_FILE', `${label}: no ${name}`);
      return {
        size: fileBytes,
        chunks: (async function* () {
          yield head;
          let zeros: Uint8Array | null = null;
          for (const t of tensors) {
            if (t.shape.length === 1) {
              yield vectorValues(spec, t.name, t.shape[0]);
              continue;
            }
            zeros ??= new Uint8Array(Math.min(ZERO_CHUNK_BYTES, offset));
            for (let left = t.bytes; left > 0; left -= zeros.byteLength) yield zeros.subarray(0, Math.min(left, zeros.byteLength));
          }
        })(),
      };
    },
  };
}

export interface SyntheticLoadOptions extends Omit<GpuModelOptions, 'device' | 'gpu'> {
  readonly device: GpuDevice;
  /** Progress lines (weights allocated, compiled, filled), e.g. to stderr. */
  readonly onStage?: (message: string) => void;
}

export interface SyntheticModel {
  readonly model: GpuModel;
  readonly plan: SyntheticPlan;
  /** Allocating the weights (zeros streamed) and compiling, as GpuModel.load does. */
  readonly loadMs: number;
  /** The fill kernel over every matrix. */
  readonly fillMs: number;
}

/** Checks the plan against the device, loads the model through GpuModel.load, then fills every matrix on the GPU. */
export async function loadSyntheticModel(spec: SyntheticModelSpec, options: SyntheticLoadOptions): Promise<SyntheticModel> {
  const dev = options.device;
  const maxTokens = options.maxTokens ?? 64;
  const plan = planSyntheticModel(spec, dev.limits, {
    maxTokens,
    maxContext: Math.min(options.maxContext ?? 2048, parseConfig(spec.config).maxPositions),
    maxBindingBytes: options.maxBindingBytes,
    memoryBudgetBytes: options.memoryBudgetBytes,
  });
  const say = options.onStage ?? (() => {});
  say(
    `${spec.label}: ${plan.config.numLayers} layers, ${gib(plan.weightBytes)} of ${spec.dtype} weights, ≈ ${gib(plan.totalBytes)} of GPU memory with the KV cache and activations`,
  );
  const t0 = performance.now();
  let quarter = 0;
  const model = await GpuModel.load(syntheticSource(spec), {
    ...options,
    device: dev,
    maxTokens,
    onProgress: (p) => {
      options.onProgress?.(p);
      if (p.totalBytes === null || p.totalBytes === 0) return;
      // Allocation streams zeros through writeBuffer (GpuModel.load's path): seconds for an 8B model.
      const reached = Math.floor((4 * p.loadedBytes) / p.totalBytes);
      if (reached <= quarter) return;
      quarter = reached;
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      say(reached < 4 ? `weights allocated ${25 * reached} % (${s} s)` : `weights allocated in ${s} s; compiling kernels`);
    },
  });
  const loadMs = performance.now() - t0;
  try {
    const t1 = performance.now();
    for (const [name, shape] of expectedTensors(plan.config)) {
      if (shape.length !== 2) continue;
      await fillOnGpu(dev, model.weightChunks(name), tensorKey(spec.seed, name), matrixExponent(name, shape));
    }
    const fillMs = performance.now() - t1;
    say(`loaded and compiled in ${(loadMs / 1000).toFixed(1)} s; weights filled on the GPU in ${(fillMs / 1000).toFixed(2)} s`);
    return { model, plan, loadMs, fillMs };
  } catch (e) {
    model.destroy();
    throw e;
  }
}

/** Reads every weight back from the GPU (small models: tests compare with the float64 reference). */
export async function readBackWeights(model: GpuModel, dev: GpuDevice): Promise<Map<string, LoadedTensor>> {
  const out = new Map<string, LoadedTensor>();
  let begin = 0;
  for (const [name, shape] of expectedTensors(model.config, model.fromLayer, model.toLayer)) {
    const t = model.weightChunks(name);
    const rowBytes = t.cols * DTYPE_BYTES[t.dtype]!;
    const bytes = new Uint8Array(t.rows * rowBytes);
    for (const chunk of t.chunks) bytes.set(new Uint8Array(await dev.read(chunk.buffer, 0, chunk.rowCount * rowBytes)), chunk.rowStart * rowBytes);
    const info: TensorInfo = { name, dtype: t.dtype, shape, begin, end: begin + bytes.byteLength };
    begin = info.end;
    out.set(name, { info, bytes });
  }
  return out;
}
