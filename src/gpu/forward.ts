/**
 * The forward pass as a list of recorded GPU steps (spec §6), generic over sequence length and
 * layer range: embed (+ input noise in a Sprint) → layers [k0, k1) → final norm + LM head on the
 * last position → output stage (fingerprint, keys, permutation, distance).
 * Steps (pipeline + bind group + grid) are built once per shape and replayed every batch, so the
 * CPU cost of a batch is one encoder pass over a prepared array.
 */
import { headDim, vocabBits, type SprintConfig } from '../sprint/config.ts';
import { scaleExponent, TensorId } from '../sprint/weights.ts';
import { at } from '../sprint/indexing.ts';
import type { GpuDevice } from './device.ts';
import { weightScale } from './shaders/common.wgsl.ts';
import { attentionKernel, elementwiseGrid, embedKernel, rmsnormKernel } from './shaders/layers.wgsl.ts';
import {
  MATMUL_UNIFORM_FLOATS,
  matmulDispatch,
  matmulKernel,
  matmulKey,
  matmulUniform,
  type MatmulEpilogue,
  type MatmulVariant,
} from './shaders/matmul.wgsl.ts';
import { outputGrid, outputKernel, type OutputMode } from './shaders/output.wgsl.ts';
import type { ResidentTensor, WeightChunk, WeightStore } from './weight-store.ts';

export type Step =
  | { readonly kind: 'dispatch'; readonly pipeline: GPUComputePipeline; readonly bindGroup: GPUBindGroup; readonly grid: readonly [number, number, number] }
  | { readonly kind: 'copy'; readonly src: GPUBuffer; readonly srcOffset: number; readonly dst: GPUBuffer; readonly dstOffset: number; readonly size: number };

/** Records steps into an encoder: consecutive dispatches share one compute pass. */
export function encodeSteps(encoder: GPUCommandEncoder, steps: readonly Step[]): void {
  let pass: GPUComputePassEncoder | null = null;
  for (const step of steps) {
    if (step.kind === 'dispatch') {
      pass ??= encoder.beginComputePass();
      pass.setPipeline(step.pipeline);
      pass.setBindGroup(0, step.bindGroup);
      pass.dispatchWorkgroups(step.grid[0], step.grid[1], step.grid[2]);
    } else {
      pass?.end();
      pass = null;
      encoder.copyBufferToBuffer(step.src, step.srcOffset, step.dst, step.dstOffset, step.size);
    }
  }
  pass?.end();
}

const EPILOGUES = {
  set: { relu: false, residual: false },
  residual: { relu: false, residual: true },
  relu: { relu: true, residual: false },
} as const satisfies Record<string, MatmulEpilogue>;

/** Every pipeline one model needs, compiled up front (the 'compile' phase). */
export class Kernels {
  private constructor(
    readonly variant: MatmulVariant,
    readonly outputMode: OutputMode,
    readonly embed: GPUComputePipeline,
    /** The Sprint's embed: adds each nonce's input noise G (task version 2). */
    readonly embedNoise: GPUComputePipeline,
    readonly rmsnorm: GPUComputePipeline,
    readonly attention: GPUComputePipeline,
    readonly output: GPUComputePipeline,
    private readonly matmuls: Map<string, GPUComputePipeline>,
  ) {}

