/**
 * CpuSprintEngine: the Sprint task (docs/sprint-spec.md, task version 2) on the CPU, with the same
 * API as the WebGPU SprintEngine (create, evaluateNonces, inspectNonces, runSprint, forward with
 * layer ranges, profilePass, readWeights, destroy). See docs/cpu-backend.md.
 *
 *   sprint seed ──Philox in wasm, all threads──▶ u8 codes (1 byte/param, panels of 8 rows)
 *   (public key, nonce) ──SHA-256 on this thread──▶ tokens + noise key + output key ──▶
 *   embed + input noise → L layers → head → fingerprint, keys, permutation, distance
 *   (one job: every compute thread runs the same program, assembly/cpu/index.ts)
 *
 * The engine thread (the page's engine Worker, or Node's main thread) only hashes and schedules: it
 * prepares batch n+1 while the compute threads run batch n.
 */
import { flopsPerNonce, getConfig, vocabBits, type SprintConfig } from '../sprint/config.ts';
import { FINGERPRINT_BITS, FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import { checkSprintSeed, inputNoiseKey, inputSeed, outputKey, PERMUTATION_ROUNDS, tokensFromInputSeed, weightKey } from '../sprint/seeds.ts';
import { targetVector } from '../sprint/target.ts';
import { GLOBAL_LAYER, linearScaleExponent, TensorId, tensorShape } from '../sprint/weights.ts';
import { at } from '../sprint/indexing.ts';
import type { BuildPhase, ForwardOptions, ForwardResult, NonceInspection, PassProfile, SprintOptions, SprintResult } from '../gpu/engine-types.ts';
import { GpuError, formatBytes } from '../gpu/errors.ts';
import { collectInspection, runSprintLoop } from '../gpu/sprint-loop.ts';
import { assertSameSprint, CallQueue, checkTokens, measurePasses, NodeSeeds, planForward, runPipeline } from '../gpu/engine-shared.ts';
import {
  Arena,
  bestKernelVariant,
  Ctrl,
  CTRL_BYTES,
  INFO_WORDS,
  KC,
  kernelBytes,
  kernelName,
  Mode,
  Op,
  Program,
  scratchBytes,
  STEP_WORDS,
  type KernelVariant,
} from './layout.ts';
import { InlineExecutor, type Executor } from './inline.ts';
import { ThreadPool, type ThreadSpawner } from './threads.ts';
import { browserSpawner, canShareMemory } from './threads-browser.ts';

export interface CpuEngineOptions {
  readonly config: SprintConfig | string;
  readonly sprintSeed: Uint8Array;
  /** Nonces per pass; default: a pass of ≈ 0.25 s, at least 16 matmul rows. */
  readonly batch?: number;
  /** Compute threads; default: every core. */
  readonly threads?: number;
  /** How threads are made: `nodeSpawner` from ./threads-node.ts in Node; Web Workers by default. */
  readonly spawner?: ThreadSpawner;
  readonly onProgress?: (phase: BuildPhase, fraction: number) => void;
  /** Refuse to allocate more than this (weights + activations + scratch). */
  readonly memoryBudgetBytes?: number;
  /** Kernel build; default: relaxed SIMD (fused multiply-add) where the runtime has it. */
  readonly kernels?: KernelVariant;
}

interface Slot {
  readonly prog: number;
  readonly steps: number;
  /** The same pass without the layers (profilePass). */
  readonly outsideProg: number;
  readonly outsideSteps: number;
  readonly tokens: number;
  readonly noiseKeys: number;
  readonly outKeys: number;
  readonly distances: number;
  readonly info: number;
}

interface PassResult {
  readonly distances: Float32Array;
  readonly info: Uint32Array | null;
}

interface Plan {
  readonly ctrl: number;
  readonly tokEmb: number;
  readonly posEmb: number;
  readonly layers: number;
  readonly layerBytes: number;
  readonly lmHead: number;
  readonly tau: number;
  readonly x: number;
  readonly qkv: number;
  readonly o: number;
  readonly h: number;
  readonly logits: number;
  readonly misc: number;
  readonly miscSteps: number;
  readonly scratch: number;
  readonly scratchStride: number;
  readonly slots: readonly Omit<Slot, 'steps' | 'outsideSteps'>[];
  readonly bytes: number;
  readonly pages: number;
}

const SLOTS = 2;
/** A pass of about this long by default (at the throughput assumed below). */
const TARGET_PASS_SECONDS = 0.25;
const ASSUMED_GFLOPS_PER_THREAD = 12;
const MIN_ROWS = 16;
const MAX_BATCH = 1024;

/** Offsets inside one layer's weights: Wq|Wk|Wv as one [3d, d] panel set, Wo, W1, W2. */
function layerOffsets(c: SprintConfig) {
  const d = c.dModel;
  const qkv = 0;
  const wo = 3 * d * d;
  const w1 = wo + d * d;
  const w2 = w1 + c.ffnHidden * d;
  return { qkv, wo, w1, w2, bytes: w2 + d * c.ffnHidden };
}

export function defaultCpuBatch(c: SprintConfig, threads: number): number {
  const wanted = Math.floor((threads * ASSUMED_GFLOPS_PER_THREAD * 1e9 * TARGET_PASS_SECONDS) / flopsPerNonce(c));
  const pow2 = 2 ** Math.floor(Math.log2(Math.max(1, Math.min(wanted, MAX_BATCH))));
  return Math.max(pow2, Math.ceil(MIN_ROWS / c.seqLen));
}

function planMemory(c: SprintConfig, batch: number, threads: number): Plan {
  const d = c.dModel;
  const maxRows = batch * c.seqLen;
  const a = new Arena();
  const ctrl = a.alloc(CTRL_BYTES);
  const passSteps = 1 + 5 * c.layers + 2;
  const progBytes = passSteps * STEP_WORDS * 4;
  const miscSteps = Math.max(passSteps, 8 * c.layers + 4);
  const misc = a.alloc(miscSteps * STEP_WORDS * 4);
  const slots = Array.from({ length: SLOTS }, () => ({
    prog: a.alloc(progBytes),
    outsideProg: a.alloc(progBytes),
    tokens: a.alloc(4 * maxRows),
    noiseKeys: a.alloc(8 * batch),
    outKeys: a.alloc(8 * batch),
    distances: a.alloc(8 * batch),
    info: a.alloc(4 * INFO_WORDS * batch),
  }));
  const tau = a.alloc(8 * c.vocab);
  const x = a.alloc(4 * maxRows * d);
  const qkv = a.alloc(4 * maxRows * 3 * d);
  const o = a.alloc(4 * maxRows * d);
  const h = a.alloc(4 * maxRows * c.ffnHidden);
  const logits = a.alloc(4 * batch * c.vocab);
  const scratchStride = scratchBytes(maxRows, vocabBits(c));
  const scratch = a.alloc(scratchStride * threads);
  const tokEmb = a.alloc(c.vocab * d);
  const posEmb = a.alloc(c.seqLen * d);
  const layerBytes = layerOffsets(c).bytes;
  const layers = a.alloc(layerBytes * c.layers);
  const lmHead = a.alloc(c.vocab * d);
  a.alloc(16); // v128 loads at the very end stay inside
  return {
    ctrl,
    tokEmb,
    posEmb,
    layers,
    layerBytes,
    lmHead,
    tau,
    x,
    qkv,
    o,
    h,
    logits,
    misc,
    miscSteps,
    scratch,
    scratchStride,
    slots,
    bytes: a.bytes,
    pages: a.pages,
  };
}

/** Compiled kernels, once per build and process: engines for each new Sprint seed reuse them. */
const compiled = new Map<KernelVariant, WebAssembly.Module>();

function compiledKernelsSync(variant: KernelVariant): WebAssembly.Module {
  let m = compiled.get(variant);
  if (!m) compiled.set(variant, (m = new WebAssembly.Module(kernelBytes(variant) as BufferSource)));
  return m;
}

async function compiledKernels(variant: KernelVariant): Promise<WebAssembly.Module> {
  const cached = compiled.get(variant);
  if (cached) return cached;
  const m = await WebAssembly.compile(kernelBytes(variant) as BufferSource);
  compiled.set(variant, m);
  return m;
}

interface Prepared {
  readonly config: SprintConfig;
  readonly plan: Plan;
  readonly batch: number;
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelVariant;
}

/** Checks the options and allocates the shared memory with its control block filled in. */
function prepare(options: Omit<CpuEngineOptions, 'threads' | 'spawner' | 'onProgress'>, threads: number): Prepared {
  const config = typeof options.config === 'string' ? getConfig(options.config) : options.config;
  checkSprintSeed(options.sprintSeed);
  const d = config.dModel;
  if (d % 16 !== 0 || config.ffnHidden % 16 !== 0 || config.vocab % 8 !== 0 || d % config.heads !== 0) {
    throw new GpuError('BAD_ARGUMENT', `config ${config.name}: d and F must be multiples of 16, V of 8`);
  }
  if (config.vocab < FINGERPRINT_BITS) throw new GpuError('BAD_ARGUMENT', `config ${config.name}: the fingerprint needs V ≥ ${FINGERPRINT_BITS}`);
  if (!canShareMemory()) {
    throw new GpuError('INSUFFICIENT_LIMITS', 'the CPU backend needs SharedArrayBuffer: the page must be cross-origin isolated (COOP/COEP headers)');
  }
  if (!Number.isInteger(threads) || threads < 1) throw new GpuError('BAD_ARGUMENT', `threads must be a positive integer, got ${threads}`);
  const batch = options.batch ?? defaultCpuBatch(config, threads);
  if (!Number.isInteger(batch) || batch < 1) throw new GpuError('BAD_ARGUMENT', `batch must be a positive integer, got ${batch}`);
  const plan = planMemory(config, batch, threads);
  if (plan.pages > 65536)
    throw new GpuError('INSUFFICIENT_MEMORY', `the ${config.name} model needs ${formatBytes(plan.bytes)}, above WebAssembly's 4 GiB`, {
      requiredBytes: plan.bytes,
    });
  if (options.memoryBudgetBytes !== undefined && plan.bytes > options.memoryBudgetBytes) {
    throw new GpuError(
      'INSUFFICIENT_MEMORY',
      `the ${config.name} model needs ${formatBytes(plan.bytes)} of memory, the budget is ${formatBytes(options.memoryBudgetBytes)}`,
      { requiredBytes: plan.bytes },
    );
  }
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: plan.pages, maximum: plan.pages, shared: true });
  } catch (cause) {
    throw new GpuError('INSUFFICIENT_MEMORY', `could not allocate ${formatBytes(plan.bytes)} of shared memory for the ${config.name} model`, {
      requiredBytes: plan.bytes,
      cause,
    });
  }
  const i32 = new Int32Array(memory.buffer);
  const cw = plan.ctrl >> 2;
  i32[cw + Ctrl.SCRATCH] = plan.scratch;
  i32[cw + Ctrl.SCRATCH_STRIDE] = plan.scratchStride;
  i32[cw + Ctrl.KC] = KC;
  i32[cw + Ctrl.MAX_ROWS] = batch * config.seqLen;
  return { config, plan, batch, memory, kernels: options.kernels ?? bestKernelVariant() };
}

