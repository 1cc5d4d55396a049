/** Helpers of SprintEngine that need none of its state. */
import type { SprintConfig } from '../sprint/config.ts';
import { TensorId } from '../sprint/weights.ts';
import type { GpuDevice } from './device.ts';
import { Activations } from './forward.ts';
import type { MatmulVariant } from './shaders/matmul.wgsl.ts';
import type { WeightStore } from './weight-store.ts';

const TARGET_PASS_SECONDS = 0.25;

/** Largest power of two within the memory limits that keeps one pass near TARGET_PASS_SECONDS. */
export function defaultBatch(config: SprintConfig, dev: GpuDevice, variant: MatmulVariant, gflops: number): number {
  const flopsPerNonce =
    2 * config.seqLen * (config.layers * (4 * config.dModel ** 2 + 2 * config.dModel * config.ffnHidden)) + 2 * config.vocab * config.dModel;
  const bindingCap = Math.floor(dev.limits.maxStorageBufferBindingSize / (4 * config.seqLen * config.ffnHidden));
  const memoryCap = Math.floor((256 * 2 ** 20) / Activations.bytes(config, 1, config.seqLen));
  const wanted = Math.floor((gflops * 1e9 * TARGET_PASS_SECONDS) / flopsPerNonce);
  const batch = 2 ** Math.floor(Math.log2(Math.max(1, Math.min(wanted, bindingCap, memoryCap, 1024))));
  // At least one full row tile of the matmul, or part of every tile computes clamped duplicates.
  const rowsPerTile = variant.tileM * (variant.useWorkgroupMemory ? Math.sqrt(variant.workgroupSize) : 1);
  return Math.min(Math.max(batch, Math.ceil(rowsPerTile / config.seqLen)), Math.max(1, Math.min(bindingCap, memoryCap)));
}

/** τ = c/‖c‖ from the target codes generated on the GPU (exact integers centred in float64, then f32). */
export async function uploadTarget(dev: GpuDevice, config: SprintConfig, weights: WeightStore): Promise<GPUBuffer> {
  const q = await weights.read(dev, TensorId.target);
  const codes = Array.from(q.subarray(0, config.vocab), (b) => 2 * b - 255);
  const sum = codes.reduce((s, t) => s + t, 0);
  const centred = codes.map((t) => config.vocab * t - sum);
  const norm = Math.sqrt(centred.reduce((s, c) => s + c * c, 0));
  const tau = dev.createBuffer('tau', 4 * config.vocab, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  dev.queue.writeBuffer(
    tau,
    0,
    Float32Array.from(centred, (c) => c / norm),
  );
  return tau;
}

/** Races GPU results against an AbortSignal: `race` gives null once the signal fires. */
export class AbortWaiter {
  private readonly aborted: Promise<null> | null;
  private onAbort = () => {};

  constructor(private readonly signal: AbortSignal | undefined) {
    this.aborted = signal
      ? new Promise<null>((resolve) => {
          this.onAbort = () => resolve(null);
          if (signal.aborted) resolve(null);
          else signal.addEventListener('abort', this.onAbort, { once: true });
        })
      : null;
  }

  race<T>(work: Promise<T>): Promise<T | null> {
    return this.aborted ? Promise.race([work, this.aborted]) : work;
  }

  dispose(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
