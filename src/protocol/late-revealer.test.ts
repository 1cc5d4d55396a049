/**
 * The late revealer (an attack of ours, docs/protocol.md §6 and §14): a weighted host that holds
 * its own reveal back to the end of the reveal window knows the seed from the last honest reveal
 * on, while honest hosts wait for its reveal. Searches here try nonces in proportion to the
 * virtual time left to the Sprint's end (MODELLED oracle engine), so the head start shows as
 * tries, and so as weight. Timings are the default genesis's divided by 50.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SKEW_MS, DEFAULT_TIMINGS } from './genesis.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { simulate, type SimReport } from './sim/simulate.ts';

const SCALE = 50;
const timings = Object.fromEntries(Object.entries(DEFAULT_TIMINGS).map(([k, v]) => [k, v / SCALE])) as unknown as typeof DEFAULT_TIMINGS;
const skewMs = DEFAULT_SKEW_MS / SCALE;

const run = (lateRevealer: boolean, honestSearchEarly = true): Promise<SimReport> =>
  simulate({
    honest: 4,
    cheaters: lateRevealer ? ['late-revealer'] : [],
    epochs: 1,
    seed: 12,
    timings,
    skewMs,
    latencyMs: [10, 40],
    searchNoncesPerSecond: 100,
    honestSearchEarly,
    modelled: { crypto: modelledCrypto() },
  });

/** Tries of the late revealer (or of the first honest host) over the mean of the honest ones. */
function edge(r: SimReport): { ratio: number; attacker: number; honestMean: number } {
  const e = r.epochs[0]!;
  const honest = e.hosts.filter((h) => h.kind === 'honest');
  const attacker = (e.hosts.find((h) => h.kind === 'late-revealer') ?? honest[0]!).evaluated;
  const honestMean = honest.reduce((s, h) => s + h.evaluated, 0) / honest.length;
  return { ratio: attacker / honestMean, attacker, honestMean };
}

describe('late revealer (MODELLED, timed search)', () => {
  it('gains the time between the last honest reveal and its own; the early search halves what it gained before', async () => {
    const plain = await run(false);
    const attacked = await run(true);
    const before = await run(true, false); // honest hosts search from sprintStart only, as they used to
    for (const r of [plain, attacked, before]) {
      const e = r.epochs[0]!;
      expect(e.agreed && e.certified).toBe(true);
      for (const h of e.hosts) expect(h.flags, h.name).toEqual(['accepted']); // the late reveal is in window: no penalty
    }
    const figures = { plain: edge(plain), attacked: edge(attacked), before: edge(before) };
    console.log('late revealer, tries vs the honest mean:', JSON.stringify(figures));
    // Offsets in the epoch (schedule(), docs/protocol.md §4).
    const s = {
      commitEnd: timings.commitMs,
      revealEnd: timings.commitMs + timings.revealMs,
      sprintEnd: timings.commitMs + timings.revealMs + timings.settleMs + timings.sprintMs,
    };
    // Without an attacker every host starts at commitEnd + 2·skew: equal tries.
    expect(figures.plain.ratio).toBeCloseTo(1, 2);
    // The attacker starts at commitEnd + 2·skew, the honest hosts when its reveal (stamped at
    // revealEnd) arrives: at most (sprintEnd − commitEnd − 2·skew) / (sprintEnd − revealEnd − 40 ms).
    const bound = (s.sprintEnd - s.commitEnd - 2 * skewMs) / (s.sprintEnd - s.revealEnd - 40);
    expect(figures.attacked.ratio).toBeGreaterThan(1.01);
    expect(figures.attacked.ratio).toBeLessThanOrEqual(bound + 1e-9);
    // Before the early search honest hosts waited for sprintStart (and a sync round): a larger edge.
    expect(figures.before.ratio).toBeGreaterThan(figures.attacked.ratio);
  }, 120_000);
});