export class CpuSprintEngine {
  readonly backend = 'cpu' as const;
  private readonly nodeSeeds = new NodeSeeds();
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;
  private readonly slots: Slot[] = [];
  private destroyed = false;
  /** Jobs run one at a time on the pool. */
  private jobs: Promise<unknown> = Promise.resolve();
  private readonly calls = new CallQueue(() => this.jobs);

  private constructor(
    readonly config: SprintConfig,
    private readonly sprintSeed: Uint8Array,
    readonly memory: WebAssembly.Memory,
    private readonly pool: Executor,
    private readonly plan: Plan,
    readonly batch: number,
    readonly kernels: KernelVariant,
  ) {
    this.i32 = new Int32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
  }

  get threads(): number {
    return this.pool.size;
  }

  /** Bytes of the u8 codes (1 byte per parameter). */
  get weightBytes(): number {
    const c = this.config;
    return c.vocab * c.dModel * 2 + c.seqLen * c.dModel + this.plan.layerBytes * c.layers;
  }

  get weightFormat(): 'u8' {
    return 'u8';
  }

  /** The whole shared memory: weights, activations, per-thread scratch. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  get description(): string {
    return `CPU (WebAssembly ${this.kernels === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'}, ${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  /** The matmul kernel's name, as the bench reports it. */
  get variant(): string {
    return kernelName(this.kernels);
  }

