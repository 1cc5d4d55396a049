/** The Sprint's target direction (spec §4, "Target vector"), exact in integers. */
import type { SprintConfig } from './config.ts';
import { generateTensorCodes, GLOBAL_LAYER, TensorId } from './weights.ts';

export interface TargetVector {
  /** t_i = 2q - 255. */
  codes: Int32Array;
  /** c_i = V·t_i − Σ t_j: exact integers, centred. */
  centred: Float64Array;
  /** τ = c / ‖c‖. */
  unit: Float64Array;
}

export function targetVector(c: SprintConfig, key: readonly [number, number]): TargetVector {
  const q = generateTensorCodes(key, TensorId.target, GLOBAL_LAYER, c.vocab);
  const codes = Int32Array.from(q, (b) => 2 * b - 255);
  const sum = codes.reduce((s, t) => s + t, 0);
  const centred = Float64Array.from(codes, (t) => c.vocab * t - sum);
  const norm = Math.sqrt(centred.reduce((s, v) => s + v * v, 0));
  return { codes, centred, unit: centred.map((v) => v / norm) };
}
