/**
 * Wall-clock timing of GPU work: one warm-up call (pipeline creation, first-touch of memory), then
 * a few rounds sized to fill the measuring window. The median round is reported, because on a
 * shared, noisy machine the mean is pulled by the slowest round and the best by luck.
 */
export interface Timing {
  /** Iterations per second of the median round. */
  readonly perSecond: number;
  readonly rounds: number;
  readonly iterations: number;
  readonly seconds: number;
  /** The warm-up call (first use compiles shaders and touches memory). */
  readonly warmupSeconds: number;
}

const ROUNDS = 3;

/**
 * `run(times)` performs `times` iterations and resolves when they are done. `minSeconds` is the
 * whole measuring window; a single iteration longer than a round is still timed (rounds of one).
 */
export async function timeRepeated(run: (times: number) => Promise<void>, minSeconds: number): Promise<Timing> {
  let t0 = performance.now();
  await run(1); // warm-up
  const firstSeconds = (performance.now() - t0) / 1000;
  const roundSeconds = minSeconds / ROUNDS;
  const perRound = Math.max(1, Math.round(roundSeconds / Math.max(firstSeconds, 1e-4)));
  const rates: number[] = [];
  let iterations = 0;
  const start = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    t0 = performance.now();
    await run(perRound);
    rates.push(perRound / ((performance.now() - t0) / 1000));
    iterations += perRound;
    // A long first iteration (one pass of a big model) already makes a fair window.
    if (firstSeconds > roundSeconds && (performance.now() - start) / 1000 >= minSeconds) break;
  }
  rates.sort((a, b) => a - b);
  // ROUNDS ≥ 1 and the loop pushes before it can break, so the median exists.
  return {
    perSecond: rates[Math.floor(rates.length / 2)]!,
    rounds: rates.length,
    iterations,
    seconds: (performance.now() - start) / 1000,
    warmupSeconds: firstSeconds,
  };
}