  static async create(options: CpuEngineOptions): Promise<CpuSprintEngine> {
    const spawner = options.spawner ?? browserSpawner;
    const threads = options.threads ?? Math.max(1, spawner.cores());
    const s = prepare(options, threads);
    const progress = options.onProgress ?? (() => {});
    progress('compile', 0);
    const module = await compiledKernels(s.kernels);
    const pool = await ThreadPool.create(spawner, module, s.memory, s.plan.ctrl, threads);
    progress('compile', 1);
    const engine = new CpuSprintEngine(s.config, options.sprintSeed.slice(), s.memory, pool, s.plan, s.batch, s.kernels);
    try {
      await engine.generateWeights(progress);
      engine.writePrograms();
    } catch (e) {
      engine.destroy();
      throw e;
    }
    return engine;
  }

  /**
   * An engine that runs on the calling thread alone and answers synchronously (`inspectNoncesSync`,
   * `forwardSync`; the async methods work too). For synchronous tools and tests and for the
   * simulation's virtual clock; one thread, so `create` is faster wherever threads help.
   */
  static createSync(options: Omit<CpuEngineOptions, 'threads' | 'spawner' | 'onProgress'>): CpuSprintEngine {
    const s = prepare(options, 1);
    const executor = new InlineExecutor(compiledKernelsSync(s.kernels), s.memory, s.plan.ctrl);
    const engine = new CpuSprintEngine(s.config, options.sprintSeed.slice(), s.memory, executor, s.plan, s.batch, s.kernels);
    for (const { prog } of engine.weightPrograms()) engine.runMiscSync(prog);
    engine.writeTarget();
    engine.writePrograms();
    return engine;
  }

