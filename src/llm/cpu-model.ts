/**
 * The decoder on the CPU backend (src/cpu): the same layer-range forward as the WebGPU model
 * (`forward({ fromLayer, toLayer, tokens | hidden, kvCache })`), on WebAssembly SIMD kernels
 * (assembly/cpu/llm.ts) run by every compute thread over one shared memory, like the Sprint engine.
 *
 * Weights stay in the checkpoint's dtype (F16/BF16 two bytes, F32 four), repacked at load into
 * panels of 8 output rows (`panel p` holds W[8p + j][k] at element p·K·8 + k·8 + j); each kc-deep
 * block of a panel is widened to f32 in a per-thread buffer and run against every row of the batch
 * with the Sprint matmul's 4×8 register tile. f32 activations and accumulation, f64 norm sums.
 * Memory grows as weights stream in and KV caches are made (shared memory grows in place).
 */
import { Arena, Ctrl, CTRL_BYTES, KC, kernelBytes, Program, STEP_WORDS, align, bestKernelVariant, LlmOp, LlmDType } from '../cpu/layout.ts';
import { InlineExecutor, type Executor } from '../cpu/inline.ts';
import { ThreadPool, type ThreadSpawner } from '../cpu/threads.ts';
import { browserSpawner, canShareMemory } from '../cpu/threads-browser.ts';
import { checkLayerRange, expectedTensors, tensorNames, type LlamaConfig } from './config.ts';
import { bf16ToNumber, f16ToNumber, type FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';
import { checkCacheArgs, checkForwardArgs } from './forward-args.ts';
import { readManifest, streamWeights, type LoadProgress, type ModelManifest } from './loader.ts';
import type { CausalLM, ForwardArgs, ForwardResult, KvCache } from './model-types.ts';
import { ropeTable } from './rope.ts';
import type { ModelSource } from './source.ts';

export interface CpuModelOptions {
  /** Load only layers [fromLayer, toLayer) (split inference). */
  readonly fromLayer?: number;
  readonly toLayer?: number;
  /** Most positions one pass takes; longer inputs run in several passes (default 64). */
  readonly maxTokens?: number;
  /** Longest context a KV cache of this model may hold (default min(max_position_embeddings, 2048)). */
  readonly maxContext?: number;
  /** Compute threads (default every core); 0 runs the kernels on the calling thread. */
  readonly threads?: number;
  /** Node: nodeSpawner (src/cpu/threads-node.ts); Web Workers by default. */
  readonly spawner?: ThreadSpawner;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
}

export interface CpuKvCache extends KvCache {
  /** Byte offsets of each layer's K and V, [maxContext][kvHeads·headDim] f32. */
  readonly k: number[];
  readonly v: number[];
  destroyed: boolean;
}

interface Tensor {
  readonly at: number;
  /** Matrices are stored in panels; vectors (norms, biases) as f32. */
  readonly matrix: boolean;
  readonly dtype: FloatDType;
  readonly rows: number;
  readonly cols: number;
  /** Output rows rounded up to whole panels (matrices), or the padded length (vectors). */
  readonly panels: number;
}

const PAGE = 65536;
const DTYPE_CODE: Record<FloatDType, number> = { F32: LlmDType.F32, F16: LlmDType.F16, BF16: LlmDType.BF16 };
const ELEMENT_BYTES: Record<FloatDType, number> = { F32: 4, F16: 2, BF16: 2 };
const round8 = (n: number) => Math.ceil(n / 8) * 8;

export class CpuLlmModel implements CausalLM<CpuKvCache> {
  readonly backend = 'cpu' as const;
  readonly fromLayer: number;
  readonly toLayer: number;
  readonly maxTokens: number;
  readonly maxContext: number;
  private readonly arena = new Arena();
  private readonly tensors = new Map<string, Tensor>();
  /** Freed KV-cache blocks by size, reused before the memory grows. */
  private readonly freeCaches = new Map<number, number[]>();
  private executor!: Executor;
  private readonly acts: Record<'ctrl' | 'prog' | 'scratch' | 'x' | 'h' | 'q' | 'k' | 'v' | 'att' | 'gate' | 'up' | 'logits' | 'rope', number>;
  private readonly progSteps: number;
  private queueTail: Promise<unknown> = Promise.resolve();
  private destroyed = false;
  weightBytes = 0;

  private constructor(
    readonly config: LlamaConfig,
    readonly manifest: ModelManifest,
    readonly memory: WebAssembly.Memory,
    private readonly threads: number,
    options: CpuModelOptions,
  ) {
    this.fromLayer = options.fromLayer ?? 0;
    this.toLayer = options.toLayer ?? config.numLayers;
    checkLayerRange(config, this.fromLayer, this.toLayer);
    this.maxTokens = options.maxTokens ?? 64;
    this.maxContext = Math.min(options.maxContext ?? 2048, config.maxPositions);
    const c = config;
    const T = this.maxTokens;
    const a = this.arena;
    this.progSteps = 12 * (this.toLayer - this.fromLayer) + 2;
    const scratchStride = align(KC * 32 + T * 32 + T * 4 + this.maxContext * 4, 64);
    this.acts = {
      ctrl: a.alloc(CTRL_BYTES),
      prog: a.alloc(this.progSteps * STEP_WORDS * 4),
      scratch: a.alloc(scratchStride * Math.max(1, threads)),
      x: a.alloc(T * c.hiddenSize * 4),
      h: a.alloc(T * c.hiddenSize * 4),
      q: a.alloc(T * round8(c.numHeads * c.headDim) * 4),
      k: a.alloc(T * round8(c.numKvHeads * c.headDim) * 4),
      v: a.alloc(T * round8(c.numKvHeads * c.headDim) * 4),
      att: a.alloc(T * c.numHeads * c.headDim * 4),
      gate: a.alloc(T * round8(c.intermediateSize) * 4),
      up: a.alloc(T * round8(c.intermediateSize) * 4),
      logits: a.alloc(T * round8(c.vocabSize) * 4),
      rope: a.alloc(this.maxContext * c.headDim * 4),
    };
    this.grow();
    const i32 = this.i32;
    const cw = this.acts.ctrl >> 2;
    i32[cw + Ctrl.SCRATCH] = this.acts.scratch;
    i32[cw + Ctrl.SCRATCH_STRIDE] = scratchStride;
    i32[cw + Ctrl.KC] = KC;
    i32[cw + Ctrl.MAX_ROWS] = T;
    this.f32.set(Float32Array.from(ropeTable(c, this.maxContext)), this.acts.rope >> 2);
  }

  /** Reads the folder, streams the weights into panels, starts the compute threads. */
  static async load(source: ModelSource, options: CpuModelOptions = {}): Promise<CpuLlmModel> {
    if (!canShareMemory())
      throw new LlmError('BAD_ARGUMENT', 'the CPU backend needs SharedArrayBuffer: the page must be cross-origin isolated (COOP/COEP headers)');
    const manifest = await readManifest(source);
    const c = manifest.config;
    if (c.headDim % 4 !== 0) throw new LlmError('UNSUPPORTED_MODEL', `the CPU backend needs head_dim divisible by 4, got ${c.headDim}`);
    const spawner = options.spawner ?? browserSpawner;
    const threads = options.threads ?? Math.max(1, spawner.cores());
    if (!Number.isInteger(threads) || threads < 0) throw new LlmError('BAD_ARGUMENT', `threads must be a whole number, got ${threads}`);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const model = new CpuLlmModel(c, manifest, memory, threads, options);
    try {
      await model.loadWeights(source, options);
      const module = await WebAssembly.compile(kernelBytes(bestKernelVariant()) as BufferSource);
      model.executor =
        threads === 0 ? new InlineExecutor(module, memory, model.acts.ctrl) : await ThreadPool.create(spawner, module, memory, model.acts.ctrl, threads);
    } catch (e) {
      model.destroy();
      throw e;
    }
    return model;
  }

  get description(): string {
    return `CPU (WebAssembly SIMD, ${this.threads === 0 ? 'calling thread' : `${this.threads} thread${this.threads === 1 ? '' : 's'}`})`;
  }

  get isTestModel(): boolean {
    return this.manifest.isTestModel;
  }

  // Views over the shared memory, renewed after it grows.
  private get i32() {
    return new Int32Array(this.memory.buffer);
  }
  private get f32() {
    return new Float32Array(this.memory.buffer);
  }

  /** Grows the memory to hold everything the arena has handed out. */
  private grow(): void {
    const pages = this.arena.pages - this.memory.buffer.byteLength / PAGE;
    if (pages <= 0) return;
    try {
      this.memory.grow(pages);
    } catch (cause) {
      throw new LlmError('BAD_ARGUMENT', `the CPU backend could not grow its memory to ${this.arena.bytes} bytes (WebAssembly holds at most 4 GiB)`, { cause });
    }
  }

  private async loadWeights(source: ModelSource, options: CpuModelOptions): Promise<void> {
    const expected = expectedTensors(this.config, this.fromLayer, this.toLayer);
    let pending: Uint8Array | null = null;
    await streamWeights(
      source,
      this.manifest,
      {
        header: (_file, header) => {
          for (const t of header.tensors) {
            const shape = expected.get(t.name);
            if (!shape) continue;
            const dtype = t.dtype as FloatDType;
            const matrix = shape.length === 2;
            const rows = matrix ? shape[0] : 1;
            const cols = matrix ? shape[1] : shape[0];
            const panels = matrix ? round8(rows) / 8 : round8(cols);
            const bytes = matrix ? panels * 8 * cols * ELEMENT_BYTES[dtype] : panels * 4;
            this.tensors.set(t.name, { at: this.arena.alloc(bytes), matrix, dtype, rows, cols, panels });
            this.weightBytes += bytes;
          }
          this.grow();
        },
        data: (_file, e) => {
          if (e.offset === 0) pending = new Uint8Array(e.tensor.end - e.tensor.begin);
          pending!.set(e.bytes, e.offset);
          if (e.last) {
            this.store(e.tensor.name, pending!);
            pending = null;
          }
        },
      },
      { onProgress: options.onProgress, signal: options.signal, fromLayer: this.fromLayer, toLayer: this.toLayer },
    );
  }

  /** Matrices into panels in their own dtype; vectors (norms, biases) to f32. */
  private store(name: string, bytes: Uint8Array): void {
    const t = this.tensors.get(name)!;
    const { rows, cols } = t;
    if (!t.matrix) {
      this.f32.set(decode(t.dtype, bytes, cols), t.at >> 2);
      return;
    }
    if (t.dtype === 'F32') {
      const src = new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols);
      const dst = new Float32Array(this.memory.buffer, t.at, t.panels * 8 * cols);
      pack(src, dst, rows, cols);
    } else {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, rows * cols);
      const dst = new Uint16Array(this.memory.buffer, t.at, t.panels * 8 * cols);
      pack(src, dst, rows, cols);
    }
  }

  private tensor(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new LlmError('MISSING_TENSOR', `${name} is not loaded (layers [${this.fromLayer}, ${this.toLayer}))`);
    return t;
  }

  createKvCache(options: { fromLayer?: number; toLayer?: number; maxContext?: number } = {}): CpuKvCache {
    const c = this.config;
    const { fromLayer, toLayer, maxContext } = checkCacheArgs(c, this, options, 'CpuModelOptions');
    const bytes = maxContext * c.numKvHeads * c.headDim * 4;
    const take = () => this.freeCaches.get(bytes)?.pop() ?? this.arena.alloc(bytes);
    const k: number[] = [];
    const v: number[] = [];
    for (let l = fromLayer; l < toLayer; l++) {
      k.push(take());
      v.push(take());
    }
    this.grow();
    return { fromLayer, toLayer, maxContext, length: 0, k, v, destroyed: false };
  }

  destroyKvCache(cache: CpuKvCache): void {
    if (cache.destroyed) return;
    cache.destroyed = true;
    const bytes = cache.maxContext * this.config.numKvHeads * this.config.headDim * 4;
    const list = this.freeCaches.get(bytes) ?? [];
    list.push(...cache.k, ...cache.v);
    this.freeCaches.set(bytes, list);
  }

  /** Forwards run one after another (they share the activations). */
  forward(args: ForwardArgs<CpuKvCache>): Promise<ForwardResult> {
    const run = this.queueTail.then(() => this.forwardNow(args));
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  private async forwardNow(args: ForwardArgs<CpuKvCache>): Promise<ForwardResult> {
    if (this.destroyed) throw new LlmError('BAD_ARGUMENT', 'the model was destroyed');
    const c = this.config;
    const cache = args.kvCache;
    if (cache.destroyed) throw new LlmError('BAD_ARGUMENT', 'the KV cache was destroyed');
    const { fromLayer, toLayer, total, pos0 } = checkForwardArgs(c, this, args);
    const D = c.hiddenSize;
    const wanted = toLayer === c.numLayers ? (args.logits ?? 'last') : 'none';
    const wantHidden = toLayer < c.numLayers || args.returnHidden === true;
    const V = c.vocabSize;
    const V8 = round8(V);
    const logits = wanted === 'none' ? undefined : new Float32Array((wanted === 'all' ? total : 1) * V);
    const hidden = wantHidden ? new Float32Array(total * D) : undefined;
    for (let start = 0; start < total; start += this.maxTokens) {
      const T = Math.min(this.maxTokens, total - start);
      const mode = wanted === 'all' ? 'all' : wanted === 'last' && start + T === total ? 'last' : 'none';
      if (args.tokens) this.embed(Array.from(args.tokens).slice(start, start + T));
      else this.f32.set(Float32Array.from(Array.prototype.slice.call(args.hidden, start * D, (start + T) * D) as number[]), this.acts.x >> 2);
      const prog = this.program(T, pos0 + start, fromLayer, toLayer, cache, mode);
      prog.write(this.i32, this.acts.prog);
      for (let i = 0; i < prog.steps; i++) this.i32[(this.acts.prog >> 2) + i * STEP_WORDS + 1] = 0;
      await this.executor.run(this.acts.prog, prog.steps);
      const f32 = this.f32;
      if (mode !== 'none') {
        const rows = mode === 'all' ? T : 1;
        for (let r = 0; r < rows; r++) {
          const at = (this.acts.logits >> 2) + r * V8;
          logits!.set(f32.subarray(at, at + V), ((mode === 'all' ? start : 0) + r) * V);
        }
      }
      if (hidden) hidden.set(f32.subarray(this.acts.x >> 2, (this.acts.x >> 2) + T * D), start * D);
    }
    if (toLayer === cache.toLayer) cache.length = pos0 + total;
    return { logits, hidden };
  }

  /** Embedding rows (from the panels, so a tied head and the lookup share one copy) as f32 into x. */
  private embed(tokens: number[]): void {
    const e = this.tensor(tensorNames.embed);
    const D = this.config.hiddenSize;
    const x = this.f32;
    const base = this.acts.x >> 2;
    const view = e.dtype === 'F32' ? new Float32Array(this.memory.buffer, e.at, e.panels * 8 * D) : new Uint16Array(this.memory.buffer, e.at, e.panels * 8 * D);
    const toNumber = e.dtype === 'F16' ? f16ToNumber : e.dtype === 'BF16' ? bf16ToNumber : (v: number) => v;
    tokens.forEach((tok, t) => {
      const panel = (tok >> 3) * D * 8 + (tok & 7);
      for (let k = 0; k < D; k++) x[base + t * D + k] = toNumber(view[panel + k * 8]!);
    });
  }

  private chunk(panels: number): number {
    return Math.max(1, Math.floor(panels / (Math.max(1, this.threads) * 8)));
  }

  private program(T: number, pos0: number, fromLayer: number, toLayer: number, cache: CpuKvCache, mode: 'all' | 'last' | 'none'): Program {
    const c = this.config;
    const a = this.acts;
    const D = c.hiddenSize;
    const H = c.numHeads;
    const G = c.numKvHeads;
    const hd = c.headDim;
    const qDim = H * hd;
    const kvDim = G * hd;
    const F = c.intermediateSize;
    const prog = new Program();
    const linear = (x: number, ldx: number, weight: string, bias: string | null, y: number, ldy: number, M: number, add: boolean) => {
      const w = this.tensor(weight);
      const b = bias ? this.tensor(bias).at : 0;
      prog.add(LlmOp.LINEAR, [x, 4 * ldx, w.at, DTYPE_CODE[w.dtype], y, 4 * ldy, M, w.cols, w.panels, b, add ? 2 : 0, this.chunk(w.panels)]);
    };
    const norm = (weight: string, x: number, y: number, rows: number) => {
      prog.add(LlmOp.RMSNORM, [x, 4 * D, y, 4 * D, rows, D, this.tensor(weight).at, { f: c.rmsNormEps }]);
    };
    for (let l = fromLayer; l < toLayer; l++) {
      const n = tensorNames.layer(l);
      const ci = l - cache.fromLayer;
      norm(n.inputNorm, a.x, a.h, T);
      linear(a.h, D, n.q, c.qkvBias ? n.qBias : null, a.q, round8(qDim), T, false);
      linear(a.h, D, n.k, c.qkvBias ? n.kBias : null, a.k, round8(kvDim), T, false);
      linear(a.h, D, n.v, c.qkvBias ? n.vBias : null, a.v, round8(kvDim), T, false);
      prog.add(LlmOp.ROPE, [a.q, a.k, a.v, cache.k[ci]!, cache.v[ci]!, T, pos0, H, G, hd, a.rope, 4 * round8(qDim), 4 * round8(kvDim)]);
      prog.add(LlmOp.ATTEND, [a.q, 4 * round8(qDim), cache.k[ci]!, cache.v[ci]!, a.att, 4 * qDim, T, pos0, H, G, hd, { f: 1 / Math.sqrt(hd) }]);
      linear(a.att, qDim, n.o, c.oBias ? n.oBias : null, a.x, D, T, true);
      norm(n.postNorm, a.x, a.h, T);
      linear(a.h, D, n.gate, c.mlpBias ? n.gateBias : null, a.gate, round8(F), T, false);
      linear(a.h, D, n.up, c.mlpBias ? n.upBias : null, a.up, round8(F), T, false);
      const elements = T * round8(F);
      prog.add(LlmOp.SILU_MUL, [a.gate, a.up, elements, Math.max(64, Math.ceil(elements / (Math.max(1, this.threads) * 8)))]);
      linear(a.gate, round8(F), n.down, c.mlpBias ? n.downBias : null, a.x, D, T, true);
    }
    if (mode !== 'none') {
      const rows = mode === 'all' ? T : 1;
      const from = mode === 'all' ? a.x : a.x + 4 * (T - 1) * D;
      norm(tensorNames.norm, from, a.h, rows);
      linear(a.h, D, c.tieWordEmbeddings ? tensorNames.embed : tensorNames.lmHead, null, a.logits, round8(c.vocabSize), rows, false);
    }
    return prog;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.executor?.terminate();
  }
}

/** Row-major [rows][cols] → panels of 8 rows: dst[(p·cols + k)·8 + j] = src[(8p + j)·cols + k]. */
function pack(src: Float32Array | Uint16Array, dst: Float32Array | Uint16Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = (r >> 3) * cols * 8 + (r & 7);
    const row = r * cols;
    for (let k = 0; k < cols; k++) dst[base + k * 8] = src[row + k]!;
  }
}

function decode(dtype: FloatDType, bytes: Uint8Array, n: number): Float32Array {
  if (dtype === 'F32') return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * n));
  const h = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return Float32Array.from(h, dtype === 'F16' ? f16ToNumber : bf16ToNumber);
}
