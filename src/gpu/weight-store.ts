/**
 * The model's weights, resident on the GPU and generated there from the sprint seed (spec §4):
 * nothing is downloaded. Each tensor lives in one or more row chunks inside a few large "arena"
 * buffers; a tensor larger than maxStorageBufferBindingSize (or the arena) is split by rows and the
 * kernels are dispatched once per chunk.
 */
import { GLOBAL_LAYER, TensorId, scaleExponent, tensorShape } from '../sprint/weights.ts';
import type { SprintConfig } from '../sprint/config.ts';
import { at } from '../sprint/indexing.ts';
import type { GpuDevice } from './device.ts';
import { GpuError, formatBytes } from './errors.ts';
import { bytesPerParam, grid1d, type WeightFormat } from './shaders/common.wgsl.ts';
import { GENERATE_WORKGROUP, generateKernel } from './shaders/generate.wgsl.ts';

type TensorIdValue = (typeof TensorId)[keyof typeof TensorId];

export interface WeightChunk {
  readonly buffer: GPUBuffer;
  readonly byteOffset: number;
  readonly byteSize: number;
  readonly rowStart: number;
  readonly rows: number;
}

export interface ResidentTensor {
  readonly id: TensorIdValue;
  readonly layer: number;
  readonly rows: number;
  readonly cols: number;
  readonly scaleExponent: number;
  readonly format: WeightFormat;
  readonly chunks: readonly WeightChunk[];
}

export const LAYER_TENSORS = [TensorId.wq, TensorId.wk, TensorId.wv, TensorId.wo, TensorId.w1, TensorId.w2] as const;

export interface WeightStoreOptions {
  readonly format: WeightFormat;
  /** Cap on one binding (default: the device's maxStorageBufferBindingSize); tests use it to force splitting. */
  readonly maxBindingBytes?: number;
  readonly onProgress?: (fraction: number) => void;
}

interface PlannedTensor {
  id: TensorIdValue;
  layer: number;
  format: WeightFormat;
  rows: number;
  cols: number;
  chunks: { arena: number; byteOffset: number; byteSize: number; rowStart: number; rows: number }[];
}

const ARENA_CAP = 256 * 2 ** 20;
const tensorKey = (id: number, layer: number): string => `${id}:${layer >>> 0}`;

/** Every tensor of the model in generation order (the target is kept as u8 codes: it is read back). */
function tensorList(config: SprintConfig, format: WeightFormat): { id: TensorIdValue; layer: number; format: WeightFormat }[] {
  const list: { id: TensorIdValue; layer: number; format: WeightFormat }[] = [
    { id: TensorId.tokEmb, layer: GLOBAL_LAYER, format },
    { id: TensorId.posEmb, layer: GLOBAL_LAYER, format },
  ];
  for (let l = 0; l < config.layers; l++) for (const id of LAYER_TENSORS) list.push({ id, layer: l, format });
  list.push({ id: TensorId.lmHead, layer: GLOBAL_LAYER, format }, { id: TensorId.target, layer: GLOBAL_LAYER, format: 'u8' });
  return list;
}

/** Lays tensors out in arenas; pure, so the memory need is known before anything is allocated. */
export function planWeights(
  config: SprintConfig,
  format: WeightFormat,
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; minStorageBufferOffsetAlignment: number },
  maxBindingBytes?: number,
) {
  const arenaBytes = Math.min(limits.maxBufferSize, ARENA_CAP);
  const maxChunk = Math.min(limits.maxStorageBufferBindingSize, arenaBytes, maxBindingBytes ?? Infinity);
  const align = limits.minStorageBufferOffsetAlignment;
  // Bytes of each filled arena; the last one, still open, is `used` bytes full.
  const arenas: number[] = [];
  let used = 0;
  const tensors: PlannedTensor[] = [];
  for (const t of tensorList(config, format)) {
    const { rows, cols } = tensorShape(config, t.id);
    if (cols % 4 !== 0) throw new GpuError('BAD_ARGUMENT', `tensor ${t.id} has ${cols} columns; the engine needs a multiple of 4`);
    const rowBytes = cols * bytesPerParam(t.format);
    // Chunks start on a Philox block (16 elements): with cols % 4 == 0, 4 rows suffice.
    const rowsPerChunk = rows <= Math.floor(maxChunk / rowBytes) ? rows : Math.floor(maxChunk / rowBytes / 4) * 4;
    if (rowsPerChunk < 1 || (rowsPerChunk < 4 && rowsPerChunk < rows)) {
      throw new GpuError(
        'INSUFFICIENT_LIMITS',
        `a storage binding of ${formatBytes(maxChunk)} cannot hold 4 rows of tensor ${t.id} (${formatBytes(rowBytes)} each)`,
      );
    }
    const planned: PlannedTensor = { ...t, rows, cols, chunks: [] };
    for (let rowStart = 0; rowStart < rows; rowStart += rowsPerChunk) {
      const chunkRows = Math.min(rowsPerChunk, rows - rowStart);
      const byteSize = chunkRows * rowBytes;
      let offset = Math.ceil(used / align) * align;
      if (offset + byteSize > arenaBytes) {
        arenas.push(used);
        offset = 0;
      }
      used = offset + byteSize;
      planned.chunks.push({ arena: arenas.length, byteOffset: offset, byteSize, rowStart, rows: chunkRows });
    }
    tensors.push(planned);
  }
  arenas.push(used);
  const totalBytes = arenas.reduce((s, b) => s + Math.ceil(b / 16) * 16, 0);
  return { arenas, tensors, totalBytes };
}