  // ── weights ────────────────────────────────────────────────────────────────────────────────────

  private async generateWeights(progress: (phase: BuildPhase, fraction: number) => void): Promise<void> {
    progress('weights', 0);
    for (const { prog, fraction } of this.weightPrograms()) {
      await this.runMisc(prog);
      if (fraction < 1) progress('weights', fraction);
    }
    this.writeTarget();
    progress('weights', 1);
  }

  /** Philox programs for every tensor (spec §3–§4), a few layers each, with the fraction done after each. */
  private *weightPrograms(): Generator<{ prog: Program; fraction: number }> {
    const c = this.config;
    const p = this.plan;
    const [k0, k1] = weightKey(this.sprintSeed);
    const gen = (
      prog: Program,
      id: number,
      layer: number,
      dst: number,
      packed: boolean,
      rows = tensorShape(c, id as TensorId).rows,
      cols = tensorShape(c, id as TensorId).cols,
    ) => {
      const unit = Math.max(8, Math.ceil(rows / (this.threads * 16) / 8) * 8);
      prog.add(Op.GENERATE, [k0, k1, id, layer >>> 0, rows, cols, dst, packed ? 1 : 0, unit]);
    };
    const head = new Program();
    gen(head, TensorId.tokEmb, GLOBAL_LAYER, p.tokEmb, false);
    gen(head, TensorId.posEmb, GLOBAL_LAYER, p.posEmb, false);
    gen(head, TensorId.lmHead, GLOBAL_LAYER, p.lmHead, true);
    yield { prog: head, fraction: 0 };
    const off = layerOffsets(c);
    const d = c.dModel;
    // A few layers per job: progress in about 16 steps, at ~0.1 ms of overhead per job.
    const perJob = Math.min(Math.max(1, Math.ceil(c.layers / 16)), Math.floor(p.miscSteps / 6));
    for (let l0 = 0; l0 < c.layers; l0 += perJob) {
      const prog = new Program();
      for (let l = l0; l < Math.min(c.layers, l0 + perJob); l++) {
        const base = p.layers + l * p.layerBytes;
        gen(prog, TensorId.wq, l, base + off.qkv, true);
        gen(prog, TensorId.wk, l, base + off.qkv + d * d, true);
        gen(prog, TensorId.wv, l, base + off.qkv + 2 * d * d, true);
        gen(prog, TensorId.wo, l, base + off.wo, true);
        gen(prog, TensorId.w1, l, base + off.w1, true);
        gen(prog, TensorId.w2, l, base + off.w2, true);
      }
      yield { prog, fraction: Math.min(1, (l0 + perJob) / c.layers) };
    }
  }

  private writeTarget(): void {
    const tau = targetVector(this.config, weightKey(this.sprintSeed)).unit;
    this.f64.set(tau, this.plan.tau >> 3);
  }

