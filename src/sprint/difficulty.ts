/** Difficulty (spec §8) and the binomial tail used by validation (spec §9). */
import type { SprintConfig } from './config.ts';
import { SprintInputError } from './errors.ts';

export const DEFAULT_HIT_RATE = 1 / 900;

// Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution" (1988), PPND16.
const A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
  33430.575583588128105, 2509.0809287301226727,
];
const B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
  5226.495278852854561,
];
const C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
  0.0227238449892691845833, 7.7454501427834140764e-4,
];
const D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
  1.05075007164441684324e-9,
];
const E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
  2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
  2.04426310338993978564e-15,
];

const poly = (c: number[], x: number): number => c.reduceRight((acc, k) => acc * x + k, 0);

/** Standard normal quantile Φ⁻¹(p), relative error about 1e-16. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new SprintInputError('BAD_ARGUMENT', `probability must be in (0, 1), got ${p}`);
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = poly(C, r) / poly(D, r);
  } else {
    r -= 5;
    value = poly(E, r) / poly(F, r);
  }
  return q < 0 ? -value : value;
}

/** Cosine threshold c* = Φ⁻¹(1 − p) / √(V − 1). */
export function cosineThreshold(c: SprintConfig, p = DEFAULT_HIT_RATE): number {
  return normalQuantile(1 - p) / Math.sqrt(c.vocab - 1);
}

/** r_target = √(2 − 2c*): a nonce is appropriate when its distance is below it. */
export function rTarget(c: SprintConfig, p = DEFAULT_HIT_RATE): number {
  return Math.sqrt(2 - 2 * cosineThreshold(c, p));
}

/** P[X ≥ k] for X ~ Binomial(n, p), summed in log space so large n does not underflow. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const logRatio = Math.log(p) - Math.log1p(-p);
  let logPmf = n * Math.log1p(-p); // log P[X = 0]
  for (let i = 0; i < k; i++) logPmf += Math.log((n - i) / (i + 1)) + logRatio;
  let tail = 0;
  for (let i = k; i <= n; i++) {
    tail += Math.exp(logPmf);
    logPmf += Math.log((n - i) / (i + 1)) + logRatio;
  }
  return Math.min(1, tail);
}
