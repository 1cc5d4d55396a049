/**
 * Measuring τ and θ_H on a model: honest greedy decoding, unsplit, over a set of prompts, with the
 * same C_t and H_t the volunteer computes (metrics.ts). `calibrateThresholds` turns the samples into
 * thresholds. On a real model run this over a few hundred varied prompts (docs/split-inference.md).
 */
import type { KvCache } from '../llm/model-types.ts';
import { argmax } from '../llm/sampling.ts';
import type { SplitModel } from './engines.ts';
import { calibrateThresholds, entropy, finalNormed, structuralCost, type Calibration } from './metrics.ts';

/** Short everyday prompts for a quick calibration (the CLI demo and the tests); a real deployment uses hundreds. */
export const DEFAULT_CALIBRATION_PROMPTS = [
  'Hello! How are you today?',
  'The quick brown fox',
  'Numbers: 0 1 2 3',
  'Once upon a time there was',
  'What is the weather like',
  'Sprintnet lets anyone give',
  'The cat is sleeping',
  'We will eat at seven',
];

export interface MonitorSamples {
  readonly costs: number[];
  readonly entropies: number[];
}

/** C_t and H_t of every decode step of greedy generation from each prompt (`tokens` steps each). */
export async function sampleMonitor<K extends KvCache>(
  model: SplitModel<K>,
  normWeight: ArrayLike<number>,
  prompts: readonly (readonly number[])[],
  tokens: number,
): Promise<MonitorSamples> {
  const c = model.config;
  const D = c.hiddenSize;
  const costs: number[] = [];
  const entropies: number[] = [];
  for (const prompt of prompts) {
    const cache = model.createKvCache({ maxContext: prompt.length + tokens + 1 });
    try {
      let out = await model.forward({ tokens: prompt, kvCache: cache, logits: 'last', returnHidden: true });
      let prev = finalNormed(out.hidden!, (prompt.length - 1) * D, normWeight, c.rmsNormEps);
      for (let s = 0; s < tokens; s++) {
        const id = argmax(out.logits!);
        out = await model.forward({ tokens: [id], kvCache: cache, logits: 'last', returnHidden: true });
        const cur = finalNormed(out.hidden!, 0, normWeight, c.rmsNormEps);
        costs.push(structuralCost(prev, cur));
        entropies.push(entropy(out.logits!));
        prev = cur;
      }
    } finally {
      model.destroyKvCache?.(cache);
    }
  }
  return { costs, entropies };
}

export async function calibrate<K extends KvCache>(
  model: SplitModel<K>,
  normWeight: ArrayLike<number>,
  prompts: readonly (readonly number[])[],
  tokens: number,
  margin?: number,
): Promise<Calibration> {
  const s = await sampleMonitor(model, normWeight, prompts, tokens);
  return calibrateThresholds(s.costs, s.entropies, model.config.vocabSize, margin);
}
