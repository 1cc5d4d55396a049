/**
 * The privacy meter: how much of the prompt a volunteer who knows the weights recovers from h_k.
 * Two attacks on the rows the user sends:
 *  - **nearest embedding**: token t is the vocabulary row of the input embedding with the largest
 *    cosine to h_k(t). Free, and strong at small k, because the residual stream still carries the
 *    embedding it started from.
 *  - **greedy search**: with layers [0, k) in hand, position by position, try candidate tokens after
 *    the prefix recovered so far and keep the one whose h_k(t) is closest (L2). Exact when h_k is
 *    exact, whatever k. `candidates` limits the search to the best tokens of the embedding attack
 *    (the whole vocabulary costs V forwards per position; a real model wants 64–256).
 * And the mitigation, Gaussian noise of σ = α·RMS(row) added to each row before it leaves, measured
 * on recovery and on output quality: mean KL(p_unsplit ‖ p_noisy) and greedy agreement over the
 * positions of a teacher-forced continuation.
 */
import type { KvCache } from '../llm/model-types.ts';
import { argmax, SeededRandom } from '../llm/sampling.ts';
import type { SplitModel } from './engines.ts';
import { SplitError } from './errors.ts';
import { klDivergence } from './metrics.ts';

/** Adds N(0, (α·RMS(row))²) to each row of `rows` ([T, D]); a fresh array. */
export function addNoise(rows: ArrayLike<number>, D: number, alpha: number, rng: SeededRandom): Float64Array {
  const out = Float64Array.from(rows);
  if (alpha === 0) return out;
  for (let t = 0; t < out.length / D; t++) {
    let ss = 0;
    for (let i = 0; i < D; i++) ss += out[t * D + i]! ** 2;
    const sigma = alpha * Math.sqrt(ss / D);
    for (let i = 0; i < D; i++) out[t * D + i]! += sigma * rng.normal();
  }
  return out;
}

/** h_k of every position of `tokens` ([T, D]). */
export async function hiddenAt<K extends KvCache>(model: SplitModel<K>, k: number, tokens: readonly number[]): Promise<Float64Array> {
  const cache = model.createKvCache({ toLayer: k, maxContext: tokens.length });
  try {
    const out = await model.forward({ tokens, toLayer: k, kvCache: cache, logits: 'none' });
    return Float64Array.from(out.hidden!);
  } finally {
    model.destroyKvCache?.(cache);
  }
}

/** Token ids ranked by cosine between h_k(t) and each embedding row, best first. */
export function rankByEmbedding(embedding: Float64Array, vocab: number, row: ArrayLike<number>, offset: number, D: number): number[] {
  let rr = 0;
  for (let i = 0; i < D; i++) rr += row[offset + i]! ** 2;
  const score = new Float64Array(vocab);
  for (let v = 0; v < vocab; v++) {
    let dot = 0;
    let ee = 0;
    for (let i = 0; i < D; i++) {
      const e = embedding[v * D + i]!;
      dot += e * row[offset + i]!;
      ee += e * e;
    }
    score[v] = dot / Math.sqrt(ee * rr + 1e-300);
  }
  return Array.from({ length: vocab }, (_, v) => v).sort((a, b) => score[b]! - score[a]! || a - b);
}

export function invertByEmbedding(embedding: Float64Array, vocab: number, observed: ArrayLike<number>, D: number): number[] {
  return Array.from({ length: observed.length / D }, (_, t) => rankByEmbedding(embedding, vocab, observed, t * D, D)[0]!);
}

export async function invertByGreedySearch<K extends KvCache>(
  model: SplitModel<K>,
  k: number,
  observed: ArrayLike<number>,
  o: { readonly embedding?: Float64Array; readonly candidates?: number } = {},
): Promise<number[]> {
  const c = model.config;
  const D = c.hiddenSize;
  const T = observed.length / D;
  const cache = model.createKvCache({ toLayer: k, maxContext: T });
  const found: number[] = [];
  try {
    for (let t = 0; t < T; t++) {
      const pool =
        o.candidates && o.embedding
          ? rankByEmbedding(o.embedding, c.vocabSize, observed, t * D, D).slice(0, o.candidates)
          : Array.from({ length: c.vocabSize }, (_, v) => v);
      let best = pool[0]!;
      let bestDistance = Infinity;
      for (const v of pool) {
        cache.length = t;
        const h = (await model.forward({ tokens: [v], toLayer: k, kvCache: cache, logits: 'none' })).hidden!;
        let d = 0;
        for (let i = 0; i < D; i++) d += (h[i]! - observed[t * D + i]!) ** 2;
        if (d < bestDistance) {
          bestDistance = d;
          best = v;
        }
      }
      cache.length = t;
      await model.forward({ tokens: [best], toLayer: k, kvCache: cache, logits: 'none' });
      found.push(best);
    }
  } finally {
    model.destroyKvCache?.(cache);
  }
  return found;
}

