/**
 * The peer of the LLM benchmark: the same model folder exported to ONNX (onnx-llama.ts) and run by
 * onnxruntime-web's WebGPU execution provider, the runtime under @huggingface/transformers'
 * `device: 'webgpu'`. It implements CausalLM, so `generate()` drives and times it exactly like the
 * engine: prefill of the prompt, then one token per run with the KV cache kept on the GPU between
 * runs (present → past as GPU buffers, as transformers.js does), logits of the last position read
 * back each step. Node: runs on the `webgpu` package's Dawn with two shims (see installNodeShims).
 */
import type * as OrtTypes from 'onnxruntime-web';
import type { LlamaConfig } from './config.ts';
import { f16ToNumber } from './dtype.ts';
import { LlmError } from './errors.ts';
import { readManifest, streamWeights } from './loader.ts';
import type { CausalLM, ForwardArgs, ForwardResult, KvCache } from './model-types.ts';
import { llamaOnnxModel, onnxNames, type OnnxFloat } from './onnx-llama.ts';
import type { LoadedTensor } from './safetensors.ts';
import type { ModelSource } from './source.ts';

type Ort = typeof OrtTypes;

export interface OrtKvCache extends KvCache {
  past: Map<string, OrtTypes.Tensor>;
}

/**
 * Node only. (1) onnxruntime-web finds WebGPU at `navigator.gpu`; Node has no such global.
 * (2) Its wasm heap is a SharedArrayBuffer and it passes views of it to `queue.writeBuffer`, which
 * Dawn's Node binding rejects ("Invalid argument"); browsers accept them. The shim copies such a
 * view into a plain buffer first: one extra CPU copy of what is uploaded (inputs, uniforms), not of
 * the weights' GPU reads, so it does not slow the measured steady state.
 */
export function installNodeShims(gpu: GPU): void {
  const g = globalThis as { navigator?: { gpu?: GPU }; GPUQueue?: { prototype: GPUQueue } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const proto = g.GPUQueue?.prototype as (GPUQueue & { __sprintnetShared?: boolean }) | undefined;
  if (!proto || proto.__sprintnetShared) return;
  const original = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset = 0, size?: number) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const unit = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const count = size ?? data.byteLength / unit - dataOffset;
      const copy = new Uint8Array(data.buffer, data.byteOffset + dataOffset * unit, count * unit).slice();
      return original.call(this, buffer, offset, copy, 0, copy.byteLength);
    }
    return original.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
  proto.__sprintnetShared = true;
}

export interface OrtPeerOptions {
  readonly dtype: OnnxFloat;
  /** Longest context a cache may reach (the rotary table's rows). */
  readonly maxContext: number;
  /** Folder of onnxruntime-web's .wasm files when they are not next to its module (bundled runs). */
  readonly wasmPaths?: string;
}

async function loadTensors(source: ModelSource): Promise<{ config: LlamaConfig; tensors: Map<string, LoadedTensor> }> {
  const manifest = await readManifest(source);
  const tensors = new Map<string, LoadedTensor>();
  let buffer: Uint8Array | null = null;
  await streamWeights(source, manifest, {
    data(_file, e) {
      if (e.offset === 0) buffer = new Uint8Array(e.tensor.end - e.tensor.begin);
      buffer!.set(e.bytes, e.offset);
      if (e.last) tensors.set(e.tensor.name, { info: e.tensor, bytes: buffer! });
    },
  });
  return { config: manifest.config, tensors };
}

export class OrtPeerModel implements CausalLM<OrtKvCache> {
  private constructor(
    readonly config: LlamaConfig,
    readonly ort: Ort,
    private readonly session: OrtTypes.InferenceSession,
    readonly dtype: OnnxFloat,
    readonly maxContext: number,
    /** Size of the ONNX model (weights as initializers, in `dtype`). */
    readonly onnxBytes: number,
  ) {}