export class WeightStore {
  private constructor(
    private readonly dev: GpuDevice,
    private readonly arenas: GPUBuffer[],
    private readonly tensors: Map<string, ResidentTensor>,
    readonly bytes: number,
    readonly format: WeightFormat,
  ) {}

  /** Allocates and fills every tensor from the Philox key (k0, k1) of the sprint seed. */
  static async generate(dev: GpuDevice, config: SprintConfig, key: readonly [number, number], options: WeightStoreOptions): Promise<WeightStore> {
    const plan = planWeights(config, options.format, dev.limits, options.maxBindingBytes);
    const arenas = await dev.checked(
      `allocating ${formatBytes(plan.totalBytes)} of weights`,
      () => plan.arenas.map((bytes, i) => dev.createBuffer(`weights-${i}`, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC)),
      plan.totalBytes,
    );
    const tensors = new Map<string, ResidentTensor>();
    for (const t of plan.tensors) {
      tensors.set(tensorKey(t.id, t.layer), {
        id: t.id,
        layer: t.layer,
        rows: t.rows,
        cols: t.cols,
        format: t.format,
        scaleExponent: scaleExponent(config, t.id),
        chunks: t.chunks.map((c) => ({
          buffer: at(arenas, c.arena, 'weight arena'),
          byteOffset: c.byteOffset,
          byteSize: c.byteSize,
          rowStart: c.rowStart,
          rows: c.rows,
        })),
      });
    }
    const store = new WeightStore(dev, arenas, tensors, plan.totalBytes, options.format);
    await store.fill(dev, key, [...tensors.values()], options.onProgress);
    return store;
  }

  private async fill(dev: GpuDevice, key: readonly [number, number], tensors: ResidentTensor[], onProgress?: (f: number) => void): Promise<void> {
    const pipelines = {
      u8: await dev.pipeline('generate:u8', () => generateKernel('u8')),
      f16: await dev.pipeline('generate:f16', () => generateKernel('f16')),
    };
    const totalParams = tensors.reduce((s, t) => s + t.rows * t.cols, 0);
    let doneParams = 0;
    let pendingParams = 0;
    let encoder = dev.device.createCommandEncoder({ label: 'generate-weights' });
    let pass = encoder.beginComputePass();
    let uniforms: GPUBuffer[] = [];
    const flush = async () => {
      pass.end();
      dev.queue.submit([encoder.finish()]);
      await dev.idle();
      uniforms.forEach((u) => dev.free(u));
      uniforms = [];
      doneParams += pendingParams;
      pendingParams = 0;
      onProgress?.(doneParams / totalParams);
      encoder = dev.device.createCommandEncoder({ label: 'generate-weights' });
      pass = encoder.beginComputePass();
    };
    // Submit in slices of ~16M parameters: progress stays live and no single submission runs for long.
    const SLICE = 16 * 2 ** 20;
    for (const t of tensors) {
      const pipeline = pipelines[t.format];
      const wordsPerBlock = t.format === 'u8' ? 4 : 8;
      for (const c of t.chunks) {
        const elements = c.rows * t.cols;
        const blocks = Math.ceil(elements / 16);
        const uniform = dev.uniform(
          'generate-params',
          [t.id, t.layer >>> 0, (c.rowStart * t.cols) / 16, (elements * wordsPerBlock) / 16, key[0], key[1], 2 ** -scaleExponentOf(t)],
          new Set([6]),
        );
        uniforms.push(uniform);
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, dev.bindGroup(pipeline, [uniform, { buffer: c.buffer, offset: c.byteOffset, size: c.byteSize }]));
        pass.dispatchWorkgroups(...grid1d(blocks, GENERATE_WORKGROUP, dev.limits.maxComputeWorkgroupsPerDimension));
        pendingParams += elements;
      }
      if (pendingParams >= SLICE) await flush();
    }
    await flush();
  }

  tensor(id: TensorIdValue, layer = GLOBAL_LAYER): ResidentTensor {
    const t = this.tensors.get(tensorKey(id, layer));
    if (!t) throw new GpuError('BAD_ARGUMENT', `no tensor ${id} in layer ${layer}`);
    return t;
  }

  /** The raw stored bytes of a tensor, chunks concatenated (u8 format: the codes q; f16: values). */
  async read(dev: GpuDevice, id: TensorIdValue, layer = GLOBAL_LAYER): Promise<Uint8Array> {
    const t = this.tensor(id, layer);
    const out = new Uint8Array(t.chunks.reduce((s, c) => s + c.byteSize, 0));
    let at = 0;
    for (const c of t.chunks) {
      out.set(new Uint8Array(await dev.read(c.buffer, c.byteOffset, c.byteSize)), at);
      at += c.byteSize;
    }
    return out;
  }

  destroy(): void {
    this.arenas.forEach((b) => this.dev.free(b));
  }
}

const scaleExponentOf = (t: ResidentTensor): number => (t.format === 'u8' ? 0 : t.scaleExponent);
