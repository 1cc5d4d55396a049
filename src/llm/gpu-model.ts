/**
 * The decoder on WebGPU: weights streamed from safetensors straight into GPU buffers in their own
 * dtype (F32/F16/BF16, row-chunked under the binding limit), f32 activations, a KV cache per
 * layer, and a layer-range forward `forward({ fromLayer, toLayer, tokens | hidden, kvCache })`.
 * Runs on src/gpu's GpuDevice (error scopes, budget, pipeline cache, readback) in Node (Dawn) and
 * in a browser Worker alike.
 */
import { GpuDevice } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { checkLayerRange, expectedTensors, tensorNames, type LlamaConfig } from './config.ts';
import { DTYPE_BYTES, type FloatDType } from './dtype.ts';
import { LlmError, throwIfAborted } from './errors.ts';
import { checkCacheArgs, checkForwardArgs } from './forward-args.ts';
import { readManifest, streamWeights, type LoadProgress, type ModelManifest } from './loader.ts';
import { MAX_GREEDY_BLOCK, type CausalLM, type DrawParams, type ForwardArgs, type ForwardResult, type GreedyBlock, type KvCache } from './model-types.ts';
import { GpuSampler } from './gpu-sampler.ts';
import { ropeTable } from './rope.ts';
import { at } from '../sprint/indexing.ts';
import {
  attentionKernel,
  elementwiseGrid,
  embedKernel,
  linearGrid,
  linearKernel,
  linearKey,
  linearUniform,
  rmsnormKernel,
  ropeCacheKernel,
  siluMulKernel,
  type LinearVariant,
} from './shaders/llm.wgsl.ts';
import type { ModelSource } from './source.ts';
import {
  decodeAttentionKernel,
  decodeGemvGrid,
  decodeGemvKernel,
  decodeGemvKey,
  decodeGemvUniform,
  decodeRopeKernel,
  gemvOutputs,
  argmaxKernel,
  ARGMAX_CHUNK,
  checkGemvShape,
  DEFAULT_GEMV_SHAPE,
  gemvShapeLabel,
  type DecodeGemvShape,
  type DecodeGemvSpec,
} from './shaders/decode.wgsl.ts';

export type LinearChoice = 'auto' | 'direct' | 'gemv';

/**
 * 'fused': batches of up to 4 rows run the decode kernels (shaders/decode.wgsl.ts: RMSNorm fused
 * into the q|k|v and gate|up GEMVs, SwiGLU and residual adds in their epilogues, attention split
 * over keys), 6 dispatches per layer; longer batches keep the tiled matmuls but use the same
 * attention kernel. 'legacy': the kernels before that change (12 dispatches per layer, one
 * invocation per (row, head) walking the whole cache), kept as the benchmark's baseline.
 */
export type DecodeKernels = 'fused' | 'legacy';

/** Most rows the fused decode GEMV takes in one pass. */
export const DECODE_MAX_ROWS = 4;

export interface GpuModelOptions {
  /** A device to share; otherwise one is made from `gpu` (Node: getGpu() from src/gpu/gpu-node.ts; browser: navigator.gpu). */
  readonly device?: GpuDevice;
  readonly gpu?: GPU;
  /** Load only layers [fromLayer, toLayer) (split inference). */
  readonly fromLayer?: number;
  readonly toLayer?: number;
  /** Most tokens one GPU pass takes; longer inputs run in several passes (default 64). */
  readonly maxTokens?: number;
  /** Longest context any KV cache of this model may hold (default min(max_position_embeddings, 2048)). */
  readonly maxContext?: number;
  /** Split weight tensors into bindings of at most this many bytes (default: the adapter's limit). */
  readonly maxBindingBytes?: number;
  readonly memoryBudgetBytes?: number;
  /** Matmul form: 'gemv' (workgroup reduction over K) for small batches on GPUs, 'direct' tiles otherwise. */
  readonly linear?: LinearChoice;
  /** RMSNorm: one invocation per row (1) or a workgroup per row (64); default by adapter. */
  readonly normThreads?: 1 | 64;
  /** Default 'fused' on GPUs, 'legacy' on CPU adapters; also settable on the model between forwards (benchmarks compare both). */
  readonly decodeKernels?: DecodeKernels;
  /**
   * Lanes per output row and 16-byte loads in flight per lane of every fused decode GEMV (q|k|v,
   * o, gate|up, down, head); default DEFAULT_GEMV_SHAPE. Also settable on the model between forwards.
   */
  readonly decodeGemv?: DecodeGemvShape;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
}

interface Chunk {
  readonly buffer: GPUBuffer;
  readonly rowStart: number;
  readonly rowCount: number;
}

/** A tensor's first chunk: the whole tensor wherever one binding holds it (norms, biases, fused layer weights). */
function firstChunk(t: GpuTensor): GPUBuffer {
  return at(t.chunks, 0, `${t.name}: chunk`).buffer;
}

interface GpuTensor {
  readonly name: string;
  readonly dtype: FloatDType;
  readonly rows: number;
  readonly cols: number;
  readonly rowBytes: number;
  readonly rowsPerChunk: number;
  readonly chunks: Chunk[];
}

export interface GpuKvCache extends KvCache {
  readonly k: GPUBuffer[];
  readonly v: GPUBuffer[];
  /** Bind groups that depend on this cache's buffers. */
  readonly bindGroups: Map<string, GPUBindGroup>;
  /** Recorded dispatch lists per pass shape (they hold this cache's bind groups). */
  readonly plans: Map<string, readonly Dispatch[]>;
  destroyed: boolean;
}

/** What decides a pass's dispatches (positions and token values do not). */
interface PassShape {
  readonly T: number;
  readonly fromLayer: number;
  readonly toLayer: number;
  readonly cache: GpuKvCache;
  readonly tokens: number[] | null;
  readonly logitMode: 'all' | 'last' | 'none';
  /** Append the greedy pick over the last row's logits (needs logitMode 'last'). */
  readonly argmax?: boolean;
}