  /** The codes q of one tensor in the spec's element order (spec §4), e.g. to hash-check them. */
  async readWeights(id: (typeof TensorId)[keyof typeof TensorId], layer?: number): Promise<Uint8Array> {
    this.assertUsable();
    const c = this.config;
    const p = this.plan;
    if (id === TensorId.tokEmb) return this.u8.slice(p.tokEmb, p.tokEmb + c.vocab * c.dModel);
    if (id === TensorId.posEmb) return this.u8.slice(p.posEmb, p.posEmb + c.seqLen * c.dModel);
    if (id === TensorId.target) return Uint8Array.from(targetVector(c, weightKey(this.sprintSeed)).codes, (t) => (t + 255) / 2);
    if (id === TensorId.lmHead) return this.unpack(p.lmHead, c.vocab, c.dModel);
    if (layer === undefined || !Number.isInteger(layer) || layer < 0 || layer >= c.layers)
      throw new GpuError('BAD_ARGUMENT', `layer must be in 0..${c.layers - 1}`);
    const off = layerOffsets(c);
    const base = p.layers + layer * p.layerBytes;
    const d = c.dModel;
    switch (id) {
      case TensorId.wq:
        return this.unpack(base + off.qkv, d, d);
      case TensorId.wk:
        return this.unpack(base + off.qkv + d * d, d, d);
      case TensorId.wv:
        return this.unpack(base + off.qkv + 2 * d * d, d, d);
      case TensorId.wo:
        return this.unpack(base + off.wo, d, d);
      case TensorId.w1:
        return this.unpack(base + off.w1, c.ffnHidden, d);
      case TensorId.w2:
        return this.unpack(base + off.w2, d, c.ffnHidden);
      default:
        throw new GpuError('BAD_ARGUMENT', `tensor ${id} is not stored`);
    }
  }

  /** Panels of 8 rows → row-major [rows][cols]. */
  private unpack(start: number, rows: number, cols: number): Uint8Array {
    const end = start + Math.ceil(rows / 8) * 8 * cols;
    if (end > this.u8.length) throw new RangeError(`panels of ${rows}×${cols} at byte ${start} end past the memory (${this.u8.length} bytes)`);
    const out = new Uint8Array(rows * cols);
    // Every byte read lies in [start, end), checked above.
    for (let r = 0; r < rows; r++) {
      const panel = start + (r >> 3) * cols * 8 + (r & 7);
      for (let k = 0; k < cols; k++) out[r * cols + k] = this.u8[panel + k * 8]!;
    }
    return out;
  }

  // ── programs ───────────────────────────────────────────────────────────────────────────────────

  private chunk(panels: number): number {
    return Math.max(1, Math.floor(panels / (this.threads * 8)));
  }

  /** One matmul step: Y = epilogue(X · Wᵀ), W packed [N/8][K][8]. */
  private matmul(prog: Program, x: number, ldx: number, w: number, y: number, ldy: number, M: number, K: number, N: number, norm: boolean, mode: number): void {
    const s = 2 ** -linearScaleExponent(K);
    prog.add(Op.MATMUL, [x, 4 * ldx, w, y, 4 * ldy, M, K, N, { f: s }, norm ? 1 : 0, mode, this.chunk(N / 8)]);
  }

  /**
   * Layers [from, to) over `seqs` sequences of n positions in x. `lastOnly` runs the last layer's
   * FFN for each sequence's last position only (spec §6 allows it: no logit reads the others).
   */
  private layers(prog: Program, from: number, to: number, seqs: number, n: number, lastOnly: boolean): void {
    const c = this.config;
    const p = this.plan;
    const d = c.dModel;
    const F = c.ffnHidden;
    const off = layerOffsets(c);
    const M = seqs * n;
    for (let l = from; l < to; l++) {
      const w = p.layers + l * p.layerBytes;
      this.matmul(prog, p.x, d, w + off.qkv, p.qkv, 3 * d, M, d, 3 * d, true, Mode.STORE);
      prog.add(Op.ATTENTION, [p.qkv, p.o, seqs, n, d, c.heads]);
      this.matmul(prog, p.o, d, w + off.wo, p.x, d, M, d, d, false, Mode.ADD);
      if (lastOnly && l === c.layers - 1) {
        const xl = p.x + 4 * (n - 1) * d;
        this.matmul(prog, xl, n * d, w + off.w1, p.h, F, seqs, d, F, true, Mode.RELU);
        this.matmul(prog, p.h, F, w + off.w2, xl, n * d, seqs, F, d, false, Mode.ADD);
      } else {
        this.matmul(prog, p.x, d, w + off.w1, p.h, F, M, d, F, true, Mode.RELU);
        this.matmul(prog, p.h, F, w + off.w2, p.x, d, M, F, d, false, Mode.ADD);
      }
    }
  }

  /** Logits of each sequence's last position: U · rmsnorm(x_last). */
  private head(prog: Program, seqs: number, n: number): void {
    const c = this.config;
    const p = this.plan;
    this.matmul(prog, p.x + 4 * (n - 1) * c.dModel, n * c.dModel, p.lmHead, p.logits, c.vocab, seqs, c.dModel, c.vocab, true, Mode.STORE);
  }

