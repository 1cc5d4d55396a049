/**
 * The Sprint model's layers and head on the CPU backend, on the calling thread, for tools that work
 * on float64 residual streams (the attack suite's AuditWorld, src/audit/world.ts `HonestPasses`).
 * The residual stream goes in and out as f32 like the engines' own; results agree with the float64
 * reference within the spec's tolerance (src/cpu/engine-sync.test.ts).
 */
import type { SprintConfig } from '../sprint/config.ts';
import { CpuSprintEngine } from './engine.ts';

export interface CpuHonestPasses {
  runLayers(inputs: readonly Float64Array[], from: number, to: number): Float64Array[];
  logits(finals: readonly Float64Array[]): Float64Array[];
  destroy(): void;
}

export function cpuHonestPasses(config: SprintConfig, sprintSeed: Uint8Array, batch = 512): CpuHonestPasses {
  const engine = CpuSprintEngine.createSync({ config, sprintSeed, batch });
  const d = config.dModel;
  const pack = (xs: readonly Float64Array[]) => {
    const seqLen = (xs[0]?.length ?? 0) / d;
    const data = new Float32Array(xs.length * seqLen * d);
    xs.forEach((x, i) => data.set(x, i * seqLen * d));
    return { data, sequences: xs.length, seqLen };
  };
  return {
    runLayers(inputs, from, to) {
      if (inputs.length === 0) return [];
      const hidden = pack(inputs);
      const out = engine.forwardSync({ hidden, fromLayer: from, toLayer: to }).hidden;
      const n = hidden.seqLen * d;
      return inputs.map((_, i) => Float64Array.from(out.subarray(i * n, (i + 1) * n)));
    },
    logits(finals) {
      if (finals.length === 0) return [];
      const z = engine.forwardSync({ hidden: pack(finals), fromLayer: config.layers, toLayer: config.layers, logits: true }).logits!;
      const V = config.vocab;
      return finals.map((_, i) => Float64Array.from(z.subarray(i * V, (i + 1) * V)));
    },
    destroy: () => engine.destroy(),
  };
}