type Dispatch = { readonly pipeline: GPUComputePipeline; readonly group: GPUBindGroup; readonly grid: [number, number, number] };

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export class GpuModel implements CausalLM<GpuKvCache> {
  readonly fromLayer: number;
  readonly toLayer: number;
  readonly maxTokens: number;
  readonly maxContext: number;
  private readonly tensors = new Map<string, GpuTensor>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly ownsDevice: boolean;
  private acts!: Record<'dyn' | 'tokens' | 'x' | 'h' | 'q' | 'k' | 'v' | 'qkv' | 'att' | 'gate' | 'up' | 'act' | 'rope', GPUBuffer>;
  private readonly biasConcat = new Map<string, GPUBuffer>();
  /** Which kernels small batches run (see DecodeKernels); may be switched between forwards. */
  decodeKernels: DecodeKernels;
  private gemvShape: DecodeGemvShape;
  private logitsBuffer: GPUBuffer | null = null;
  private logitsRows = 0;
  /** Bumped when the logits buffer is replaced: plans that bound the old one are stale. */
  private logitsGeneration = 0;
  private queueTail: Promise<unknown> = Promise.resolve();
  readonly weightBytes: number;
  /** Bytes of weights one decoded token reads (all layer matrices + the head; the embedding row is negligible). */
  readonly bytesPerToken: number;
  /** bytesPerToken less the output head (what a forward that computes no logits reads). */
  readonly bytesPerTokenWithoutHead: number;

  private constructor(
    readonly dev: GpuDevice,
    readonly config: LlamaConfig,
    readonly manifest: ModelManifest,
    readonly options: GpuModelOptions,
    ownsDevice: boolean,
  ) {
    this.ownsDevice = ownsDevice;
    this.fromLayer = options.fromLayer ?? 0;
    this.toLayer = options.toLayer ?? config.numLayers;
    checkLayerRange(config, this.fromLayer, this.toLayer);
    this.maxTokens = options.maxTokens ?? 64;
    this.maxContext = Math.min(options.maxContext ?? 2048, config.maxPositions);
    this.weightBytes = 0;
    this.bytesPerToken = 0;
    this.bytesPerTokenWithoutHead = 0;
    // CPU adapters (SwiftShader) run big workgroups' barriers as coroutine switches: a 256-wide GEMV
    // there costs tens of ms, so they keep the barrier-free kernels.
    this.decodeKernels = options.decodeKernels ?? (dev.adapter.isFallback ? 'legacy' : 'fused');
    this.gemvShape = GpuModel.checkedShape(options.decodeGemv ?? DEFAULT_GEMV_SHAPE);
  }

  private static checkedShape(shape: DecodeGemvShape): DecodeGemvShape {
    try {
      return checkGemvShape(shape);
    } catch (e) {
      throw new LlmError('BAD_ARGUMENT', (e as Error).message, { cause: e });
    }
  }

  /** The fused decode GEMVs' shape (see GpuModelOptions.decodeGemv); switching it re-plans the next forwards. */
  get decodeGemv(): DecodeGemvShape {
    return this.gemvShape;
  }

  set decodeGemv(shape: DecodeGemvShape) {
    this.gemvShape = GpuModel.checkedShape(shape);
  }

  get adapter() {
    return this.dev.adapter;
  }

  get isTestModel(): boolean {
    return this.manifest.isTestModel;
  }

  /** Reads the folder, allocates, streams the weights to the GPU, compiles the kernels. */
  static async load(source: ModelSource, options: GpuModelOptions = {}): Promise<GpuModel> {
    if (options.decodeGemv !== undefined) GpuModel.checkedShape(options.decodeGemv); // before any device exists
    const manifest = await readManifest(source);
    const ownsDevice = !options.device;
    const dev =
      options.device ??
      (await GpuDevice.create(options.gpu ?? (typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined), {
        memoryBudgetBytes: options.memoryBudgetBytes,
      }));
    const model = new GpuModel(dev, manifest.config, manifest, options, ownsDevice);
    try {
      await model.upload(source);
      await model.allocateActivations();
      await model.compile();
    } catch (e) {
      model.destroy();
      throw e;
    }
    return model;
  }

  private maxChunkBytes(): number {
    const limits = this.dev.limits;
    return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, this.options.maxBindingBytes ?? Infinity);
  }

  private async upload(source: ModelSource): Promise<void> {
    const c = this.config;
    const expected = expectedTensors(c, this.fromLayer, this.toLayer);
    const maxChunk = this.maxChunkBytes();
    let sinceSync = 0;
    let weightBytes = 0;
    await streamWeights(
      source,
      this.manifest,
      {
        header: async (file, header) => {
          const made: GpuTensor[] = [];
          await this.dev.checked(`allocating the weights of ${file}`, () => {
            for (const t of header.tensors) {
              const shape = expected.get(t.name);
              if (!shape) continue;
              const dtype = t.dtype as FloatDType;
              const rows = shape.length === 2 ? shape[0] : 1;
              const cols = shape.length === 2 ? shape[1] : shape[0];
              const bytesPerValue = DTYPE_BYTES[dtype];
              if (bytesPerValue === undefined) throw new LlmError('UNSUPPORTED_DTYPE', `${t.name} is ${t.dtype}, which this engine does not read`);
              const rowBytes = cols * bytesPerValue;
              const rowsPerChunk = Math.max(1, Math.floor(maxChunk / rowBytes));
              if (rowBytes > maxChunk)
                throw new GpuError('INSUFFICIENT_LIMITS', `${t.name}: one row of ${rowBytes} bytes exceeds the binding limit ${maxChunk}`);
              const chunks: Chunk[] = [];
              for (let r = 0; r < rows; r += rowsPerChunk) {
                const n = Math.min(rowsPerChunk, rows - r);
                chunks.push({ buffer: this.dev.createBuffer(`${t.name}[${r}:${r + n}]`, n * rowBytes, STORAGE()), rowStart: r, rowCount: n });
              }
              weightBytes += rows * rowBytes;
              made.push({ name: t.name, dtype, rows, cols, rowBytes, rowsPerChunk, chunks });
            }
          });
          for (const t of made) this.tensors.set(t.name, t);
        },
        data: async (_file, e) => {
          const t = this.tensors.get(e.tensor.name)!;
          let offset = e.offset;
          let bytes = e.bytes;
          if (bytes.byteLength % 4 !== 0) {
            const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
            padded.set(bytes);
            bytes = padded;
          }
          const chunkBytes = t.rowsPerChunk * t.rowBytes;
          while (bytes.byteLength > 0) {
            const index = Math.floor(offset / chunkBytes);
            const chunk = at(t.chunks, index, `${t.name}: chunk`);
            const within = offset - index * chunkBytes;
            const room = Math.min(bytes.byteLength, chunk.buffer.size - within);
            this.dev.queue.writeBuffer(chunk.buffer, within, bytes.buffer, bytes.byteOffset, room);
            bytes = bytes.subarray(room);
            offset += room;
            sinceSync += room;
          }
          if (sinceSync > 64 << 20) {
            // Bound the memory queued writes hold on to.
            sinceSync = 0;
            await this.dev.idle();
          }
        },
      },
      { onProgress: this.options.onProgress, signal: this.options.signal, fromLayer: this.fromLayer, toLayer: this.toLayer },
    );
    await this.dev.idle();
    let perToken = 0;
    for (const [name, t] of this.tensors) if (t.rows > 1 && name !== tensorNames.embed) perToken += t.rows * t.rowBytes;
    const lmHead = this.tensors.get(tensorNames.lmHead);
    (this as { bytesPerTokenWithoutHead: number }).bytesPerTokenWithoutHead = perToken - (lmHead ? lmHead.rows * lmHead.rowBytes : 0);
    if (this.toLayer === c.numLayers && c.tieWordEmbeddings)
      perToken += this.tensors.get(tensorNames.embed)!.rows * this.tensors.get(tensorNames.embed)!.rowBytes;
    (this as { weightBytes: number }).weightBytes = weightBytes;
    (this as { bytesPerToken: number }).bytesPerToken = perToken;
  }

  private async allocateActivations(): Promise<void> {
    const c = this.config;
    const T = this.maxTokens;
    const f32 = 4;
    const D = c.hiddenSize;
    const qDim = c.numHeads * c.headDim;
    const kvDim = c.numKvHeads * c.headDim;
    const F = c.intermediateSize;
    const table = ropeTable(c, this.maxContext);
    await this.dev.checked('allocating activations', () => {
      const buf = (label: string, bytes: number) => this.dev.createBuffer(`llm:${label}`, bytes, STORAGE());
      this.acts = {
        dyn: this.dev.createBuffer('llm:dyn', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        tokens: buf('tokens', T * 4),
        x: buf('x', T * D * f32),
        h: buf('h', T * D * f32),
        q: buf('q', T * qDim * f32),
        k: buf('k', T * kvDim * f32),
        v: buf('v', T * kvDim * f32),
        qkv: buf('qkv', Math.min(T, DECODE_MAX_ROWS) * (qDim + 2 * kvDim) * f32),
        att: buf('att', T * qDim * f32),
        gate: buf('gate', T * F * f32),
        up: buf('up', T * F * f32),
        act: buf('act', T * F * f32),
        rope: buf('rope', table.length * f32),
      };
    });
    this.dev.queue.writeBuffer(this.acts.rope, 0, Float32Array.from(table));
  }

  private get normThreads(): 1 | 64 {
    return this.options.normThreads ?? (this.dev.adapter.isFallback ? 1 : 64);
  }

  private linearFor(rows: number): LinearVariant {
    const choice = this.options.linear ?? 'auto';
    if (choice === 'gemv' || (choice === 'auto' && !this.dev.adapter.isFallback && rows <= 4)) return { kind: 'gemv', tileM: 1, tileN: 4 };
    return rows === 1 ? { kind: 'direct', tileM: 1, tileN: 4 } : { kind: 'direct', tileM: 4, tileN: 4 };
  }

  private pipelines = new Map<string, GPUComputePipeline>();

  private async pipeline(key: string, code: () => string): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(key);
    if (!p) {
      p = await this.dev.pipeline(key, code);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Compiles every pipeline the loaded dtypes and the usual batch shapes need. */
  private async compile(): Promise<void> {
    const jobs: Promise<unknown>[] = [];
    const c = this.config;
    for (const t of this.tensors.values()) {
      if (t.name === tensorNames.embed && this.fromLayer === 0) jobs.push(this.pipeline(`llm-embed:${t.dtype}`, () => embedKernel(t.dtype)));
      if (t.rows === 1 && /norm/.test(t.name))
        jobs.push(this.pipeline(`llm-rmsnorm:${t.dtype}:${this.normThreads}`, () => rmsnormKernel(t.dtype, this.normThreads)));
    }
    jobs.push(this.pipeline(`llm-rope:${c.headDim}:${c.numHeads}:${c.numKvHeads}`, () => ropeCacheKernel(c.headDim, c.numHeads, c.numKvHeads)));
    jobs.push(this.pipeline(`llm-attention:${c.headDim}:${c.numHeads}:${c.numKvHeads}`, () => attentionKernel(c.headDim, c.numHeads, c.numKvHeads)));
    jobs.push(this.pipeline('llm-silu-mul', siluMulKernel));
    await Promise.all(jobs);
  }

  createKvCache(options: { fromLayer?: number; toLayer?: number; maxContext?: number } = {}): GpuKvCache {
    const c = this.config;
    const { fromLayer, toLayer, maxContext } = checkCacheArgs(c, this, options, 'GpuModelOptions');
    const bytes = maxContext * c.numKvHeads * c.headDim * 4;
    const k: GPUBuffer[] = [];
    const v: GPUBuffer[] = [];
    for (let l = fromLayer; l < toLayer; l++) {
      k.push(this.dev.createBuffer(`kv:k${l}`, bytes, STORAGE()));
      v.push(this.dev.createBuffer(`kv:v${l}`, bytes, STORAGE()));
    }
    return { fromLayer, toLayer, maxContext, length: 0, k, v, bindGroups: new Map(), plans: new Map(), destroyed: false };
  }

  destroyKvCache(cache: GpuKvCache): void {
    if (cache.destroyed) return;
    cache.destroyed = true;
    if (this.pickOnDevice === cache) this.pickOnDevice = null;
    for (const b of [...cache.k, ...cache.v]) this.dev.free(b);
    cache.bindGroups.clear();
    cache.plans.clear();
  }

  private uniform(key: string, words: number[], floats: ReadonlySet<number> = new Set()): GPUBuffer {
    let u = this.uniforms.get(key);
    if (!u) {
      u = this.dev.uniform(`llm:${key}`, words, floats);
      this.uniforms.set(key, u);
    }
    return u;
  }

  private bind(key: string, pipeline: GPUComputePipeline, buffers: () => (GPUBuffer | GPUBufferBinding)[], cache?: GpuKvCache): GPUBindGroup {
    const store = cache ? cache.bindGroups : this.bindGroups;
    let g = store.get(key);
    if (!g) {
      g = this.dev.bindGroup(pipeline, buffers(), key);
      store.set(key, g);
    }
    return g;
  }

  /** A loaded weight's dtype, shape and row chunks on the GPU (synthetic-model.ts writes its weights into them there). */
  weightChunks(name: string): Pick<GpuTensor, 'dtype' | 'rows' | 'cols' | 'chunks'> {
    return this.tensor(name);
  }

  private tensor(name: string): GpuTensor {
    const t = this.tensors.get(name);
    if (!t) throw new LlmError('MISSING_TENSOR', `${name} is not loaded (layers [${this.fromLayer}, ${this.toLayer}))`);
    return t;
  }

  /** Serialises forwards: they share the activation buffers. */
  forward(args: ForwardArgs<GpuKvCache>): Promise<ForwardResult> {
    const run = this.queueTail.then(() => this.forwardNow(args, false));
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  /**
   * A forward through the last layer whose next token is picked greedily on the GPU (same rule as
   * sampling.ts's argmax): 4 bytes come back instead of the vocabulary's logits.
   */
  forwardGreedy(args: Omit<ForwardArgs<GpuKvCache>, 'logits' | 'returnHidden'>): Promise<number> {
    const run = this.queueTail.then(() => this.forwardNow({ ...args, logits: 'last' }, true));
    this.queueTail = run.catch(() => undefined);
    return run.then((r) => r.token!);
  }

  private async forwardNow(args: ForwardArgs<GpuKvCache>, argmax: boolean): Promise<ForwardResult & { token?: number }> {
    const c = this.config;
    const cache = args.kvCache;
    if (cache.destroyed) throw new LlmError('BAD_ARGUMENT', 'the KV cache was destroyed');
    this.pickOnDevice = null; // this pass overwrites acts.tokens
    const { fromLayer, toLayer, total, pos0 } = checkForwardArgs(c, this, args);
    const D = c.hiddenSize;
    if (argmax && toLayer !== c.numLayers) throw new LlmError('BAD_ARGUMENT', `a greedy pick needs the last layer; this forward stops at ${toLayer}`);
    const wanted = toLayer === c.numLayers ? (args.logits ?? 'last') : 'none';
    const wantHidden = toLayer < c.numLayers || args.returnHidden === true;
    const V = c.vocabSize;
    let token: number | undefined;
    const logits = wanted === 'none' || argmax ? undefined : new Float32Array((wanted === 'all' ? total : 1) * V);
    const hidden = wantHidden ? new Float32Array(total * D) : undefined;
    for (let start = 0; start < total; start += this.maxTokens) {
      const T = Math.min(this.maxTokens, total - start);
      const isLastChunk = start + T === total;
      const logitMode = wanted === 'all' ? 'all' : wanted === 'last' && isLastChunk ? 'last' : 'none';
      await this.pass({
        T,
        pos0: pos0 + start,
        fromLayer,
        toLayer,
        cache,
        tokens: args.tokens ? Array.from(args.tokens).slice(start, start + T) : null,
        hidden: args.hidden ? Float32Array.from(Array.prototype.slice.call(args.hidden, start * D, (start + T) * D) as number[]) : null,
        logitMode,
        argmax: argmax && logitMode === 'last',
      });
      if (argmax && logitMode === 'last') token = new Uint32Array(await this.dev.read(this.argmaxOut!, 0, 4))[0];
      else if (logitMode !== 'none') {
        const rows = logitMode === 'all' ? T : 1;
        const data = new Float32Array(await this.dev.read(this.logitsBuffer!, 0, rows * V * 4));
        logits!.set(data, logitMode === 'all' ? start * V : 0);
      }
      if (hidden) hidden.set(new Float32Array(await this.dev.read(this.acts.x, 0, T * D * 4)), start * D);
    }
    if (toLayer === cache.toLayer) cache.length = pos0 + total;
    return { logits, hidden, token };
  }

  private ensureLogits(rows: number): void {
    if (this.logitsBuffer && this.logitsRows >= rows) return;
    if (this.logitsBuffer) {
      this.dev.free(this.logitsBuffer);
      for (const key of [...this.bindGroups.keys()]) if (key.startsWith('head:')) this.bindGroups.delete(key);
    }
    this.logitsRows = rows;
    this.logitsGeneration++;
    this.logitsBuffer = this.dev.createBuffer('llm:logits', rows * this.config.vocabSize * 4, STORAGE());
  }

  private async pass(p: PassShape & { pos0: number; hidden: Float32Array | null }): Promise<void> {
    const dev = this.dev;
    const a = this.acts;
    dev.queue.writeBuffer(a.dyn, 0, new Uint32Array([p.T, p.pos0, 0, 0]));
    if (p.tokens) dev.queue.writeBuffer(a.tokens, 0, Uint32Array.from(p.tokens));
    if (p.hidden) dev.queue.writeBuffer(a.x, 0, p.hidden);
    const list = await this.planFor(p);
    const encoder = dev.device.createCommandEncoder({ label: 'llm-forward' });
    this.encodeList(encoder, list);
    dev.queue.submit([encoder.finish()]);
  }

  /**
   * A step's dispatches depend only on its shape, never on positions or tokens (those sit in
   * a.dyn / a.tokens): built once per shape and cache, then replayed without awaits or lookups.
   */
  private async planFor(p: PassShape): Promise<readonly Dispatch[]> {
    if (p.logitMode !== 'none') this.ensureLogits(p.logitMode === 'all' ? this.maxTokens : 1);
    const rope = this.ropeFused() ? 'rope' : '';
    const planKey = `${this.decodeKernels}:${gemvShapeLabel(this.gemvShape)}:${p.T}:${p.fromLayer}:${p.toLayer}:${p.logitMode}:${p.tokens ? 'tokens' : 'hidden'}:${this.logitsGeneration}:${p.argmax ? 'argmax' : ''}:${rope}`;
    let list = this.reusePlans ? p.cache.plans.get(planKey) : undefined;
    if (!list) {
      list = await this.buildPlan(p);
      p.cache.plans.set(planKey, list);
    }
    this.lastDispatches = list.length;
    return list;
  }

  private encodeList(encoder: GPUCommandEncoder, list: readonly Dispatch[]): void {
    const pass = encoder.beginComputePass({ label: 'llm-forward' });
    let current: GPUComputePipeline | null = null;
    for (const d of list) {
      if (d.pipeline !== current) pass.setPipeline((current = d.pipeline));
      pass.setBindGroup(0, d.group);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
    }
    pass.end();
  }

  /**
   * Queues `steps` greedy decode steps (T = 1) with no readback between them: each step's pick stays
   * on the GPU and is copied into the next step's token input, and the positions come from a
   * uniform per step written up front (copied into `dyn` before each step's compute pass). The ids
   * come back together, through one staging buffer. `token` is the first step's input; without it
   * the step continues from the last pick of the previous block on this cache (still on the GPU),
   * so block b + 1 can be queued before block b's ids are read. The cache's length advances by
   * `steps` at once; a caller that keeps fewer ids sets `kvCache.length` back (entries past it are
   * never read and are overwritten by later steps). Serialised with forward() like forwardGreedy.
   */
  greedySteps(args: { readonly kvCache: GpuKvCache; readonly steps: number; readonly token?: number }): Promise<GreedyBlock> {
    const submitted = this.queueTail.then(() => this.submitGreedySteps(args));
    this.queueTail = submitted.catch(() => undefined);
    return submitted.then((s) => s.read);
  }

  /**
   * greedySteps with each step's token drawn by `draw` on the GPU (GpuSampler over the last row's
   * logits, sampling.ts's rule in f32) instead of the argmax; step i draws counterUniform(draw.seed,
   * firstIndex + i). Blocks of either kind continue one another on the same cache.
   */
  sampledSteps(args: {
    readonly kvCache: GpuKvCache;
    readonly steps: number;
    readonly token?: number;
    readonly draw: DrawParams;
    readonly firstIndex: number;
  }): Promise<GreedyBlock> {
    const submitted = this.queueTail.then(() => this.submitGreedySteps(args, { draw: args.draw, firstIndex: args.firstIndex }));
    this.queueTail = submitted.catch(() => undefined);
    return submitted.then((s) => s.read);
  }

  private sampler: GpuSampler | null = null;

  /** The cache whose next input token is the last greedy pick, left in acts.tokens by a greedy block. */
  private pickOnDevice: GpuKvCache | null = null;
  private stepDyn: GPUBuffer | null = null;

  private async submitGreedySteps(
    args: { kvCache: GpuKvCache; steps: number; token?: number },
    sampled?: { draw: DrawParams; firstIndex: number },
  ): Promise<{ read: Promise<GreedyBlock> }> {
    const c = this.config;
    const cache = args.kvCache;
    const { steps, token } = args;
    if (cache.destroyed) throw new LlmError('BAD_ARGUMENT', 'the KV cache was destroyed');
    if (!Number.isInteger(steps) || steps < 1 || steps > MAX_GREEDY_BLOCK)
      throw new LlmError('BAD_ARGUMENT', `a greedy block takes 1 to ${MAX_GREEDY_BLOCK} steps, got ${steps}`);
    if (this.fromLayer !== 0 || this.toLayer !== c.numLayers || cache.fromLayer !== 0 || cache.toLayer !== c.numLayers)
      throw new LlmError('BAD_ARGUMENT', 'greedy blocks need the whole model and a KV cache of every layer');
    if (token !== undefined) {
      if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize)
        throw new LlmError('BAD_ARGUMENT', `token ${token} is outside the vocabulary [0, ${c.vocabSize})`);
    } else if (this.pickOnDevice !== cache) throw new LlmError('BAD_ARGUMENT', "no greedy pick of this KV cache is on the GPU: pass the block's first token");
    const pos0 = cache.length;
    if (pos0 + steps > cache.maxContext)
      throw new LlmError('CONTEXT_FULL', `the KV cache holds ${cache.maxContext} positions; ${pos0} used, ${steps} more asked`);
    const dev = this.dev;
    const a = this.acts;
    const list = await this.planFor({ T: 1, fromLayer: 0, toLayer: c.numLayers, cache, tokens: [], logitMode: 'last', argmax: !sampled });
    if (sampled) {
      this.sampler ??= await GpuSampler.create(dev, c.vocabSize);
      this.sampler.prepare(sampled.draw, sampled.firstIndex, steps);
    }
    this.stepDyn ??= dev.createBuffer('llm:step-dyn', MAX_GREEDY_BLOCK * 16, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const dyn = new Uint32Array(steps * 4);
    for (let i = 0; i < steps; i++) dyn.set([1, pos0 + i], i * 4);
    // Queue writes run after the work submitted before them, so the previous block still reads its own values.
    dev.queue.writeBuffer(this.stepDyn, 0, dyn);
    if (token !== undefined) dev.queue.writeBuffer(a.tokens, 0, Uint32Array.of(token));
    const staging = dev.acquire(steps * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'greedy-ids');
    const sampler = sampled ? this.sampler : null;
    const pick = sampler ? sampler.out : this.argmaxOut!;
    const encoder = dev.device.createCommandEncoder({ label: 'llm-greedy-block' });
    for (let i = 0; i < steps; i++) {
      encoder.copyBufferToBuffer(this.stepDyn, i * 16, a.dyn, 0, 16);
      this.encodeList(encoder, list);
      sampler?.encodeStep(encoder, this.logitsBuffer!, i);
      encoder.copyBufferToBuffer(pick, 0, a.tokens, 0, 4);
      encoder.copyBufferToBuffer(pick, 0, staging, i * 4, 4);
    }
    dev.queue.submit([encoder.finish()]);
    cache.length = pos0 + steps;
    this.pickOnDevice = cache;
    const read = (async (): Promise<GreedyBlock> => {
      try {
        await dev.mapRead(staging);
        const ids = Array.from(new Uint32Array(staging.getMappedRange(0, steps * 4).slice(0)));
        staging.unmap();
        return { pos0, ids };
      } finally {
        dev.release(staging);
      }
    })();
    read.catch(() => undefined); // the caller may stop awaiting blocks it no longer needs
    return { read };
  }

  /** Every dispatch of one pass of this shape, in order (compiles what it lacks). */
  private async buildPlan(p: PassShape): Promise<Dispatch[]> {
    const c = this.config;
    const dev = this.dev;
    const a = this.acts;
    const { T } = p;
    const D = c.hiddenSize;
    const H = c.numHeads;
    const G = c.numKvHeads;
    const hd = c.headDim;
    const F = c.intermediateSize;
    const maxDim = dev.limits.maxComputeWorkgroupsPerDimension;
    const lin = this.linearFor(T);
    const list: Dispatch[] = [];

    const linear = async (
      key: string,
      weight: string,
      bias: string | null,
      X: GPUBuffer,
      Y: GPUBuffer,
      ldY: number,
      residual: boolean,
      mOne = false,
    ): Promise<void> => {
      const w = this.tensor(weight);
      const b = bias ? this.tensor(bias) : null;
      const v = mOne ? this.linearFor(1) : lin;
      const epilogue = { bias: b?.dtype ?? null, residual };
      const pipe = await this.pipeline(linearKey(w.dtype, v, epilogue), () => linearKernel(w.dtype, v, epilogue));
      for (const [i, chunk] of w.chunks.entries()) {
        const u = this.uniform(`${key}:${i}:${mOne}`, linearUniform(chunk.rowCount, w.cols, ldY, chunk.rowStart, chunk.rowStart, mOne));
        const group = this.bind(`${key}:${i}:${mOne}:${v.kind}${v.tileM}x${v.tileN}`, pipe, () => [
          a.dyn,
          u,
          X,
          chunk.buffer,
          Y,
          ...(b ? [firstChunk(b)] : []),
        ]);
        list.push({ pipeline: pipe, group, grid: linearGrid(v, mOne ? 1 : T, chunk.rowCount, maxDim) });
      }
    };
    const norm = async (key: string, weight: string, X: GPUBuffer, out: GPUBuffer, lastOnly: boolean): Promise<void> => {
      const w = this.tensor(weight);
      const threads = this.normThreads;
      const pipe = await this.pipeline(`llm-rmsnorm:${w.dtype}:${threads}`, () => rmsnormKernel(w.dtype, threads));
      const u = this.uniform(`norm:${key}:${lastOnly}`, [D / 4, c.rmsNormEps, lastOnly ? 1 : 0, 0], new Set([1]));
      const group = this.bind(`norm:${key}:${lastOnly}`, pipe, () => [a.dyn, u, X, firstChunk(w), out]);
      const rows = lastOnly ? 1 : T;
      list.push({ pipeline: pipe, group, grid: threads === 1 ? elementwiseGrid(rows, maxDim) : [rows, 1, 1] });
    };

    if (p.tokens) {
      const e = this.tensor(tensorNames.embed);
      const pipe = await this.pipeline(`llm-embed:${e.dtype}`, () => embedKernel(e.dtype));
      for (const [i, chunk] of e.chunks.entries()) {
        const u = this.uniform(`embed:${i}`, [D / 4, chunk.rowStart, chunk.rowCount, 0]);
        const group = this.bind(`embed:${i}`, pipe, () => [a.dyn, u, a.tokens, chunk.buffer, a.x]);
        list.push({ pipeline: pipe, group, grid: elementwiseGrid(T * (D / 4), maxDim) });
      }
    }
    const fused = this.decodeKernels === 'fused';
    const useGemv = fused && T <= DECODE_MAX_ROWS && this.fusedDecodeFits();
    const qkvStride = (H + 2 * G) * hd;
    const gemv = async (
      key: string,
      shapeless: Omit<DecodeGemvSpec, 'shape'>,
      K: number,
      X: GPUBuffer,
      Y: GPUBuffer,
      ldY: number,
      weights: GPUBuffer[],
      normW: GPUBuffer | null,
      bias: GPUBuffer | null,
      colOffset = 0,
      lastOnly = false,
      ropeCache: { rope: GPUBuffer; k: GPUBuffer; v: GPUBuffer; cache: GpuKvCache } | null = null,
    ): Promise<void> => {
      const shape = this.gemvShape;
      const spec: DecodeGemvSpec = { ...shapeless, shape };
      const pipe = await this.pipeline(decodeGemvKey(spec), () => decodeGemvKernel(spec));
      const u = this.uniform(`dg:${key}`, decodeGemvUniform(K, ldY, colOffset, lastOnly, c.rmsNormEps), new Set([4]));
      // Bind groups follow the pipeline's own layout: one per shape.
      const group = this.bind(
        `${key}:dg:m${spec.rows}${ropeCache ? ':rope' : ''}:${gemvShapeLabel(shape)}`,
        pipe,
        () => [
          a.dyn,
          u,
          X,
          Y,
          ...weights,
          ...(normW ? [normW] : []),
          ...(bias ? [bias] : []),
          ...(ropeCache ? [ropeCache.rope, ropeCache.k, ropeCache.v] : []),
        ],
        ropeCache?.cache,
      );
      list.push({ pipeline: pipe, group, grid: decodeGemvGrid(gemvOutputs(spec), maxDim, shape) });
    };
    const single = (name: string) => firstChunk(this.tensor(name));
    const fusedAttPipe = fused
      ? await this.pipeline(`llm-decode-attention:${hd}:${H}:${G}:${useGemv ? qkvStride : H * hd}`, () =>
          decodeAttentionKernel(hd, H, G, useGemv ? qkvStride : H * hd),
        )
      : null;
    const ropePipe = await this.pipeline(`llm-rope:${hd}:${H}:${G}`, () => ropeCacheKernel(hd, H, G));
    const attPipe = await this.pipeline(`llm-attention:${hd}:${H}:${G}`, () => attentionKernel(hd, H, G));
    const siluPipe = await this.pipeline('llm-silu-mul', siluMulKernel);
    for (let l = p.fromLayer; l < p.toLayer; l++) {
      const n = tensorNames.layer(l);
      const ci = l - p.cache.fromLayer;
      if (useGemv) {
        const wq = this.tensor(n.q);
        const normIn = this.tensor(n.inputNorm);
        const qkvBias = c.qkvBias ? this.concatBias(`qkv${l}`, [n.qBias, n.kBias, n.vBias]) : null;
        const kCache = at(p.cache.k, ci, 'KV cache layer');
        const vCache = at(p.cache.v, ci, 'KV cache layer');
        const fuseRope = this.ropeFused();
        await gemv(
          `qkv${l}`,
          {
            dtype: wq.dtype,
            parts: [H * hd, G * hd, G * hd],
            rows: T,
            norm: normIn.dtype,
            swiglu: false,
            bias: qkvBias ? this.tensor(n.qBias).dtype : null,
            residual: false,
            rope: fuseRope ? { headDim: hd, heads: H, kvHeads: G } : null,
          },
          D,
          a.x,
          a.qkv,
          qkvStride,
          [single(n.q), single(n.k), single(n.v)],
          single(n.inputNorm),
          qkvBias,
          0,
          false,
          fuseRope ? { rope: a.rope, k: kCache, v: vCache, cache: p.cache } : null,
        );
        if (!fuseRope) {
          const ropeD = await this.pipeline(`llm-decode-rope:${hd}:${H}:${G}`, () => decodeRopeKernel(hd, H, G));
          list.push({
            pipeline: ropeD,
            group: this.bind(`drope${l}`, ropeD, () => [a.dyn, a.rope, a.qkv, kCache, vCache], p.cache),
            grid: elementwiseGrid(T * (H + G) * (hd / 2), maxDim),
          });
        }
        list.push({
          pipeline: fusedAttPipe!,
          group: this.bind(
            `datt${l}:packed`,
            fusedAttPipe!,
            () => [a.dyn, a.qkv, at(p.cache.k, ci, 'KV cache layer'), at(p.cache.v, ci, 'KV cache layer'), a.att],
            p.cache,
          ),
          grid: [H, T, 1],
        });
        const wo = this.tensor(n.o);
        await gemv(
          `o${l}`,
          { dtype: wo.dtype, parts: [D], rows: T, norm: null, swiglu: false, bias: c.oBias ? this.tensor(n.oBias).dtype : null, residual: true },
          H * hd,
          a.att,
          a.x,
          D,
          [single(n.o)],
          null,
          c.oBias ? single(n.oBias) : null,
        );
        const wg = this.tensor(n.gate);
        const mlpBias = c.mlpBias ? this.concatBias(`gateup${l}`, [n.gateBias, n.upBias]) : null;
        await gemv(
          `gateup${l}`,
          {
            dtype: wg.dtype,
            parts: [F, F],
            rows: T,
            norm: this.tensor(n.postNorm).dtype,
            swiglu: true,
            bias: mlpBias ? this.tensor(n.gateBias).dtype : null,
            residual: false,
          },
          D,
          a.x,
          a.act,
          F,
          [single(n.gate), single(n.up)],
          single(n.postNorm),
          mlpBias,
        );
        const wd = this.tensor(n.down);
        await gemv(
          `down${l}`,
          { dtype: wd.dtype, parts: [D], rows: T, norm: null, swiglu: false, bias: c.mlpBias ? this.tensor(n.downBias).dtype : null, residual: true },
          F,
          a.act,
          a.x,
          D,
          [single(n.down)],
          null,
          c.mlpBias ? single(n.downBias) : null,
        );
        continue;
      }
      await norm(`in${l}`, n.inputNorm, a.x, a.h, false);
      await linear(`q${l}`, n.q, c.qkvBias ? n.qBias : null, a.h, a.q, H * hd, false);
      await linear(`k${l}`, n.k, c.qkvBias ? n.kBias : null, a.h, a.k, G * hd, false);
      await linear(`v${l}`, n.v, c.qkvBias ? n.vBias : null, a.h, a.v, G * hd, false);
      list.push({
        pipeline: ropePipe,
        group: this.bind(
          `rope${l}`,
          ropePipe,
          () => [a.dyn, a.rope, a.q, a.k, a.v, at(p.cache.k, ci, 'KV cache layer'), at(p.cache.v, ci, 'KV cache layer')],
          p.cache,
        ),
        grid: elementwiseGrid(T * (H + G), maxDim),
      });
      if (fusedAttPipe)
        list.push({
          pipeline: fusedAttPipe,
          group: this.bind(
            `datt${l}:plain`,
            fusedAttPipe,
            () => [a.dyn, a.q, at(p.cache.k, ci, 'KV cache layer'), at(p.cache.v, ci, 'KV cache layer'), a.att],
            p.cache,
          ),
          grid: [H, T, 1],
        });
      else
        list.push({
          pipeline: attPipe,
          group: this.bind(`att${l}`, attPipe, () => [a.dyn, a.q, at(p.cache.k, ci, 'KV cache layer'), at(p.cache.v, ci, 'KV cache layer'), a.att], p.cache),
          grid: elementwiseGrid(T * H, maxDim),
        });
      await linear(`o${l}`, n.o, c.oBias ? n.oBias : null, a.att, a.x, D, true);
      await norm(`post${l}`, n.postNorm, a.x, a.h, false);
      await linear(`gate${l}`, n.gate, c.mlpBias ? n.gateBias : null, a.h, a.gate, F, false);
      await linear(`up${l}`, n.up, c.mlpBias ? n.upBias : null, a.h, a.up, F, false);
      const su = this.uniform('silu', [F / 4, 0, 0, 0]);
      list.push({ pipeline: siluPipe, group: this.bind('silu', siluPipe, () => [a.dyn, su, a.gate, a.up, a.act]), grid: elementwiseGrid(T * (F / 4), maxDim) });
      await linear(`down${l}`, n.down, c.mlpBias ? n.downBias : null, a.act, a.x, D, true);
    }
    const headRows = p.logitMode === 'last' ? 1 : T;
    if (p.logitMode !== 'none' && fused && headRows <= DECODE_MAX_ROWS && this.config.hiddenSize % 8 === 0) {
      const last = p.logitMode === 'last';
      const w = this.tensor(c.tieWordEmbeddings ? tensorNames.embed : tensorNames.lmHead);
      const fn = this.tensor(tensorNames.norm);
      for (const [i, chunk] of w.chunks.entries()) {
        await gemv(
          `head:${i}:${last}`,
          { dtype: w.dtype, parts: [chunk.rowCount], rows: headRows, norm: fn.dtype, swiglu: false, bias: null, residual: false },
          D,
          a.x,
          this.logitsBuffer!,
          c.vocabSize,
          [chunk.buffer],
          firstChunk(fn),
          null,
          chunk.rowStart,
          last,
        );
      }
    } else if (p.logitMode !== 'none') {
      const last = p.logitMode === 'last';
      await norm('final', tensorNames.norm, a.x, a.h, last);
      await linear('head:', c.tieWordEmbeddings ? tensorNames.embed : tensorNames.lmHead, null, a.h, this.logitsBuffer!, c.vocabSize, false, last);
    }
    if (p.argmax) await this.argmaxDispatches(list);
    return list;
  }

  private argmaxPairs: GPUBuffer | null = null;
  private argmaxOut: GPUBuffer | null = null;

  /** The greedy pick over logits row 0: per-chunk (value, index) pairs, then one workgroup's reduction. */
  private async argmaxDispatches(list: Dispatch[]): Promise<void> {
    const V = this.config.vocabSize;
    const chunks = Math.ceil(V / ARGMAX_CHUNK);
    if (chunks > this.dev.limits.maxComputeWorkgroupsPerDimension) throw new LlmError('BAD_ARGUMENT', `vocabulary ${V} too large for the GPU greedy pick`);
    this.argmaxPairs ??= this.dev.createBuffer('llm:argmax-pairs', chunks * 8, STORAGE());
    this.argmaxOut ??= this.dev.createBuffer('llm:argmax-token', 16, STORAGE());
    const partial = await this.pipeline('llm-argmax:partial', () => argmaxKernel('partial'));
    const final = await this.pipeline('llm-argmax:final', () => argmaxKernel('final'));
    const pairs = this.argmaxPairs;
    const out = this.argmaxOut;
    list.push({
      pipeline: partial,
      group: this.bind(`argmax:partial:${this.logitsGeneration}`, partial, () => [this.uniform('argmax:partial', [V, 0, 0, 0]), this.logitsBuffer!, pairs]),
      grid: [chunks, 1, 1],
    });
    list.push({
      pipeline: final,
      group: this.bind('argmax:final', final, () => [this.uniform('argmax:final', [chunks, 0, 0, 0]), pairs, out]),
      grid: [1, 1, 1],
    });
  }

  /** Replay recorded dispatch lists (default); false rebuilds every pass's list (the benchmark's before). */
  reusePlans = true;

  /**
   * RoPE in the q|k|v GEMV's epilogue (5 dispatches per decode layer instead of 6) where the device
   * allows the GEMV's extra bindings; false keeps the separate RoPE dispatch (the benchmark's before).
   */
  ropeInGemv = true;

  /** Whether the fused decode q|k|v GEMV applies RoPE and writes the KV cache itself. */
  private ropeFused(): boolean {
    if (!this.ropeInGemv || this.decodeKernels !== 'fused') return false;
    // X, Y, three weights, the norm, the bias (Qwen2), the cos/sin table, K and V caches.
    const storage = 9 + (this.config.qkvBias ? 1 : 0);
    return this.dev.limits.maxStorageBuffersPerShaderStage >= storage && this.config.headDim % 2 === 0;
  }

  /** Compute dispatches of the last GPU pass (benchmarks report it per decode step). */
  lastDispatches = 0;
  private fusedFits: boolean | null = null;

  /** Whether every layer matrix is one binding with K a multiple of 8 (the GEMV's 16-byte loads). */
  private fusedDecodeFits(): boolean {
    if (this.fusedFits !== null) return this.fusedFits;
    const c = this.config;
    let ok = c.hiddenSize % 8 === 0 && (c.numHeads * c.headDim) % 8 === 0 && c.intermediateSize % 8 === 0;
    for (let l = this.fromLayer; l < this.toLayer && ok; l++) {
      const n = tensorNames.layer(l);
      const [q, k, v, o, gate, up, down] = [n.q, n.k, n.v, n.o, n.gate, n.up, n.down].map((name) => this.tensor(name)) as [
        GpuTensor,
        GpuTensor,
        GpuTensor,
        GpuTensor,
        GpuTensor,
        GpuTensor,
        GpuTensor,
      ];
      if ([q, k, v, o, gate, up, down].some((t) => t.chunks.length !== 1)) ok = false;
      // q|k|v and gate|up each run as one GEMV over weights of one dtype.
      if (q.dtype !== k.dtype || q.dtype !== v.dtype || gate.dtype !== up.dtype) ok = false;
      const biases = [...(c.qkvBias ? [n.qBias, n.kBias, n.vBias] : []), ...(c.mlpBias ? [n.gateBias, n.upBias] : [])].map((name) => this.tensor(name));
      if (biases.some((t) => t.rowBytes % 4 !== 0 || t.dtype !== biases[0]?.dtype)) ok = false;
    }
    this.fusedFits = ok;
    return ok;
  }

  /** One buffer holding the named bias vectors end to end (same dtype), built once by GPU copies. */
  private concatBias(key: string, names: string[]): GPUBuffer {
    let b = this.biasConcat.get(key);
    if (b) return b;
    const parts = names.map((name) => this.tensor(name));
    const bytes = parts.reduce((sum, t) => sum + t.rowBytes, 0);
    b = this.dev.createBuffer(`llm:bias:${key}`, bytes, STORAGE());
    const encoder = this.dev.device.createCommandEncoder({ label: `llm-bias-${key}` });
    let at = 0;
    for (const t of parts) {
      encoder.copyBufferToBuffer(firstChunk(t), 0, b, at, t.rowBytes);
      at += t.rowBytes;
    }
    this.dev.queue.submit([encoder.finish()]);
    this.biasConcat.set(key, b);
    return b;
  }

  /** Waits for queued GPU work (timing). */
  async idle(): Promise<void> {
    await this.dev.idle();
  }

  destroy(): void {
    for (const t of this.tensors.values()) for (const ch of t.chunks) ch.buffer.destroy();
    this.tensors.clear();
    if (this.acts) for (const b of Object.values(this.acts)) b.destroy();
    this.logitsBuffer?.destroy();
    this.argmaxPairs?.destroy();
    this.argmaxOut?.destroy();
    this.sampler?.destroy();
    this.stepDyn?.destroy();
    for (const b of this.biasConcat.values()) b.destroy();
    this.biasConcat.clear();
    for (const u of this.uniforms.values()) u.destroy();
    this.uniforms.clear();
    this.bindGroups.clear();
    if (this.ownsDevice) this.dev.destroy();
  }
}

export { throwIfAborted };
