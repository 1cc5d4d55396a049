/**
 * The privacy meter's measured figures (docs/split-inference.md §10: `bin/sprintnet privacy` on the
 * 8-layer test model, 8 prompts, 98 tokens, whole vocabulary searched). Shown next to the noise
 * setting; they are measurements of that model, not guarantees for another.
 */
export interface PrivacyFigure {
  readonly k: number;
  readonly noise: number;
  /** Token recovery (%) of the greedy-search inversion and of the nearest-embedding attack. */
  readonly searchRecovery: number;
  readonly embeddingRecovery: number;
  /** Mean KL(p_unsplit ‖ p_noisy) in nats, and how often the greedy token is unchanged (%). */
  readonly kl: number;
  readonly sameToken: number;
}

const rows: [number, number, number, number, number, number][] = [
  [1, 0, 100, 13.3, 0, 100],
  [1, 0.1, 100, 14.3, 0.079, 78.5],
  [1, 0.3, 100, 13.3, 0.608, 56.9],
  [1, 1, 83.7, 2.0, 3.93, 11.9],
  [1, 2, 9.2, 0, 7.1, 3.8],
  [2, 0, 100, 5.1, 0, 100],
  [2, 0.1, 100, 6.1, 0.07, 81.0],
  [2, 0.3, 100, 6.1, 0.564, 56.5],
  [2, 1, 50.0, 1.0, 3.66, 17.9],
  [2, 2, 5.1, 0, 6.56, 4.3],
  [4, 0, 100, 0, 0, 100],
  [4, 0.1, 100, 0, 0.065, 77.7],
  [4, 0.3, 100, 0, 0.547, 51.8],
  [4, 1, 31.6, 0, 3.61, 15.0],
  [4, 2, 5.1, 0, 6.43, 3.6],
];

export const PRIVACY_FIGURES: readonly PrivacyFigure[] = rows.map(([k, noise, searchRecovery, embeddingRecovery, kl, sameToken]) => ({
  k,
  noise,
  searchRecovery,
  embeddingRecovery,
  kl,
  sameToken,
}));

export const NOISE_LEVELS = [0, 0.1, 0.3, 1, 2] as const;

/** The measured row for a split layer as a fraction of the model's depth (the test model has 8 layers) and a noise level. */
export function figureFor(k: number, layers: number, noise: number): PrivacyFigure | null {
  const scaled = Math.max(1, Math.round((k / layers) * 8));
  const measuredK = [1, 2, 4].reduce((best, x) => (Math.abs(x - scaled) < Math.abs(best - scaled) ? x : best), 1);
  return PRIVACY_FIGURES.find((f) => f.k === measuredK && f.noise === noise) ?? null;
}
