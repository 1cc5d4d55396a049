/**
 * How often an async call runs per second on a shared, noisy machine: two warm-up calls (the
 * first compiles and touches memory; both size the rounds), then 3 rounds that fill `seconds`
 * together. The median round is reported: the mean is pulled by the slowest round, the best by luck.
 */
import { at } from '../sprint/indexing.ts';

export interface MedianRate {
  readonly perSecond: number;
  /** Calls timed (after the warm-up). */
  readonly runs: number;
  readonly seconds: number;
}

const ROUNDS = 3;

export async function medianRate(once: () => Promise<void>, seconds: number): Promise<MedianRate> {
  let t = performance.now();
  await once();
  await once();
  const first = (performance.now() - t) / 2000;
  const perRound = Math.max(1, Math.round(seconds / ROUNDS / Math.max(first, 1e-5)));
  const rates: number[] = [];
  t = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    const r0 = performance.now();
    for (let i = 0; i < perRound; i++) await once();
    rates.push(perRound / ((performance.now() - r0) / 1000));
  }
  rates.sort((p, q) => p - q);
  return { perSecond: at(rates, 1, 'median of 3 rates'), runs: ROUNDS * perRound, seconds: (performance.now() - t) / 1000 };
}
