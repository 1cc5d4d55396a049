/** Interval estimates for the attack suite: exact binomial (Clopper–Pearson) bounds. */
import { binomialUpperTail } from '../sprint/difficulty.ts';

/** P[X ≤ k] for X ~ Binomial(n, p). */
const lowerTail = (k: number, n: number, p: number): number => (k >= n ? 1 : 1 - binomialUpperTail(k + 1, n, p));

function bisect(f: (p: number) => boolean, lo = 0, hi = 1): number {
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid)) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/** Two-sided 95% Clopper–Pearson interval for a proportion of k successes in n trials. */
export function proportionInterval(k: number, n: number, level = 0.95): [number, number] {
  if (!(n > 0) || k < 0 || k > n) throw new RangeError(`bad proportion ${k}/${n}`);
  const a = (1 - level) / 2;
  const low = k === 0 ? 0 : bisect((p) => binomialUpperTail(k, n, p) >= a);
  const high = k === n ? 1 : bisect((p) => lowerTail(k, n, p) <= a);
  return [low, high];
}

/** Central 99.9% acceptance interval of Binomial(n, p) for a count. */
export { binomialInterval } from '../sprint/calibrate.ts';
