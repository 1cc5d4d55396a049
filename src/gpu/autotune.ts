/**
 * Picks the matmul variant (and with it the weight format) per adapter by timing a few candidates
 * from the one template on a model-shaped problem, and remembers the choice per adapter
 * description and config (IndexedDB 'sprintnet-gpu' in the browser, a JSON file in Node).
 * Small shapes and few iterations: a few hundred ms even on SwiftShader.
 */
import type { SprintConfig } from '../sprint/config.ts';
import type { AdapterDescription, GpuDevice } from './device.ts';
import { bytesPerParam } from './shaders/common.wgsl.ts';
import {
  MATMUL_UNIFORM_FLOATS,
  matmulDispatch,
  matmulKernel,
  matmulKey,
  matmulUniform,
  matmulWorkgroupBytes,
  variantName,
  type MatmulVariant,
} from './shaders/matmul.wgsl.ts';

export interface TuneCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export interface TuneResult {
  readonly variant: MatmulVariant;
  /** Throughput of the chosen variant on the tuning shape: drives the default batch size. */
  readonly gflops: number;
  readonly measured: readonly { readonly name: string; readonly ms: number; readonly gflops: number }[];
  readonly fromCache: boolean;
  readonly elapsedMs: number;
}

const direct = (tileM: number, tileN: number, weightFormat: MatmulVariant['weightFormat'], workgroupSize = 64): MatmulVariant => ({
  tileM,
  tileN,
  useWorkgroupMemory: false,
  workgroupSize,
  weightFormat,
});
const tiled = (tileM: number, tileN: number, weightFormat: MatmulVariant['weightFormat'], workgroupSize: number): MatmulVariant => ({
  tileM,
  tileN,
  useWorkgroupMemory: true,
  workgroupSize,
  weightFormat,
});

/** What runs when tuning is skipped: barrier-free on CPU adapters, workgroup tiling on GPUs. */
export const defaultVariant = (adapter: AdapterDescription): MatmulVariant => (adapter.isFallback ? direct(4, 4, 'u8') : tiled(4, 4, 'u8', 64));

export function candidateVariants(adapter: AdapterDescription): MatmulVariant[] {
  if (adapter.isFallback) {
    // Workgroup barriers are emulated slowly on CPU adapters: only direct variants are worth a try.
    return [direct(8, 4, 'u8'), direct(4, 4, 'u8'), direct(4, 4, 'f16')];
  }
  return [
    direct(4, 4, 'u8'),
    direct(4, 4, 'f16'),
    tiled(4, 4, 'u8', 64),
    tiled(4, 4, 'f16', 64),
    tiled(4, 4, 'u8', 256),
    tiled(4, 4, 'f16', 256),
    tiled(2, 2, 'u8', 256),
    tiled(2, 4, 'u8', 256),
    // 64×128 blocks: 24 KiB of workgroup memory, so only where the adapter offers it.
    tiled(4, 8, 'u8', 256),
  ];
}

/**
 * f16-arithmetic variants for the Sprint's f16 screen (adapters with shader-f16). Half the
 * workgroup memory of their f32 twins; register tiles stay at 4×4 and 4×8 because every output
 * keeps an f32 sum beside its f16 partial sum.
 */
export function f16CandidateVariants(): MatmulVariant[] {
  const h = (tileM: number, tileN: number, weightFormat: MatmulVariant['weightFormat'], workgroupSize: number, f16Chunks: number): MatmulVariant => ({
    ...tiled(tileM, tileN, weightFormat, workgroupSize),
    arithmetic: 'f16',
    f16Chunks,
  });
  return [
    h(4, 4, 'u8', 64, 1),
    h(4, 4, 'u8', 256, 1),
    h(4, 4, 'f16', 256, 1),
    h(4, 8, 'u8', 256, 1),
    h(4, 4, 'u8', 256, 4),
    h(4, 8, 'u8', 256, 4),
    h(4, 8, 'f16', 256, 4),
  ];
}

/** A variant the adapter can run: workgroup size and workgroup memory within its limits. */
export const fitsLimits = (v: MatmulVariant, K: number, limits: GPUSupportedLimits): boolean =>
  v.workgroupSize <= limits.maxComputeInvocationsPerWorkgroup && matmulWorkgroupBytes(v, K) <= limits.maxComputeWorkgroupStorageSize;

export const tuneCacheKey = (adapter: AdapterDescription, config: SprintConfig): string =>
  `v1|${adapter.vendor}|${adapter.architecture}|${adapter.device}|${adapter.description}|${config.name}`;

