import { describe, expect, it } from 'vitest';
import { CONFIGS } from './config.ts';
import { binomialUpperTail, normalQuantile, rTarget } from './difficulty.ts';
import { SprintInputError } from './errors.ts';

describe('normal quantile (AS 241)', () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.999, 3.090232306167813],
    [0.001, -3.090232306167813],
    [1e-10, -6.361340902404056],
  ])('Φ⁻¹(%f) = %f', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 12);
  });

  it('rejects probabilities outside (0, 1) with a typed error', () => {
    expect(() => normalQuantile(1)).toThrow(SprintInputError);
    expect(() => normalQuantile(0)).toThrow(SprintInputError);
  });

  it('r_target is below √2 and rises as p falls', () => {
    const r = rTarget(CONFIGS.canonical);
    expect(r).toBeLessThan(Math.SQRT2);
    expect(rTarget(CONFIGS.canonical, 1 / 10000)).toBeLessThan(r);
  });
});

describe('binomial tail', () => {
  it('matches direct sums', () => {
    const n = 20;
    const p = 0.01;
    const pmf = (k: number) => {
      let c = 1;
      for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
      return c * p ** k * (1 - p) ** (n - k);
    };
    for (let k = 0; k <= 5; k++) {
      let tail = 0;
      for (let i = k; i <= n; i++) tail += pmf(i);
      expect(binomialUpperTail(k, n, p)).toBeCloseTo(tail, 14);
    }
    expect(binomialUpperTail(0, n, p)).toBe(1);
    expect(binomialUpperTail(21, n, p)).toBe(0);
  });

  it('does not underflow for large n', () => {
    const t = binomialUpperTail(1000, 100_000, 0.01);
    expect(t).toBeGreaterThan(0.4);
    expect(t).toBeLessThan(0.6);
  });
});

// Hit-rate calibration (spec §11) runs on the CPU backend in src/cli/calibrate.test.ts, which also
// checks that it counts the same hits as the float64 reference.
