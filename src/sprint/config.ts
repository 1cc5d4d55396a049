/**
 * Model configurations of the Sprint task (docs/sprint-spec.md §2).
 * Configs differ only in their dimensions; everything else is fixed by the spec.
 */
import { SprintInputError } from './errors.ts';

export interface SprintConfig {
  readonly name: string;
  readonly layers: number;
  readonly dModel: number;
  readonly heads: number;
  readonly ffnHidden: number;
  /** Must be a power of two: token ids and the Feistel permutation use its bits. */
  readonly vocab: number;
  readonly seqLen: number;
}

export const CONFIGS = {
  canonical: { name: 'canonical', layers: 64, dModel: 512, heads: 128, ffnHidden: 8192, vocab: 8192, seqLen: 4 },
  tiny: { name: 'tiny', layers: 2, dModel: 64, heads: 4, ffnHidden: 256, vocab: 512, seqLen: 4 },
} as const satisfies Record<string, SprintConfig>;

export type ConfigName = keyof typeof CONFIGS;

export function getConfig(name: string): SprintConfig {
  if (!Object.hasOwn(CONFIGS, name)) {
    throw new SprintInputError('UNKNOWN_CONFIG', `unknown config '${name}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  }
  return CONFIGS[name as ConfigName];
}

export const headDim = (c: SprintConfig): number => c.dModel / c.heads;
export const vocabBits = (c: SprintConfig): number => Math.log2(c.vocab);

/** Parameters of all matmuls inside the layers (Wq, Wk, Wv, Wo, W1, W2). */
export const layerMatmulParams = (c: SprintConfig): number => c.layers * (4 * c.dModel * c.dModel + 2 * c.dModel * c.ffnHidden);

/** Every parameter: layer matmuls, LM head, token and position embeddings (the target is not a parameter). */
export const totalParams = (c: SprintConfig): number => layerMatmulParams(c) + 2 * c.vocab * c.dModel + c.seqLen * c.dModel;

/**
 * FLOPs per nonce as the spec counts them: 2 × layer-matmul parameters × tokens,
 * plus 2 × LM-head parameters for the one (last) position whose logits are used.
 * Embedding lookups, norms, attention scores and the output stage are not counted.
 */
export const flopsPerNonce = (c: SprintConfig): number => 2 * layerMatmulParams(c) * c.seqLen + 2 * c.vocab * c.dModel;