  static async compile(
    dev: GpuDevice,
    config: SprintConfig,
    variant: MatmulVariant,
    onProgress?: (fraction: number) => void,
    outputMode: OutputMode = dev.adapter.isFallback ? 'serial' : 'workgroup',
  ): Promise<Kernels> {
    const d = config.dModel;
    const matmulSpecs: [MatmulEpilogue, number][] = [
      [EPILOGUES.set, d],
      [EPILOGUES.residual, d],
      [EPILOGUES.relu, d],
      [EPILOGUES.residual, config.ffnHidden],
    ];
    const fmt = variant.weightFormat;
    const noiseExponent = scaleExponent(config, TensorId.inputNoise);
    const total = 5 + matmulSpecs.length;
    let compiled = 0;
    const compile = async (key: string, code: () => string): Promise<GPUComputePipeline> => {
      const pipeline = await dev.pipeline(key, code);
      onProgress?.(++compiled / total);
      return pipeline;
    };
    const embed = await compile(`embed:${fmt}`, () => embedKernel(fmt, null));
    const embedNoise = await compile(`embed:${fmt}:noise${noiseExponent}`, () => embedKernel(fmt, noiseExponent));
    const rmsnorm = await compile('rmsnorm', rmsnormKernel);
    const attention = await compile(`attention:dh${headDim(config)}`, () => attentionKernel(headDim(config)));
    const output = await compile(`output:${outputMode}:bits${vocabBits(config)}`, () => outputKernel(vocabBits(config), outputMode));
    const matmuls = new Map<string, GPUComputePipeline>();
    for (const [e, K] of matmulSpecs) {
      const key = matmulKey(variant, e, K);
      matmuls.set(key, await compile(key, () => matmulKernel(variant, e, K)));
    }
    return new Kernels(variant, outputMode, embed, embedNoise, rmsnorm, attention, output, matmuls);
  }

  matmul(e: MatmulEpilogue, K: number): GPUComputePipeline {
    return this.matmuls.get(matmulKey(this.variant, e, K))!;
  }
}

/** Activation buffers for `sequences` sequences of `seqLen` positions (rows = sequences × seqLen). */
export class Activations {
  readonly rows: number;
  readonly x: GPUBuffer; // residual stream [rows, d]
  readonly h: GPUBuffer; // normalised [rows, d]
  readonly qkv: GPUBuffer; // [rows, 3d]
  readonly attn: GPUBuffer; // attention output [rows, d]
  readonly ffn: GPUBuffer; // relu(W1·h) [rows, F]
  readonly last: GPUBuffer; // rmsnorm of the last position [sequences, d]
  readonly logits: GPUBuffer; // [sequences, V]

  constructor(
    private readonly dev: GpuDevice,
    readonly config: SprintConfig,
    readonly sequences: number,
    readonly seqLen: number,
  ) {
    const { dModel: d, ffnHidden: F, vocab: V } = config;
    this.rows = sequences * seqLen;
    const f32 = (label: string, n: number, extra = 0) => dev.createBuffer(label, 4 * n, GPUBufferUsage.STORAGE | extra);
    const io = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.x = f32('x', this.rows * d, io);
    this.h = f32('h', this.rows * d);
    this.qkv = f32('qkv', this.rows * 3 * d);
    this.attn = f32('attn', this.rows * d);
    this.ffn = f32('ffn', this.rows * F);
    this.last = f32('last', sequences * d);
    this.logits = f32('logits', sequences * V, io);
  }

  static bytes(config: SprintConfig, sequences: number, seqLen: number): number {
    const rows = sequences * seqLen;
    return 4 * (rows * (6 * config.dModel + config.ffnHidden) + sequences * (config.dModel + config.vocab));
  }

  destroy(): void {
    for (const b of [this.x, this.h, this.qkv, this.attn, this.ffn, this.last, this.logits]) this.dev.free(b);
  }
}

/** Builds steps; owns the small uniform buffers it creates (shared between identical shapes). */
export class PlanBuilder {
  private readonly uniforms = new Map<string, GPUBuffer>();

  constructor(
    private readonly dev: GpuDevice,
    private readonly config: SprintConfig,
    private readonly kernels: Kernels,
    private readonly weights: WeightStore,
  ) {}

  private uniform(words: number[], floats: ReadonlySet<number> = new Set()): GPUBuffer {
    const key = words.map((w, i) => (floats.has(i) ? `f${w}` : w)).join(',');
    let buffer = this.uniforms.get(key);
    if (!buffer) {
      buffer = this.dev.uniform(`params ${key}`, words, floats);
      this.uniforms.set(key, buffer);
    }
    return buffer;
  }

