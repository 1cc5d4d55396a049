/**
 * The compatibility report of the welcome screen: which GPU the browser offers, whether it is a
 * software one, and whether the network's model fits it. The probe asks for an adapter only (no
 * device), so it costs nothing on the GPU. Every input comes in as an argument so it runs in tests
 * with fake adapters.
 */
import { CONFIGS, type SprintConfig } from '../../sprint/config.ts';
import { adapterLabel, isSoftwareAdapter } from '../../cpu/backend.ts';
import { memoryFit, type BufferLimits, type MemoryFit } from './memory.ts';

export interface Environment {
  /** window.isSecureContext: WebGPU exists only on https:// and localhost. */
  readonly secureContext: boolean;
  /** Whether the CPU engine can run here (shared memory on a cross-origin isolated page). */
  readonly cpuFallback: boolean;
}

export interface AdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly label: string;
  readonly software: boolean;
  /** Which software renderer, for the warning; undefined when the browser only flags it as a fallback. */
  readonly softwareName?: string;
  readonly shaderF16: boolean;
}

export type CompatReport =
  | ({ readonly kind: 'no-webgpu' } & Environment)
  | ({ readonly kind: 'no-adapter'; readonly problem: string } & Environment)
  | ({ readonly kind: 'adapter'; readonly adapter: AdapterFacts; readonly limits: BufferLimits } & Environment);

const SOFTWARE_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/swiftshader/i, 'SwiftShader'],
  [/\bwarp\b|microsoft basic render/i, 'WARP'],
  [/lavapipe/i, 'lavapipe'],
  [/llvmpipe/i, 'llvmpipe'],
];

export function describeAdapter(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const label = adapterLabel(adapter);
  const software = isSoftwareAdapter(adapter);
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    label,
    software,
    softwareName: software ? SOFTWARE_NAMES.find(([re]) => re.test(label))?.[1] : undefined,
    shaderF16: adapter.features?.has('shader-f16') ?? false,
  };
}

export async function probeCompatibility(gpu: GPU | undefined, env: Environment): Promise<CompatReport> {
  if (!gpu || typeof gpu.requestAdapter !== 'function') return { kind: 'no-webgpu', ...env };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { kind: 'no-adapter', problem: `the browser failed to offer a GPU (${e instanceof Error ? e.message : String(e)})`, ...env };
  }
  if (!adapter) return { kind: 'no-adapter', problem: 'the browser offers WebGPU but no GPU to run it on', ...env };
  const { maxBufferSize, maxStorageBufferBindingSize, minStorageBufferOffsetAlignment } = adapter.limits;
  return {
    kind: 'adapter',
    adapter: describeAdapter(adapter),
    limits: { maxBufferSize, maxStorageBufferBindingSize, minStorageBufferOffsetAlignment },
    ...env,
  };
}

/**
 * Whether the model of `config` fits the adapter. The probe does not know the network's model: the
 * genesis can arrive after it, and the local demo runs `tiny` where a live network runs `canonical`.
 */
export function modelFit(report: Extract<CompatReport, { kind: 'adapter' }>, config: SprintConfig): MemoryFit {
  return memoryFit(config, report.limits);
}

/** The one-line verdict shown in the status of the report and on the Contribute screen, for the network's model. */
export function verdict(report: CompatReport, config: SprintConfig = CONFIGS.canonical): { level: 'good' | 'slow' | 'blocked'; text: string } {
  switch (report.kind) {
    case 'no-webgpu':
      return report.cpuFallback
        ? { level: 'slow', text: 'This browser has no WebGPU. Sprintnet can contribute on the processor instead, but very slowly.' }
        : { level: 'blocked', text: 'This browser has no WebGPU, so this computer cannot contribute from it.' };
    case 'no-adapter':
      return report.cpuFallback
        ? { level: 'slow', text: 'The browser offers no GPU. Sprintnet can contribute on the processor instead, but very slowly.' }
        : { level: 'blocked', text: 'The browser offers no GPU, so this computer cannot contribute from it.' };
    case 'adapter':
      if (report.adapter.software)
        return {
          level: 'slow',
          text: `Software GPU${report.adapter.softwareName ? ` (${report.adapter.softwareName})` : ''}: contributing will be very slow.`,
        };
      if (!modelFit(report, config).fits) return { level: 'blocked', text: 'This GPU cannot hold the network’s model.' };
      return { level: 'good', text: 'This GPU can contribute.' };
  }
}