  private writePrograms(): void {
    const c = this.config;
    const p = this.plan;
    const B = this.batch;
    const T = c.seqLen;
    for (const s of p.slots) {
      const inputs = new Program().add(Op.EMBED, [s.tokens, s.noiseKeys, B, T, p.tokEmb, p.posEmb, p.x, c.dModel]);
      const tail = new Program();
      this.head(tail, B, T);
      tail.add(Op.OUTPUT, [p.logits, B, vocabBits(c), p.tau, s.outKeys, s.distances, s.info]);
      const full = new Program().append(inputs);
      this.layers(full, 0, c.layers, B, T, true);
      full.append(tail);
      const outside = new Program().append(inputs).append(tail);
      full.write(this.i32, s.prog);
      outside.write(this.i32, s.outsideProg);
      this.slots.push({ ...s, steps: full.steps, outsideSteps: outside.steps });
    }
  }

  /** Jobs run on the pool one after another, in the order they were queued. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const job = this.jobs.then(fn);
    this.jobs = job.catch(() => undefined);
    return job;
  }

  /** Runs the program at `prog` now (call from a queued job), its unit counters reset first. */
  private async runNow(prog: number, steps: number): Promise<void> {
    for (let i = 0; i < steps; i++) this.i32[(prog >> 2) + i * STEP_WORDS + 1] = 0;
    await this.pool.run(prog, steps);
  }

  /** Writes `prog` into the misc region and runs it, after the jobs queued before it. */
  private runMisc(prog: Program): Promise<void> {
    if (prog.steps > this.plan.miscSteps) throw new Error(`program of ${prog.steps} steps exceeds the ${this.plan.miscSteps}-step region`);
    return this.enqueue(async () => {
      prog.write(this.i32, this.plan.misc);
      await this.runNow(this.plan.misc, prog.steps);
    });
  }

  /** The calling thread runs `prog` in the misc region now (inline engines only). */
  private runMiscSync(prog: Program): void {
    if (prog.steps > this.plan.miscSteps) throw new Error(`program of ${prog.steps} steps exceeds the ${this.plan.miscSteps}-step region`);
    prog.write(this.i32, this.plan.misc);
    this.runInline(this.plan.misc, prog.steps);
  }

  private runInline(prog: number, steps: number): void {
    const inline = this.assertInline();
    for (let i = 0; i < steps; i++) this.i32[(prog >> 2) + i * STEP_WORDS + 1] = 0;
    inline.runSync(prog, steps);
  }

  // ── nonces ─────────────────────────────────────────────────────────────────────────────────────

  /** Distances of `nonces` for the host `publicKey`, in order (spec §5–§7). */
  async evaluateNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<Float32Array> {
    return (await this.inspectNonces(publicKey, nonces)).distances;
  }

  /** Distances, 128-bit fingerprints (FINGERPRINT_WORDS per nonce) and the 8 permutation keys per nonce. */
  inspectNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<NonceInspection> {
    if (this.pool instanceof InlineExecutor) return this.calls.run(async () => this.inspectNoncesSync(publicKey, nonces));
    return collectInspection(nonces, this.batch, INFO_WORDS, (next, onBatch) =>
      this.pipelined(publicKey, next, undefined, (batch, result) => onBatch(batch, result.distances, result.info!)),
    );
  }

  /** `inspectNonces` on the calling thread (engines made by `createSync`). */
  inspectNoncesSync(publicKey: Uint8Array, nonces: readonly number[]): NonceInspection {
    this.assertInline();
    const hostSeed = this.nodeSeeds.of(publicKey);
    const slot = at(this.slots, 0, 'slot');
    const distances = new Float32Array(nonces.length);
    const fingerprints = new Uint32Array(nonces.length * FINGERPRINT_WORDS);
    const keys = new Uint32Array(nonces.length * PERMUTATION_ROUNDS);
    for (let start = 0; start < nonces.length; start += this.batch) {
      const batch = nonces.slice(start, start + this.batch);
      this.writeInputs(slot, this.batchInputs(hostSeed, batch));
      this.runInline(slot.prog, slot.steps);
      const { distances: d, info } = this.readResult(slot, batch.length);
      distances.set(d, start);
      batch.forEach((_, b) => {
        fingerprints.set(info.subarray(b * INFO_WORDS, b * INFO_WORDS + FINGERPRINT_WORDS), (start + b) * FINGERPRINT_WORDS);
        keys.set(info.subarray(b * INFO_WORDS + FINGERPRINT_WORDS, b * INFO_WORDS + FINGERPRINT_WORDS + PERMUTATION_ROUNDS), (start + b) * PERMUTATION_ROUNDS);
      });
    }
    return { distances, fingerprints, keys };
  }