  private dispatch(pipeline: GPUComputePipeline, buffers: (GPUBuffer | GPUBufferBinding)[], grid: [number, number, number]): Step {
    return { kind: 'dispatch', pipeline, bindGroup: this.dev.bindGroup(pipeline, buffers), grid };
  }

  private get maxPerDim(): number {
    return this.dev.limits.maxComputeWorkgroupsPerDimension;
  }

  /** Y[:, colBase + n] (op)= act(X · Wᵀ) for every chunk of `w`. */
  private matmul(steps: Step[], e: MatmulEpilogue, X: GPUBuffer, w: ResidentTensor, Y: GPUBuffer, M: number, ldY: number, colBase = 0): void {
    const pipeline = this.kernels.matmul(e, w.cols);
    const scale = weightScale(w.format, w.scaleExponent);
    for (const c of w.chunks) {
      const shape = { M, N: c.rows, K: w.cols };
      const u = this.uniform(matmulUniform(shape, ldY, colBase + c.rowStart, scale), MATMUL_UNIFORM_FLOATS);
      steps.push(
        this.dispatch(
          pipeline,
          [u, X, { buffer: c.buffer, offset: c.byteOffset, size: c.byteSize }, Y],
          matmulDispatch(this.kernels.variant, shape, this.maxPerDim),
        ),
      );
    }
  }

  /**
   * x = E[tokens] + P[position]; `tokens` holds rows u32. With `nonceKeys` (NONCE_KEY_WORDS per
   * sequence, the Sprint pass), each sequence's input noise G is generated and added (spec §5–§6).
   */
  embed(a: Activations, tokens: GPUBuffer, nonceKeys?: GPUBuffer): Step[] {
    const d4 = this.config.dModel / 4;
    const E = this.weights.tensor(TensorId.tokEmb);
    // The embed kernel reads the position table from one binding.
    const P = at(this.weights.tensor(TensorId.posEmb).chunks, 0, 'posEmb chunk');
    const scale = weightScale(E.format, E.scaleExponent);
    if (nonceKeys && a.seqLen !== this.config.seqLen) throw new RangeError('the input noise is defined for full-length sequences only');
    return E.chunks.map((c) =>
      this.dispatch(
        nonceKeys ? this.kernels.embedNoise : this.kernels.embed,
        [
          this.uniform([a.rows, d4, a.seqLen, c.rowStart, c.rows, scale], new Set([5])),
          tokens,
          { buffer: c.buffer, offset: c.byteOffset, size: c.byteSize },
          { buffer: P.buffer, offset: P.byteOffset, size: P.byteSize },
          a.x,
          ...(nonceKeys ? [nonceKeys] : []),
        ],
        elementwiseGrid(a.rows * d4, this.maxPerDim),
      ),
    );
  }

  private rmsnorm(rows: number, inStride: number, inOffset: number, src: GPUBuffer, dst: GPUBuffer): Step {
    return this.dispatch(
      this.kernels.rmsnorm,
      [this.uniform([rows, this.config.dModel / 4, inStride, inOffset]), src, dst],
      elementwiseGrid(rows, this.maxPerDim),
    );
  }

