/**
 * One WebGPU device wrapper for the whole engine (after Apache TVM web/src/webgpu.ts and
 * onnxruntime-web's jsep WebGpuBackend): asks the adapter for the limits the model needs, turns
 * allocation / compilation failures into typed errors through error scopes, pools buffers, caches
 * pipelines by shader parameters, and reads back through a few reusable staging buffers.
 */
import { GpuError, formatBytes } from './errors.ts';

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A CPU implementation (SwiftShader, WARP, lavapipe): small batches, no workgroup tiling. */
  readonly isFallback: boolean;
}

/** One line for logs and benchmark reports, e.g. "google / swiftshader / SwiftShader Device". */
export function adapterLabel(a: AdapterDescription): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

export interface DeviceOptions {
  readonly powerPreference?: GPUPowerPreference;
  /** Refuse allocations above this many bytes (the adapter cannot report its memory; tests use it too). */
  readonly memoryBudgetBytes?: number;
  readonly onUncapturedError?: (error: GPUError) => void;
  readonly onLost?: (info: GPUDeviceLostInfo) => void;
}

/** Limits the engine requests at the adapter's maximum: big weight buffers, big workgroups. */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** What every kernel needs at least (WebGPU's defaults already satisfy this). */
const MINIMUM_LIMITS: Partial<Record<(typeof REQUESTED_LIMITS)[number], number>> = {
  maxStorageBuffersPerShaderStage: 4,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
};

/** How long a failed readback waits for device.lost before calling the failure a validation error. */
const LOSS_SETTLE_MS = 1000;

export class GpuDevice {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly freeBuffers = new Map<string, GPUBuffer[]>();
  private lostInfo: GPUDeviceLostInfo | null = null;
  /** Rejects with DEVICE_LOST when the device is lost: raced against every wait on the GPU. */
  private readonly lostSignal: Promise<never>;
  private readonly uncaptured: GPUError[] = [];
  allocatedBytes = 0;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    private readonly options: DeviceOptions,
  ) {
    this.lostSignal = device.lost.then((info) => {
      this.lostInfo = info;
      options.onLost?.(info);
      throw new GpuError('DEVICE_LOST', `GPU device lost (${info.reason}): ${info.message}`);
    });
    this.lostSignal.catch(() => undefined); // observed through untilLost()
    device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      this.uncaptured.push(event.error);
      options.onUncapturedError?.(event.error);
    };
  }

  static async create(gpu: GPU | null | undefined, options: DeviceOptions = {}): Promise<GpuDevice> {
    if (!gpu || typeof gpu.requestAdapter !== 'function') {
      throw new GpuError('NO_WEBGPU', 'WebGPU is not available (no GPU object)');
    }
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!adapter) throw new GpuError('NO_ADAPTER', 'no WebGPU adapter: the browser or driver offers no GPU (blocklisted or disabled)');
    const requiredLimits: Record<string, number> = {};
    for (const name of REQUESTED_LIMITS) {
      const have = adapter.limits[name];
      const need = MINIMUM_LIMITS[name] ?? 0;
      if (have < need) throw new GpuError('INSUFFICIENT_LIMITS', `adapter limit ${name} = ${have}, the engine needs ${need}`);
      requiredLimits[name] = have;
    }
    let device: GPUDevice;
    try {
      // shader-f16 is asked for wherever offered: the Sprint's f16 screen needs it (src/gpu/screen.ts).
      const requiredFeatures: GPUFeatureName[] = adapter.features?.has('shader-f16') ? ['shader-f16'] : [];
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'sprintnet' });
    } catch (cause) {
      throw new GpuError('NO_ADAPTER', `requestDevice failed: ${String(cause)}`, { cause });
    }
    return new GpuDevice(device, describeAdapter(adapter), options);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get queue(): GPUQueue {
    return this.device.queue;
  }

  /** f16 in shaders (WebGPU feature 'shader-f16'): SwiftShader lacks it, most discrete GPUs have it. */
  get hasShaderF16(): boolean {
    return this.device.features?.has('shader-f16') ?? false;
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  get lost(): GPUDeviceLostInfo | null {
    return this.lostInfo;
  }

  /** Uncaptured errors so far (validation errors outside our scopes mean a bug). */
  get uncapturedErrors(): readonly GPUError[] {
    return this.uncaptured;
  }

  throwIfLost(): void {
    if (this.lostInfo) throw new GpuError('DEVICE_LOST', `GPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
  }

  /**
   * Runs `create` inside out-of-memory and validation error scopes and turns what they catch into
   * GpuError. `bytes` is what the caller is allocating, for the message.
   */
  async checked<T>(what: string, create: () => T, bytes = 0): Promise<T> {
    this.throwIfLost();
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T;
    let thrown: unknown;
    try {
      result = create();
    } catch (e) {
      thrown = e;
    }
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (thrown instanceof GpuError) throw thrown;
    if (oom) {
      throw new GpuError('INSUFFICIENT_MEMORY', `out of GPU memory while ${what}: needed ${formatBytes(bytes || this.allocatedBytes)} (${oom.message})`, {
        requiredBytes: bytes || this.allocatedBytes,
      });
    }
    if (validation || thrown) {
      throw new GpuError('VALIDATION', `WebGPU rejected ${what}: ${validation?.message ?? String(thrown)}`, { cause: thrown });
    }
    this.throwIfLost();
    return result!;
  }

  /** Allocates (not pooled). Check failures with `checked` around a batch of these. */
  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const aligned = Math.max(16, Math.ceil(size / 16) * 16);
    if (aligned > this.limits.maxBufferSize) {
      throw new GpuError(
        'INSUFFICIENT_LIMITS',
        `buffer '${label}' of ${formatBytes(aligned)} exceeds maxBufferSize ${formatBytes(this.limits.maxBufferSize)}`,
        { requiredBytes: aligned },
      );
    }
    const budget = this.options.memoryBudgetBytes;
    if (budget !== undefined && this.allocatedBytes + aligned > budget) {
      throw new GpuError(
        'INSUFFICIENT_MEMORY',
        `the model needs more than the GPU memory budget: ${formatBytes(this.allocatedBytes + aligned)} requested, budget ${formatBytes(budget)}`,
        { requiredBytes: this.allocatedBytes + aligned },
      );
    }
    this.allocatedBytes += aligned;
    return this.device.createBuffer({ label, size: aligned, usage });
  }

  /** Destroys a buffer made by createBuffer/uniform and returns its bytes to the budget. */
  free(buffer: GPUBuffer): void {
    this.allocatedBytes -= buffer.size;
    buffer.destroy();
  }

  /** A pooled buffer of at least `size` bytes; give it back with `release`. */
  acquire(size: number, usage: GPUBufferUsageFlags, label = 'pooled'): GPUBuffer {
    const bucket = poolBucket(size);
    const free = this.freeBuffers.get(`${usage}:${bucket}`);
    return free?.pop() ?? this.createBuffer(label, bucket, usage);
  }

  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    const free = this.freeBuffers.get(key) ?? [];
    free.push(buffer);
    this.freeBuffers.set(key, free);
  }

  /** Compute pipeline cached by `key` (the template's parameters); `code` is only called on a miss. */
  async pipeline(key: string, code: () => string): Promise<GPUComputePipeline> {
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const source = code();
    const module = await this.checked(`compiling ${key}`, () => this.device.createShaderModule({ label: key, code: source }));
    this.throwIfLost();
    this.device.pushErrorScope('validation');
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
    } catch (cause) {
      await this.device.popErrorScope();
      this.throwIfLost();
      const info = await module.getCompilationInfo?.();
      const messages = info?.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n') ?? '';
      throw new GpuError('VALIDATION', `pipeline ${key} failed: ${String(cause)}\n${messages}`, { cause });
    }
    const error = await this.device.popErrorScope();
    if (error) throw new GpuError('VALIDATION', `pipeline ${key} failed: ${error.message}`);
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  bindGroup(pipeline: GPUComputePipeline, buffers: readonly (GPUBuffer | GPUBufferBinding)[], label?: string): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
    });
  }

  uniform(label: string, words: ArrayLike<number>, floats: ReadonlySet<number> = new Set()): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil(words.length / 4) * 16));
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!; // i < words.length
      if (floats.has(i)) f32[i] = word;
      else u32[i] = word;
    }
    const buffer = this.createBuffer(label, data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  /** Copies `size` bytes of `source` back to the CPU through a pooled staging buffer. */
  async read(source: GPUBuffer, offset = 0, size = source.size - offset): Promise<ArrayBuffer> {
    this.throwIfLost();
    const staging = this.acquire(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'staging');
    try {
      const encoder = this.device.createCommandEncoder({ label: 'readback' });
      encoder.copyBufferToBuffer(source, offset, staging, 0, size);
      this.queue.submit([encoder.finish()]);
      await this.mapRead(staging);
      const copy = staging.getMappedRange(0, size).slice(0);
      staging.unmap();
      return copy;
    } finally {
      this.release(staging);
    }
  }

  /** `work`, or DEVICE_LOST as soon as the device is lost (a lost device may never settle it). */
  untilLost<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    return Promise.race([work, this.lostSignal]);
  }

  /** Whether the device is lost now or within `ms`. */
  private lostWithin(ms: number): Promise<boolean> {
    if (this.lostInfo) return Promise.resolve(true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms));
    return Promise.race([
      this.lostSignal.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  }

  /** Waits for the queue, or fails with DEVICE_LOST. */
  async idle(): Promise<void> {
    await this.untilLost(this.queue.onSubmittedWorkDone());
  }

  /** mapAsync that reports device loss as DEVICE_LOST rather than an AbortError. */
  async mapRead(buffer: GPUBuffer): Promise<void> {
    try {
      await this.untilLost(buffer.mapAsync(GPUMapMode.READ));
    } catch (cause) {
      if (cause instanceof GpuError) throw cause;
      // Chromium rejects a pending mapAsync before it resolves device.lost: give the loss a moment.
      if (this.lostInfo || isLossMessage(cause) || (await this.lostWithin(LOSS_SETTLE_MS))) {
        throw new GpuError('DEVICE_LOST', `GPU device lost while reading results: ${String(cause)}`, { cause });
      }
      throw new GpuError('VALIDATION', `mapAsync failed: ${String(cause)}`, { cause });
    }
    this.throwIfLost();
  }

  destroy(): void {
    this.pipelines.clear();
    this.freeBuffers.clear();
    this.device.destroy();
  }
}

const isLossMessage = (e: unknown): boolean => /lost|destroy/i.test(String(e));

function poolBucket(size: number): number {
  // Powers of two up to 1 MiB, then whole MiB: few distinct sizes, little waste.
  if (size <= 1 << 20) return Math.max(256, 2 ** Math.ceil(Math.log2(size)));
  return Math.ceil(size / (1 << 20)) * (1 << 20);
}

function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const flagged = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const cpuLike = /swiftshader|llvmpipe|lavapipe|warp|cpu/i.test(`${vendor} ${architecture} ${info.device ?? ''} ${info.description ?? ''}`);
  return { vendor, architecture, device: info.device ?? '', description: info.description ?? '', isFallback: flagged || cpuLike };
}
