import { afterAll, describe, expect, it } from 'vitest';
import { cpuHonestPasses } from '../cpu/honest-passes.ts';
import { CONFIGS } from '../sprint/config.ts';
import { VALIDATION_TOLERANCE } from '../sprint/validate.ts';
import { runAudit } from './audit.ts';
import { proportionInterval } from './stats.ts';
import { AUDIT_SPRINT_SEED, AuditWorld, roundToBits } from './world.ts';

// Honest passes on the CPU backend; the f16 screen's passes and the screens' partial states stay on
// the float64 reference. The last block checks the two agree on the honest evaluations.
const passes = cpuHonestPasses(CONFIGS.tiny, AUDIT_SPRINT_SEED);
afterAll(() => passes.destroy());

describe('attack suite, short tiny run (the full figures are in docs/sprint-audit.md)', () => {
  // A regression guard, not a proof: small samples give wide intervals.
  const v2 = runAudit({ config: CONFIGS.tiny, version: 2, nonces: 4000, train: 2000, selected: 200, fractions: [0.5, 0.05], grind: 20_000, passes });
  const v1 = runAudit({
    config: CONFIGS.tiny,
    version: 1,
    nonces: 4000,
    train: 2000,
    selected: 200,
    fractions: [0.05],
    screens: ['mean-screen'],
    skipLowPrecision: true,
    grind: 20_000,
    passes,
  });

  it('version 2: no attack is clearly above the honest engine', () => {
    const clearly = v2.attacks.filter((a) => a.ci_low > 1);
    expect(clearly).toEqual([]);
    expect(v2.attacks.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'mean-screen',
        'projection-screen',
        'variance-screen',
        'linear-predictor',
        'fewer-layers',
        'prefix-cache-position-0',
        'prefix-cache-pair-grinding',
        'low-precision-f16',
      ]),
    );
  });

  it('version 2: no screen guesses a whole fingerprint, and no prefix is ever reused', () => {
    for (const a of v2.attacks.filter((x) => x.method === 'fingerprint')) expect(a.fingerprint_matches).toBe(0);
    expect(v2.attacks.find((a) => a.name === 'prefix-cache-position-0')!.reused).toBe(0);
    expect(v2.attacks.find((a) => a.name === 'prefix-cache-pair-grinding')!.useful).toBe(0);
  });

  it('version 1 (superseded) falls to the same suite: the checks can fail', () => {
    const mean = v1.attacks.find((a) => a.name === 'mean-screen')!;
    expect(mean.ci_low).toBeGreaterThan(2);
    expect(v1.attacks.find((a) => a.name === 'prefix-cache-position-0')!.advantage).toBeGreaterThan(1.25);
  });
});

describe('honest evaluations on the CPU backend', () => {
  it('agree with the float64 reference: distances within the tolerance, hits, fingerprints, normalised states', () => {
    const nonces = Array.from({ length: 200 }, (_, i) => 5000 + i);
    const cpu = new AuditWorld(CONFIGS.tiny, 2, passes).evaluate(nonces, { partialLayers: 1 });
    const ref = new AuditWorld(CONFIGS.tiny, 2).evaluate(nonces, { partialLayers: 1 });
    ref.forEach((r, i) => {
      const c = cpu[i]!;
      expect(Math.abs(c.distance - r.distance)).toBeLessThan(VALIDATION_TOLERANCE);
      expect(c.hit).toBe(r.hit);
      expect(Array.from(c.fp)).toEqual(Array.from(r.fp));
      c.h.forEach((v, k) => expect(Math.abs(v - r.h[k]!)).toBeLessThan(1e-4));
      c.partial!.forEach((v, k) => expect(Math.abs(v - r.partial![k]!)).toBeLessThan(1e-4));
    });
  });
});

describe('audit statistics', () => {
  it('Clopper–Pearson bounds match known values', () => {
    const [lo, hi] = proportionInterval(0, 1000);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.003682, 5); // 1 − 0.025^(1/1000)
    const [lo2, hi2] = proportionInterval(5, 10);
    expect(lo2).toBeCloseTo(0.187086, 5);
    expect(hi2).toBeCloseTo(0.812914, 5);
  });

  it('rounding to 11 significant bits is IEEE half precision rounding (ties to even)', () => {
    const v = Float64Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -12, -3.14159);
    roundToBits(11)(v);
    expect(Array.from(v)).toEqual([1, 1 + 2 ** -9, 1, -3.140625]);
  });
});