export interface QualityCost {
  /** Mean over positions of KL(p_unsplit ‖ p_noisy), nats. */
  readonly meanKl: number;
  /** Positions whose greedy token is unchanged by the noise. */
  readonly greedyAgreement: number;
}

/** Output quality under noise on h_k: the tokens' logits unsplit vs. through noisy rows (teacher-forced). */
export async function noiseQuality<K extends KvCache>(
  model: SplitModel<K>,
  k: number,
  tokens: readonly number[],
  alpha: number,
  seed: number,
): Promise<QualityCost> {
  const c = model.config;
  const V = c.vocabSize;
  const clean = await logitsAll(model, { tokens }, 0);
  const rows = addNoise(await hiddenAt(model, k, tokens), c.hiddenSize, alpha, new SeededRandom(seed));
  const noisy = await logitsAll(model, { hidden: rows }, k);
  let kl = 0;
  let agree = 0;
  const T = tokens.length;
  for (let t = 0; t < T; t++) {
    const a = clean.subarray(t * V, (t + 1) * V);
    const b = noisy.subarray(t * V, (t + 1) * V);
    kl += klDivergence(a, b);
    if (argmax(a) === argmax(b)) agree++;
  }
  return { meanKl: kl / T, greedyAgreement: agree / T };
}

async function logitsAll<K extends KvCache>(
  model: SplitModel<K>,
  input: { tokens?: readonly number[]; hidden?: Float64Array },
  fromLayer: number,
): Promise<Float32Array | Float64Array> {
  const T = input.tokens?.length ?? input.hidden!.length / model.config.hiddenSize;
  const cache = model.createKvCache({ fromLayer, maxContext: T });
  try {
    return (await model.forward({ ...input, fromLayer, kvCache: cache, logits: 'all' })).logits!;
  } finally {
    model.destroyKvCache?.(cache);
  }
}

export interface PrivacyRow {
  readonly k: number;
  readonly noise: number;
  readonly positions: number;
  /** Fraction of prompt tokens each attack recovered. */
  readonly embeddingRecovery: number;
  readonly searchRecovery: number;
  readonly meanKl: number;
  readonly greedyAgreement: number;
}

/** The meter: for each k and noise level, both attacks over every prompt, and the quality cost. */
export async function privacyMeter<K extends KvCache>(
  model: SplitModel<K>,
  embedding: Float64Array,
  prompts: readonly (readonly number[])[],
  o: {
    readonly ks: readonly number[];
    readonly noise: readonly number[];
    readonly candidates?: number;
    readonly seed?: number;
    readonly onRow?: (r: PrivacyRow) => void;
  },
): Promise<PrivacyRow[]> {
  const c = model.config;
  const D = c.hiddenSize;
  const rows: PrivacyRow[] = [];
  for (const k of o.ks) {
    if (!Number.isInteger(k) || k < 1 || k >= c.numLayers) throw new SplitError('BAD_ARGUMENT', `k ${k} is not in [1, ${c.numLayers})`);
    for (const alpha of o.noise) {
      let total = 0;
      let byEmbedding = 0;
      let bySearch = 0;
      let kl = 0;
      let agree = 0;
      for (const [i, prompt] of prompts.entries()) {
        const rng = new SeededRandom((o.seed ?? 1) * 1000 + i);
        const observed = addNoise(await hiddenAt(model, k, prompt), D, alpha, rng);
        const e = invertByEmbedding(embedding, c.vocabSize, observed, D);
        const s = await invertByGreedySearch(model, k, observed, { embedding, candidates: o.candidates });
        total += prompt.length;
        byEmbedding += e.filter((v, t) => v === prompt[t]).length;
        bySearch += s.filter((v, t) => v === prompt[t]).length;
        const q = await noiseQuality(model, k, prompt, alpha, (o.seed ?? 1) * 7919 + i);
        kl += q.meanKl;
        agree += q.greedyAgreement;
      }
      const row = {
        k,
        noise: alpha,
        positions: total,
        embeddingRecovery: byEmbedding / total,
        searchRecovery: bySearch / total,
        meanKl: kl / prompts.length,
        greedyAgreement: agree / prompts.length,
      };
      rows.push(row);
      o.onRow?.(row);
    }
  }
  return rows;
}

/** k = 1, 2, L/4, L/2, without repeats or values outside [1, L). */
export const defaultPrivacyKs = (L: number): number[] =>
  [...new Set([1, 2, Math.floor(L / 4), Math.floor(L / 2)])].filter((k) => k >= 1 && k < L).sort((a, b) => a - b);
