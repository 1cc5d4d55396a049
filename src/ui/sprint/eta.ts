/**
 * Time left of a long step from its own progress: the rate so far, extrapolated. Too early to say
 * (under a second, or under 2% done) gives null rather than a wild guess.
 */
export function estimateLeftMs(fraction: number, elapsedMs: number): number | null {
  if (!(fraction >= 0.02) || !(elapsedMs >= 1000)) return null;
  if (fraction >= 1) return 0;
  return (elapsedMs * (1 - fraction)) / fraction;
}

/** "about 40 s left", "about 3 min left", or the empty string while no estimate exists. */
export function describeLeft(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1500) return 'almost done';
  if (ms < 90_000) return `about ${Math.round(ms / 1000)} s left`;
  return `about ${Math.round(ms / 60_000)} min left`;
}
