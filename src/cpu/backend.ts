/**
 * Which backend runs the Sprint engine: WebGPU (src/gpu) or the CPU (src/cpu). `auto` picks the CPU
 * when WebGPU is missing, when the only adapter is a software one (SwiftShader, WARP, lavapipe,
 * llvmpipe: a CPU behind a GPU API, 20× slower than wasm SIMD on the same cores), or when a quick
 * measurement in this process finds the CPU faster than the adapter. Every choice carries a reason
 * that the app and the host print. No Node imports here (the browser engine Worker uses it).
 */

export type BackendChoice = 'webgpu' | 'cpu' | 'auto';
export type BackendName = 'webgpu' | 'cpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'cpu'];

export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new RangeError(`backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${value}'`);
}

/** What the probe learnt about WebGPU here. */
export interface AdapterProbe {
  readonly available: boolean;
  /** adapter vendor / architecture / device / description, when there is one. */
  readonly label?: string;
  readonly software?: boolean;
  /** Why there is no usable adapter (no navigator.gpu, no adapter, requestAdapter threw). */
  readonly problem?: string;
}

export interface BackendDecision {
  readonly backend: BackendName;
  /** One sentence for people: why this backend runs. */
  readonly reason: string;
  readonly choice: BackendChoice;
  readonly adapter?: AdapterProbe;
  /** The measurements behind a `measured` decision (GFLOP/s on the FFN matmul). */
  readonly measured?: { readonly cpuGflops: number; readonly gpuGflops: number };
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|warp|microsoft basic render|software|\bcpu\b/i;

/** Asks for an adapter (no device) and says whether it is a software one. */
export async function probeAdapter(gpu: GPU | null | undefined): Promise<AdapterProbe> {
  if (!gpu || typeof gpu.requestAdapter !== 'function') return { available: false, problem: 'WebGPU is not available here' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { available: false, problem: `requestAdapter failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!adapter) return { available: false, problem: 'the browser or driver offers no WebGPU adapter' };
  return { available: true, label: adapterLabel(adapter), software: isSoftwareAdapter(adapter) };
}

/** vendor / architecture / device / description, as far as the browser tells them. */
export function adapterLabel(adapter: GPUAdapter): string {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/** A CPU behind a GPU API: flagged as a fallback adapter, or named like SwiftShader, WARP, lavapipe or llvmpipe. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const flagged = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return flagged || SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

export interface DecideOptions {
  readonly gpu: GPU | null | undefined;
  /** Whether this context can run the CPU backend (SharedArrayBuffer; cross-origin isolation in browsers). */
  readonly cpuAvailable: boolean;
  /**
   * For a hardware adapter under `auto`: measure both (FFN-shaped matmul, GFLOP/s). Left out, a
   * hardware adapter wins without a measurement.
   */
  readonly measure?: (adapter: AdapterProbe) => Promise<{ cpuGflops: number; gpuGflops: number }>;
}

export async function decideBackend(choice: BackendChoice, options: DecideOptions): Promise<BackendDecision> {
  if (choice === 'cpu') return { backend: 'cpu', choice, reason: 'the CPU backend was chosen in the settings' };
  const adapter = await probeAdapter(options.gpu);
  if (choice === 'webgpu') {
    return { backend: 'webgpu', choice, adapter, reason: `WebGPU was chosen in the settings${adapter.label ? ` (${adapter.label})` : ''}` };
  }
  if (!adapter.available) {
    return options.cpuAvailable
      ? { backend: 'cpu', choice, adapter, reason: `${adapter.problem}: running on the CPU` }
      : { backend: 'webgpu', choice, adapter, reason: `${adapter.problem}, and the CPU backend needs a cross-origin isolated page` };
  }
  if (!options.cpuAvailable) {
    return { backend: 'webgpu', choice, adapter, reason: `the CPU backend needs a cross-origin isolated page; using WebGPU (${adapter.label})` };
  }
  if (adapter.software) {
    return {
      backend: 'cpu',
      choice,
      adapter,
      reason: `the WebGPU adapter is a software renderer (${adapter.label}): the CPU backend is faster on the same cores`,
    };
  }
  if (options.measure) {
    const measured = await options.measure(adapter);
    const cpu = measured.cpuGflops > measured.gpuGflops;
    const numbers = `CPU ${measured.cpuGflops.toFixed(1)} vs WebGPU ${measured.gpuGflops.toFixed(1)} GFLOP/s on the FFN matmul`;
    return cpu
      ? { backend: 'cpu', choice, adapter, measured, reason: `measured here, the CPU is faster than ${adapter.label}: ${numbers}` }
      : { backend: 'webgpu', choice, adapter, measured, reason: `measured here, ${adapter.label} is faster: ${numbers}` };
  }
  return { backend: 'webgpu', choice, adapter, reason: `hardware WebGPU adapter (${adapter.label})` };
}
