/**
 * Temperature / top-k / top-p picks on the GPU (shaders/sample.wgsl.ts) over row 0 of a logits
 * buffer: GpuModel's sampled blocks encode one per decode step, reading the logits where the head
 * wrote them and leaving the token in `out` for the next step's embedding; `sampleLogits` runs it on
 * logits from the CPU (tests compare it with sampleToken).
 */
import type { GpuDevice } from '../gpu/device.ts';
import { LlmError } from './errors.ts';
import { MAX_GREEDY_BLOCK, type DrawParams } from './model-types.ts';
import { SAMPLE_OUT_WORDS, SAMPLE_PARAMS_BYTES, sampleKernel, type SampleThreads } from './shaders/sample.wgsl.ts';

/** One pick as the kernel saw it. */
export interface GpuPick {
  readonly token: number;
  /** Tokens in the kept set (top-k / top-p). */
  readonly kept: number;
  /** Unnormalised probability mass of the kept set (f32; the top token counts 1). */
  readonly keptMass: number;
  /** The uniform drawn (counterUniform(seed, index)). */
  readonly u: number;
}

export function checkDrawParams(d: DrawParams, vocab: number): void {
  if (!(d.temperature > 0) || !Number.isFinite(d.temperature))
    throw new LlmError('BAD_ARGUMENT', `a sampled pick needs a temperature > 0, got ${d.temperature}`);
  if (!(d.topP > 0 && d.topP <= 1)) throw new LlmError('BAD_ARGUMENT', `top-p must be in (0, 1], got ${d.topP}`);
  if (!Number.isInteger(d.topK) || d.topK < 0) throw new LlmError('BAD_ARGUMENT', `top-k must be a non-negative integer, got ${d.topK}`);
  if (!Number.isInteger(d.seed)) throw new LlmError('BAD_ARGUMENT', `the seed must be an integer, got ${d.seed}`);
  if (!Number.isInteger(vocab) || vocab < 1) throw new LlmError('BAD_ARGUMENT', `a sampled pick needs a vocabulary, got ${vocab}`);
}

export class GpuSampler {
  /** out[0] the token, then kept count, kept mass and u (SAMPLE_OUT_WORDS words). */
  readonly out: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly draw: GPUBuffer;
  /** Per-step draw indices of a block, copied into `draw` before each step's pick. */
  private readonly indices: GPUBuffer;
  private readonly probs: GPUBuffer;
  private readonly kept: GPUBuffer;
  private groups = new WeakMap<GPUBuffer, GPUBindGroup>();

