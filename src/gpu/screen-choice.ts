/**
 * Whether the engine runs its Sprints through the f16 screen (./screen.ts). 'auto' turns it on
 * only where it pays: the adapter has shader-f16 and, timed on the tuning shape, an f16 pass plus
 * the expected f32 confirmations finds clearly more appropriate nonces per second than an f32 pass
 * (counting the hits the screen loses to fingerprint flips). Everywhere else the plain
 * f32 pass runs, and `engine.screen.reason` says why.
 */
import type { SprintConfig } from '../sprint/config.ts';
import { autotune, f16CandidateVariants, fitsLimits, type TuneResult } from './autotune.ts';
import type { GpuDevice } from './device.ts';
import type { EngineOptions, ScreenMode } from './engine-types.ts';
import { GpuError } from './errors.ts';
import { DEFAULT_SCREEN_MARGINS, type ScreenMargins } from './screen.ts';
import { variantName, type MatmulVariant } from './shaders/matmul.wgsl.ts';

/**
 * With DEFAULT_SCREEN_MARGINS on canonical (32,768 nonces, f16 emulated on an H100; native f16 on
 * the same H100 gave 0.12% and 95.7% over 8,192): the share of nonces sent to f32, and the share
 * of hits kept (the f16 fingerprint agrees with f32's).
 */
export const EXPECTED_CONFIRM_SHARE = 0.0013;
export const EXPECTED_RECALL = 0.958;
/** The screen must be projected to beat the f32 pass by this much, or timing noise could pick it. */
export const MIN_SCREEN_GAIN = 1.1;

/**
 * One ~30 ms timing window is at the mercy of queue latency: on an H100 the same f16 kernel timed
 * 0.088 to 0.209 ms in successive builds, so the choice flipped between on and off. The best of
 * several interleaved rounds of both kernels is compared instead.
 */
const COMPARE_ROUNDS = 3;

export interface ScreenChoice {
  readonly mode: ScreenMode;
  readonly reason: string;
  /** The screen's matmul variant (null when off). */
  readonly variant: MatmulVariant | null;
  /** recall · t_f32 / (t_f16 + share·t_f32), times measured on the tuning shape (null when not measured). */
  readonly projectedSpeedup: number | null;
  readonly margins: ScreenMargins;
}

/** Projected appropriate nonces per second of the screened Sprint relative to the plain f32 one. */
export const projectedSpeedup = (f32Ms: number, f16Ms: number, confirmShare = EXPECTED_CONFIRM_SHARE, recall = EXPECTED_RECALL): number =>
  (recall * f32Ms) / (f16Ms + confirmShare * f32Ms);

/** The emulated form for tests and accuracy measurements: any adapter, slower than f32. */
function emulated(variant: MatmulVariant, dev: GpuDevice, K: number): MatmulVariant {
  const base = { tileM: 4, tileN: 4, useWorkgroupMemory: true, weightFormat: variant.weightFormat, arithmetic: 'f16-emulated' } as const;
  const wide = { ...base, workgroupSize: 256 };
  return fitsLimits(wide, K, dev.limits) ? wide : { ...base, workgroupSize: 64 };
}

export async function chooseScreen(
  dev: GpuDevice,
  config: SprintConfig,
  variant: MatmulVariant,
  tuning: TuneResult | null,
  options: EngineOptions,
): Promise<ScreenChoice> {
  const requested = options.screen ?? 'auto';
  const margins = options.screenMargins ?? DEFAULT_SCREEN_MARGINS;
  const off = (reason: string): ScreenChoice => ({ mode: 'off', reason, variant: null, projectedSpeedup: null, margins });
  if (requested === 'off') return off('turned off by the engine option');
  if (requested === 'f16-emulated') {
    return {
      mode: 'f16-emulated',
      reason: 'f16 emulated in f32 registers (tests and accuracy measurements; slower than f32)',
      variant: emulated(variant, dev, config.ffnHidden),
      projectedSpeedup: null,
      margins,
    };
  }
  if (!dev.hasShaderF16) {
    if (requested === 'f16') throw new GpuError('BAD_ARGUMENT', 'the f16 screen needs the shader-f16 feature, which this adapter does not offer');
    return off('the adapter does not offer shader-f16');
  }
  const candidates = f16CandidateVariants().map((v) => ({ ...v, weightFormat: variant.weightFormat }));
  const f16 = await autotune(dev, config, { candidates });
  const msOf = (t: TuneResult | null, v: MatmulVariant) => t?.measured.find((m) => m.name === variantName(v))?.ms ?? Infinity;
  // A cached tuning was timed by another process, maybe on a quieter GPU: only a fresh one counts.
  let f32Ms = tuning && !tuning.fromCache ? msOf(tuning, variant) : Infinity;
  let f16Ms = msOf(f16, f16.variant);
  for (let round = 0; round < COMPARE_ROUNDS; round++) {
    const both = await autotune(dev, config, { candidates: [variant, f16.variant] });
    f32Ms = Math.min(f32Ms, msOf(both, variant));
    f16Ms = Math.min(f16Ms, msOf(both, f16.variant));
  }
  const gain = projectedSpeedup(f32Ms, f16Ms);
  const figures = `f32 ${f32Ms.toFixed(3)} ms, f16 ${f16Ms.toFixed(3)} ms on the tuning shape: projected ${gain.toFixed(2)}×`;
  if (requested === 'f16' || gain >= MIN_SCREEN_GAIN)
    return { mode: 'f16', reason: `f16 screen on: ${figures}`, variant: f16.variant, projectedSpeedup: gain, margins };
  return { ...off(`f16 does not pay here: ${figures} (needs ${MIN_SCREEN_GAIN}×)`), projectedSpeedup: gain };
}

/** Nonces per confirmation pass: an eighth of the batch (several passes when more are needed), at least one row tile. */
export function confirmCapacity(batch: number, variant: MatmulVariant, config: SprintConfig): number {
  const rowsPerTile = variant.tileM * (variant.useWorkgroupMemory ? Math.sqrt(variant.workgroupSize) : 1);
  const wanted = 2 ** Math.ceil(Math.log2(Math.max(1, batch / 8)));
  return Math.min(batch, Math.max(wanted, Math.ceil(rowsPerTile / config.seqLen)));
}