  /**
   * One pre-norm block (spec §6): x += Wo·attn(norm(x)); x += W2·relu(W1·norm(x)).
   * `lastPositionFfn`: run the FFN for each sequence's last position only (the spec allows it in the
   * last layer, whose other positions no logit reads): norm into `last`, and W2 adds into the
   * strided rows of x through ldY = n·d, colOffset = (n−1)·d.
   */
  layer(a: Activations, layer: number, lastPositionFfn = false): Step[] {
    const { dModel: d, heads } = this.config;
    const t = (id: (typeof TensorId)[keyof typeof TensorId]) => this.weights.tensor(id, layer);
    const steps: Step[] = [this.rmsnorm(a.rows, 1, 0, a.x, a.h)];
    const qkv = [t(TensorId.wq), t(TensorId.wk), t(TensorId.wv)];
    const fused = adjacent(qkv, this.dev.limits.maxStorageBufferBindingSize);
    if (fused) this.matmul(steps, EPILOGUES.set, a.h, fused, a.qkv, a.rows, 3 * d, 0);
    else qkv.forEach((w, i) => this.matmul(steps, EPILOGUES.set, a.h, w, a.qkv, a.rows, 3 * d, i * d));
    steps.push(
      this.dispatch(this.kernels.attention, [this.uniform([a.rows, heads, a.seqLen, d]), a.qkv, a.attn], elementwiseGrid(a.rows * heads, this.maxPerDim)),
    );
    this.matmul(steps, EPILOGUES.residual, a.attn, t(TensorId.wo), a.x, a.rows, d);
    if (lastPositionFfn) {
      steps.push(this.rmsnorm(a.sequences, a.seqLen, a.seqLen - 1, a.x, a.last));
      this.matmul(steps, EPILOGUES.relu, a.last, t(TensorId.w1), a.ffn, a.sequences, this.config.ffnHidden);
      this.matmul(steps, EPILOGUES.residual, a.ffn, t(TensorId.w2), a.x, a.sequences, a.seqLen * d, (a.seqLen - 1) * d);
      return steps;
    }
    steps.push(this.rmsnorm(a.rows, 1, 0, a.x, a.h));
    this.matmul(steps, EPILOGUES.relu, a.h, t(TensorId.w1), a.ffn, a.rows, this.config.ffnHidden);
    this.matmul(steps, EPILOGUES.residual, a.ffn, t(TensorId.w2), a.x, a.rows, d);
    return steps;
  }

  /** logits = U · rmsnorm(x of each sequence's last position). */
  head(a: Activations): Step[] {
    const steps = [this.rmsnorm(a.sequences, a.seqLen, a.seqLen - 1, a.x, a.last)];
    this.matmul(steps, EPILOGUES.set, a.last, this.weights.tensor(TensorId.lmHead), a.logits, a.sequences, this.config.vocab);
    return steps;
  }

  /**
   * distances[b] from logits[b], the nonce's output key (words 2–3 of its NONCE_KEY_WORDS in
   * `nonceKeys`) and τ (spec §7); `info` receives each nonce's fingerprint and permutation keys
   * (OUTPUT_INFO_WORDS per nonce).
   */
  output(a: Activations, nonceKeys: GPUBuffer, tau: GPUBuffer, distances: GPUBuffer, info: GPUBuffer): Step[] {
    return [
      this.dispatch(
        this.kernels.output,
        [this.uniform([a.sequences, this.config.vocab]), a.logits, nonceKeys, tau, distances, info],
        outputGrid(this.kernels.outputMode, a.sequences),
      ),
    ];
  }

  destroy(): void {
    this.uniforms.forEach((u) => this.dev.free(u));
    this.uniforms.clear();
  }
}

/**
 * Wq, Wk and Wv as one [3d, d] tensor when they lie back to back in one binding-sized chunk
 * each (the usual case): one matmul dispatch instead of three, with the same scale.
 */
function adjacent(parts: readonly ResidentTensor[], maxBindingBytes: number): ResidentTensor | null {
  const chunks: WeightChunk[] = [];
  for (const p of parts) {
    const [only, ...more] = p.chunks;
    if (!only || more.length > 0) return null;
    chunks.push(only);
  }
  const [head] = parts;
  const [first] = chunks;
  if (!head || !first) return null;
  let end = first.byteOffset;
  for (const c of chunks) {
    if (c.buffer !== first.buffer || c.byteOffset !== end) return null;
    end += c.byteSize;
  }
  if (end - first.byteOffset > maxBindingBytes) return null;
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  return { ...head, rows, chunks: [{ buffer: first.buffer, byteOffset: first.byteOffset, byteSize: end - first.byteOffset, rowStart: 0, rows }] };
}