  /** Same as SprintEngine.runSprint: consecutive nonces until duration, maxNonces or the signal. */
  async runSprint(options: SprintOptions): Promise<SprintResult> {
    assertSameSprint(this.sprintSeed, options.sprintSeed);
    return runSprintLoop(
      this.config,
      this.batch,
      options,
      (next, onBatch) => this.pipelined(options.publicKey, next, options.signal, (nonces, { distances }) => onBatch(nonces, distances)),
      // The compute threads failed (a crash, out of memory): same recovery contract as a lost GPU.
      (e, soFar) =>
        this.destroyed || e instanceof GpuError
          ? e
          : new GpuError('DEVICE_LOST', `CPU compute threads failed during the Sprint after ${soFar.tried} nonces; resume from nonce ${soFar.nextNonce}`, {
              found: soFar.found,
              nextNonce: soFar.nextNonce,
              noncesTried: soFar.tried,
              cause: e,
            }),
    );
  }

  /** Medians of one-at-a-time passes of `batch` nonces, with and without the layers (ms). */
  profilePass(publicKey: Uint8Array, options: { passes?: number; outsidePasses?: number } = {}): Promise<PassProfile> {
    return this.calls.run(() => {
      this.assertUsable();
      const hostSeed = this.nodeSeeds.of(publicKey);
      const nonces = Array.from({ length: this.batch }, (_, i) => i);
      return measurePasses(this.batch, options, (skipLayers) => this.submitBatch(at(this.slots, 0, 'slot'), hostSeed, nonces, undefined, skipLayers));
    });
  }