  static async load(source: ModelSource, options: OrtPeerOptions): Promise<OrtPeerModel> {
    const { config, tensors } = await loadTensors(source);
    const onnx = llamaOnnxModel(config, tensors, { dtype: options.dtype, maxPositions: options.maxContext });
    tensors.clear();
    const ort = (await import('onnxruntime-web/webgpu')) as unknown as Ort;
    if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
    ort.env.logLevel = 'error';
    const outputs: Record<string, 'gpu-buffer' | 'cpu'> = { [onnxNames.logits]: 'cpu' };
    for (let i = 0; i < config.numLayers; i++) {
      outputs[onnxNames.presentKey(i)] = 'gpu-buffer';
      outputs[onnxNames.presentValue(i)] = 'gpu-buffer';
    }
    let session: OrtTypes.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnx, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all', preferredOutputLocation: outputs });
    } catch (cause) {
      throw new LlmError('UNSUPPORTED_MODEL', `onnxruntime-web (WebGPU) refused the ${options.dtype} ONNX export: ${(cause as Error).message}`, { cause });
    }
    return new OrtPeerModel(config, ort, session, options.dtype, options.maxContext, onnx.byteLength);
  }

  get version(): string {
    return this.ort.env.versions.web ?? 'unknown';
  }

  createKvCache(options: { fromLayer?: number; toLayer?: number; maxContext?: number } = {}): OrtKvCache {
    const c = this.config;
    if ((options.fromLayer ?? 0) !== 0 || (options.toLayer ?? c.numLayers) !== c.numLayers)
      throw new LlmError('BAD_ARGUMENT', 'the ONNX peer runs whole models only');
    const empty = () => new this.ort.Tensor(this.dtype, this.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
    const past = new Map<string, OrtTypes.Tensor>();
    for (let i = 0; i < c.numLayers; i++) {
      past.set(onnxNames.pastKey(i), empty());
      past.set(onnxNames.pastValue(i), empty());
    }
    return { fromLayer: 0, toLayer: c.numLayers, maxContext: Math.min(options.maxContext ?? this.maxContext, this.maxContext), length: 0, past };
  }

  async forward(args: ForwardArgs<OrtKvCache>): Promise<ForwardResult> {
    const { tokens, kvCache: cache } = args;
    if (!tokens || args.hidden || (args.logits ?? 'last') !== 'last')
      throw new LlmError('BAD_ARGUMENT', "the ONNX peer takes tokens and returns the last position's logits");
    const T = tokens.length;
    if (cache.length + T > cache.maxContext) throw new LlmError('CONTEXT_FULL', `context ${cache.maxContext} is full`);
    const ids = BigInt64Array.from(tokens, (token) => BigInt(token));
    const total = cache.length + T;
    const feeds: Record<string, OrtTypes.Tensor> = {
      [onnxNames.inputIds]: new this.ort.Tensor('int64', ids, [1, T]),
      [onnxNames.seqlensK]: new this.ort.Tensor('int32', Int32Array.of(total - 1), [1]),
      [onnxNames.totalLength]: new this.ort.Tensor('int32', Int32Array.of(total), []),
    };
    for (const [name, t] of cache.past) feeds[name] = t;
    const out = await this.session.run(feeds);
    const output = (name: string): OrtTypes.Tensor => {
      const tensor = out[name];
      if (!tensor) throw new Error(`the ONNX peer's session gave no output ${name}`);
      return tensor;
    };
    for (let i = 0; i < this.config.numLayers; i++) {
      const pairs: [string, string][] = [
        [onnxNames.pastKey(i), onnxNames.presentKey(i)],
        [onnxNames.pastValue(i), onnxNames.presentValue(i)],
      ];
      for (const [pastName, presentName] of pairs) {
        cache.past.get(pastName)!.dispose();
        cache.past.set(pastName, output(presentName));
      }
    }
    cache.length = total;
    const logitsTensor = output(onnxNames.logits);
    const raw = logitsTensor.data as Float32Array | Uint16Array;
    const logits = raw instanceof Float32Array ? Float32Array.from(raw) : Float32Array.from(raw, f16ToNumber);
    logitsTensor.dispose();
    return { logits };
  }

  destroyKvCache(cache: OrtKvCache): void {
    for (const t of cache.past.values()) t.dispose();
    cache.past.clear();
  }

  async destroy(): Promise<void> {
    await this.session.release();
  }
}
