/**
 * How much GPU memory a Sprint model needs and whether it fits an adapter's buffer limits, derived
 * from the task config and the engine's own weight layout (planWeights) and activation sizes, so
 * the welcome screen's figures follow the engine when either changes.
 */
import type { SprintConfig } from '../../sprint/config.ts';
import { planWeights } from '../../gpu/weight-store.ts';
import { Activations } from '../../gpu/forward.ts';
import { isGpuError } from '../../gpu/errors.ts';

export interface BufferLimits {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly minStorageBufferOffsetAlignment: number;
}

export interface MemoryNeed {
  readonly config: string;
  /** Weights stored as 8-bit codes (spec §4), the engine's default. */
  readonly weightBytes: number;
  /** Weights as 16-bit floats: tuning picks this where it runs faster. */
  readonly weightBytesF16: number;
  /** Activations and target for one sequence at a time: the least the engine runs with. */
  readonly workingBytes: number;
  /** weightBytes + workingBytes. */
  readonly minimumBytes: number;
}

export interface MemoryFit extends MemoryNeed {
  readonly fits: boolean;
  /** Why not, in words, when it does not fit. */
  readonly problem?: string;
}

// Limits big enough that no tensor is split: the layout then measures the model alone.
const ROOMY: BufferLimits = { maxBufferSize: 2 ** 52, maxStorageBufferBindingSize: 2 ** 52, minStorageBufferOffsetAlignment: 256 };

export function memoryNeed(config: SprintConfig): MemoryNeed {
  const weightBytes = planWeights(config, 'u8', ROOMY).totalBytes;
  const weightBytesF16 = planWeights(config, 'f16', ROOMY).totalBytes;
  const workingBytes = Activations.bytes(config, 1, config.seqLen) + 4 * config.vocab;
  return { config: config.name, weightBytes, weightBytesF16, workingBytes, minimumBytes: weightBytes + workingBytes };
}

/** Whether the engine can lay the model out within these limits (the browser does not say how much memory the GPU has). */
export function memoryFit(config: SprintConfig, limits: BufferLimits): MemoryFit {
  const need = memoryNeed(config);
  // The widest activation binding is the FFN hidden state of one sequence.
  const widestActivation = 4 * config.seqLen * config.ffnHidden;
  if (widestActivation > limits.maxStorageBufferBindingSize) {
    return {
      ...need,
      fits: false,
      problem: `one working buffer needs ${widestActivation} bytes, more than this GPU allows in one binding (${limits.maxStorageBufferBindingSize} bytes)`,
    };
  }
  try {
    planWeights(config, 'u8', limits);
  } catch (e) {
    if (isGpuError(e, 'INSUFFICIENT_LIMITS')) return { ...need, fits: false, problem: (e as Error).message };
    throw e;
  }
  return { ...need, fits: true };
}