  private constructor(
    private readonly dev: GpuDevice,
    readonly vocab: number,
    private readonly pipeline: GPUComputePipeline,
  ) {
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.out = dev.createBuffer('llm:sample-out', SAMPLE_OUT_WORDS * 4, storage);
    this.params = dev.createBuffer('llm:sample-params', SAMPLE_PARAMS_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.draw = dev.createBuffer('llm:sample-draw', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.indices = dev.createBuffer('llm:sample-indices', MAX_GREEDY_BLOCK * 16, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.probs = dev.createBuffer('llm:sample-probs', vocab * 4, GPUBufferUsage.STORAGE);
    this.kept = dev.createBuffer('llm:sample-kept', vocab * 4, GPUBufferUsage.STORAGE);
  }

  /** `threads` defaults to 64 on CPU adapters, 256 elsewhere. */
  static async create(dev: GpuDevice, vocab: number, threads: SampleThreads = dev.adapter.isFallback ? 64 : 256): Promise<GpuSampler> {
    if (!Number.isInteger(vocab) || vocab < 1) throw new LlmError('BAD_ARGUMENT', `a sampled pick needs a vocabulary, got ${vocab}`);
    if (threads !== 64 && threads !== 256) throw new LlmError('BAD_ARGUMENT', `a sampler workgroup has 64 or 256 invocations, got ${threads}`);
    return new GpuSampler(dev, vocab, await dev.pipeline(`llm-sample:${threads}`, () => sampleKernel(threads)));
  }

  /**
   * Queues the parameters and the draw indices first, …, first + steps − 1 for the next `steps`
   * encodeStep calls. Queue writes land after the work submitted before them, so a block already
   * submitted keeps its own values.
   */
  prepare(d: DrawParams, first: number, steps: number): void {
    checkDrawParams(d, this.vocab);
    if (!Number.isInteger(steps) || steps < 1 || steps > MAX_GREEDY_BLOCK)
      throw new LlmError('BAD_ARGUMENT', `a sampled block takes 1 to ${MAX_GREEDY_BLOCK} steps, got ${steps}`);
    if (!Number.isInteger(first) || first < 0) throw new LlmError('BAD_ARGUMENT', `the first draw index must be a non-negative integer, got ${first}`);
    const p = new ArrayBuffer(SAMPLE_PARAMS_BYTES);
    new Uint32Array(p, 0, 3).set([this.vocab, d.topK, d.seed >>> 0]);
    new Float32Array(p, 16, 2).set([d.temperature, d.topP]);
    this.dev.queue.writeBuffer(this.params, 0, p);
    const idx = new Uint32Array(steps * 4);
    for (let i = 0; i < steps; i++) idx[i * 4] = (first + i) >>> 0;
    this.dev.queue.writeBuffer(this.indices, 0, idx);
  }

  /** Step `i` of the prepared block: its draw index, then the pick over row 0 of `logits` into `out`. */
  encodeStep(encoder: GPUCommandEncoder, logits: GPUBuffer, i: number): void {
    let group = this.groups.get(logits);
    if (!group) {
      group = this.dev.bindGroup(this.pipeline, [this.params, this.draw, logits, this.probs, this.out, this.kept], 'llm-sample');
      this.groups.set(logits, group);
    }
    encoder.copyBufferToBuffer(this.indices, i * 16, this.draw, 0, 16);
    const pass = encoder.beginComputePass({ label: 'llm-sample' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
    pass.end();
  }

  /** Picks for draw indices first … first + count − 1 over the same CPU logits (up to MAX_GREEDY_BLOCK per submit). */
  async sampleLogits(logits: Float32Array, d: DrawParams, first: number, count: number): Promise<GpuPick[]> {
    if (logits.length !== this.vocab) throw new LlmError('BAD_ARGUMENT', `expected ${this.vocab} logits, got ${logits.length}`);
    const dev = this.dev;
    const buffer = dev.createBuffer('llm:sample-logits', logits.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const picks: GpuPick[] = [];
    try {
      dev.queue.writeBuffer(buffer, 0, logits);
      for (let done = 0; done < count; done += MAX_GREEDY_BLOCK) {
        const steps = Math.min(MAX_GREEDY_BLOCK, count - done);
        this.prepare(d, first + done, steps);
        const bytes = steps * SAMPLE_OUT_WORDS * 4;
        const staging = dev.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'sample-picks');
        try {
          const encoder = dev.device.createCommandEncoder({ label: 'llm-sample-logits' });
          for (let i = 0; i < steps; i++) {
            this.encodeStep(encoder, buffer, i);
            encoder.copyBufferToBuffer(this.out, 0, staging, i * SAMPLE_OUT_WORDS * 4, SAMPLE_OUT_WORDS * 4);
          }
          dev.queue.submit([encoder.finish()]);
          await dev.mapRead(staging);
          const words = new Uint32Array(staging.getMappedRange(0, bytes).slice(0));
          staging.unmap();
          const floats = new Float32Array(words.buffer);
          for (let i = 0; i < steps; i++) picks.push({ token: words[i * 4]!, kept: words[i * 4 + 1]!, keptMass: floats[i * 4 + 2]!, u: floats[i * 4 + 3]! });
        } finally {
          dev.release(staging);
        }
      }
    } finally {
      dev.free(buffer);
      this.groups.delete(buffer);
    }
    return picks;
  }

  destroy(): void {
    for (const b of [this.out, this.params, this.draw, this.indices, this.probs, this.kept]) this.dev.free(b);
    this.groups = new WeakMap();
  }
}