  /** Keeps up to SLOTS batches queued: batch n+1 is hashed while the threads run batch n. */
  private pipelined(
    publicKey: Uint8Array,
    next: () => readonly number[] | null,
    signal: AbortSignal | undefined,
    onBatch: (nonces: readonly number[], result: PassResult) => void,
  ): Promise<void> {
    return this.calls.run(async () => {
      this.assertUsable();
      const hostSeed = this.nodeSeeds.of(publicKey);
      const onAbort = () => this.pool.abortJob();
      signal?.addEventListener('abort', onAbort);
      try {
        await runPipeline({
          depth: SLOTS,
          next,
          submit: (nonces, index) => this.submitBatch(at(this.slots, index % SLOTS, 'slot'), hostSeed, nonces, signal),
          settle: async (pass) => {
            const result = await pass;
            return signal?.aborted ? null : result;
          },
          onBatch,
          signal,
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /**
   * Writes one batch's inputs into its slot: per nonce, the input seed (SHA-256, spec §5) gives the
   * tokens (bytes 0–15), the input-noise key (16–23) and the output key (24–31). The slot's inputs
   * are written when its job is next in the queue (the other slot's job may be running).
   */
  private submitBatch(slot: Slot, hostSeed: Uint8Array, nonces: readonly number[], signal?: AbortSignal, skipLayers = false): Promise<PassResult | null> {
    const inputs = this.batchInputs(hostSeed, nonces);
    return this.enqueue(async () => {
      if (signal?.aborted) return null;
      this.writeInputs(slot, inputs);
      if (skipLayers) await this.runNow(slot.outsideProg, slot.outsideSteps);
      else await this.runNow(slot.prog, slot.steps);
      if (signal?.aborted) return null;
      return this.readResult(slot, nonces.length);
    });
  }

  private batchInputs(hostSeed: Uint8Array, nonces: readonly number[]): { tokens: Uint32Array; keys: Uint32Array } {
    const { seqLen } = this.config;
    const B = this.batch;
    const tokens = new Uint32Array(B * seqLen);
    const keys = new Uint32Array(B * 4);
    nonces.forEach((nonce, b) => {
      const seed = inputSeed(this.sprintSeed, hostSeed, nonce);
      tokens.set(tokensFromInputSeed(this.config, seed), b * seqLen);
      keys.set(inputNoiseKey(seed), 2 * b);
      keys.set(outputKey(seed), 2 * B + 2 * b);
    });
    return { tokens, keys };
  }

  private writeInputs(slot: Slot, { tokens, keys }: { tokens: Uint32Array; keys: Uint32Array }): void {
    const B = this.batch;
    this.i32.set(tokens, slot.tokens >> 2);
    this.i32.set(keys.subarray(0, 2 * B), slot.noiseKeys >> 2);
    this.i32.set(keys.subarray(2 * B), slot.outKeys >> 2);
  }

  private readResult(slot: Slot, n: number): PassResult & { info: Uint32Array } {
    const distances = Float32Array.from(this.f64.subarray(slot.distances >> 3, (slot.distances >> 3) + n));
    const info = Uint32Array.from(this.i32.subarray(slot.info >> 2, (slot.info >> 2) + n * INFO_WORDS));
    return { distances, info };
  }

  // ── forward ────────────────────────────────────────────────────────────────────────────────────

  /** Light inference: the forward pass over arbitrary sequences and layer ranges (split inference). */
  forward(options: ForwardOptions): Promise<ForwardResult> {
    if (this.pool instanceof InlineExecutor) return this.calls.run(async () => this.forwardSync(options));
    return this.calls.run(async () => {
      const steps = this.forwardPrograms(options);
      for (;;) {
        await this.jobs;
        const next = steps.next();
        if (next.done) return next.value;
        if (next.value.steps > 0) await this.runMisc(next.value);
      }
    });
  }

  /** `forward` on the calling thread (engines made by `createSync`). */
  forwardSync(options: ForwardOptions): ForwardResult {
    this.assertInline();
    const steps = this.forwardPrograms(options);
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
      if (next.value.steps > 0) this.runMiscSync(next.value);
    }
  }

  /**
   * The programs of a forward call, one per chunk of sequences and segment between captured layers.
   * Each is yielded after its inputs are written; the caller runs it before asking for the next,
   * which first reads what it left in memory.
   */
  private *forwardPrograms(options: ForwardOptions): Generator<Program, ForwardResult> {
    this.assertUsable();
    const c = this.config;
    const p = this.plan;
    const d = c.dModel;
    // The arena holds config.seqLen positions per sequence, hidden-state input included.
    const { from, to, sequences, seqLen: n, capture } = planForward(c, options, c.seqLen);
    const tokens = options.tokens?.map((seq) => checkTokens(c, seq));
    const rowFloats = n * d;
    const hidden = new Float32Array(sequences * rowFloats);
    const captured = new Map<number, Float32Array>(capture.map((l) => [l, new Float32Array(sequences * rowFloats)]));
    const logits = options.logits ? new Float32Array(sequences * c.vocab) : undefined;
    const ends = [...capture.map((l) => l + 1), to].filter((e, i, all) => all.indexOf(e) === i);
    const slot = at(this.slots, 0, 'slot');
    for (let s0 = 0; s0 < sequences; s0 += this.batch) {
      const seqs = Math.min(this.batch, sequences - s0);
      let begin = from;
      for (const [i, end] of ends.entries()) {
        const prog = new Program();
        if (i === 0 && tokens) prog.add(Op.EMBED, [slot.tokens, 0, seqs, n, p.tokEmb, p.posEmb, p.x, d]);
        this.layers(prog, begin, end, seqs, n, false);
        const last = i === ends.length - 1;
        if (last && logits) this.head(prog, seqs, n);
        if (i === 0) {
          if (tokens) tokens.slice(s0, s0 + seqs).forEach((t, s) => this.i32.set(t, (slot.tokens >> 2) + s * n));
          else this.f32.set(options.hidden!.data.subarray(s0 * rowFloats, (s0 + seqs) * rowFloats), p.x >> 2);
        }
        yield prog;
        const x = this.f32.subarray(p.x >> 2, (p.x >> 2) + seqs * rowFloats);
        if (captured.has(end - 1)) captured.get(end - 1)!.set(x, s0 * rowFloats);
        if (last) {
          hidden.set(x, s0 * rowFloats);
          if (logits) logits.set(this.f32.subarray(p.logits >> 2, (p.logits >> 2) + seqs * c.vocab), s0 * c.vocab);
        }
        begin = end;
      }
    }
    return { hidden, captured, logits };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.terminate();
  }

  /** Synchronous calls run on the calling thread: only an inline engine has one to run on. */
  private assertInline(): InlineExecutor {
    this.assertUsable();
    if (!(this.pool instanceof InlineExecutor)) throw new GpuError('BAD_ARGUMENT', 'synchronous calls need an engine made by CpuSprintEngine.createSync');
    return this.pool;
  }

  private assertUsable(): void {
    if (this.destroyed) throw new GpuError('BAD_ARGUMENT', 'engine destroyed');
  }
}