/** Tuning shape: the FFN up-projection (most of the work), with a batch sized for the adapter. */
function tuneShape(adapter: AdapterDescription, config: SprintConfig) {
  return adapter.isFallback
    ? { M: 4 * config.seqLen, N: Math.min(config.ffnHidden, 512), K: config.dModel }
    : { M: 64 * config.seqLen, N: config.ffnHidden, K: config.dModel };
}

export async function autotune(dev: GpuDevice, config: SprintConfig, options: { cache?: TuneCache; candidates?: MatmulVariant[] } = {}): Promise<TuneResult> {
  const started = performance.now();
  const key = tuneCacheKey(dev.adapter, config);
  const cached = (await options.cache?.get(key).catch(() => undefined)) as TuneResult | undefined;
  if (cached?.variant) return { ...cached, fromCache: true, elapsedMs: performance.now() - started };

  const shape = tuneShape(dev.adapter, config);
  const flops = 2 * shape.M * shape.N * shape.K;
  const x = dev.createBuffer('tune-x', 4 * shape.M * shape.K, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const y = dev.createBuffer('tune-y', 4 * shape.M * shape.N, GPUBufferUsage.STORAGE);
  dev.queue.writeBuffer(
    x,
    0,
    Float32Array.from({ length: shape.M * shape.K }, (_, i) => Math.sin(i)),
  );
  const weights: Record<string, GPUBuffer> = {};
  const measured: { name: string; ms: number; gflops: number; variant: MatmulVariant }[] = [];
  try {
    for (const variant of (options.candidates ?? candidateVariants(dev.adapter)).filter((v) => fitsLimits(v, shape.K, dev.limits))) {
      const fmt = variant.weightFormat;
      if (!weights[fmt]) {
        const bytes = shape.N * shape.K * bytesPerParam(fmt);
        weights[fmt] = dev.createBuffer(`tune-w-${fmt}`, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
        // Finite weights in both formats: 0x3c00 is f16 1.0, and any byte is a valid u8 code.
        dev.queue.writeBuffer(weights[fmt], 0, new Uint32Array(bytes / 4).fill(0x3c003c00));
      }
      const timer = await matmulTimer(dev, variant, shape, { relu: true, residual: false }, 1, { x, w: weights[fmt], y });
      try {
        const first = await timer.run(1); // warm-up, and a hint for how many iterations fit ~30 ms (queue latency amortised)
        const iterations = Math.max(1, Math.min(50, Math.round(30 / Math.max(first, 0.1))));
        const ms = (await timer.run(iterations)) / iterations;
        measured.push({ name: variantName(variant), ms, gflops: flops / ms / 1e6, variant });
      } finally {
        timer.free();
      }
    }
  } finally {
    dev.free(x);
    dev.free(y);
    Object.values(weights).forEach((w) => dev.free(w));
  }
  const best = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
  const result: TuneResult = {
    variant: best.variant,
    gflops: best.gflops,
    measured: measured.map(({ name, ms, gflops }) => ({ name, ms, gflops })),
    fromCache: false,
    elapsedMs: performance.now() - started,
  };
  await options.cache?.set(key, result).catch(() => undefined);
  return result;
}

/**
 * One matmul variant bound to its buffers, for timing: `run(n)` encodes n dispatches in one compute
 * pass (the queue's latency amortised over them), submits and waits; it gives the wall time in ms.
 * `scale` is the weights' dequantisation factor (2^−s for u8 codes, 1 where values do not matter).
 */
export async function matmulTimer(
  dev: GpuDevice,
  variant: MatmulVariant,
  shape: { M: number; N: number; K: number },
  epilogue: { relu: boolean; residual: boolean },
  scale: number,
  buffers: { x: GPUBuffer; w: GPUBuffer; y: GPUBuffer },
): Promise<{ run: (iterations: number) => Promise<number>; free: () => void }> {
  const pipeline = await dev.pipeline(matmulKey(variant, epilogue, shape.K), () => matmulKernel(variant, epilogue, shape.K));
  const uniform = dev.uniform('matmul-timer-params', matmulUniform(shape, shape.N, 0, scale), MATMUL_UNIFORM_FLOATS);
  const bindGroup = dev.bindGroup(pipeline, [uniform, buffers.x, buffers.w, buffers.y]);
  const grid = matmulDispatch(variant, shape, dev.limits.maxComputeWorkgroupsPerDimension);
  const run = async (iterations: number) => {
    const t0 = performance.now();
    const encoder = dev.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let i = 0; i < iterations; i++) pass.dispatchWorkgroups(...grid);
    pass.end();
    dev.queue.submit([encoder.finish()]);
    await dev.idle();
    return performance.now() - t0;
  };
  return { run, free: () => dev.free(uniform) };
}
