import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../../sprint/config.ts';
import { cuFor, estimateEpoch, formatCu } from './estimate.ts';

describe('earnings estimate', () => {
  it('credits accepted × (1/p) × FLOPs per nonce, in CU of 10^15', () => {
    // canonical: 4,840,226,816 FLOPs per nonce (docs/sprint-spec.md §2); p = 1/900.
    expect(cuFor(100, CONFIGS.canonical, 900)).toBeCloseTo((100 * 900 * 4_840_226_816) / 1e15, 15);
    expect(cuFor(100, CONFIGS.canonical, 900)).toBeCloseTo(0.4356, 4);
    // tiny: 851,968 FLOPs per nonce.
    expect(cuFor(3, CONFIGS.tiny, 20)).toBeCloseTo((3 * 20 * 851_968) / 1e15, 20);
    expect(cuFor(0, CONFIGS.canonical, 900)).toBe(0);
  });

  it('counts every find as accepted before validation: weight = finds', () => {
    expect(estimateEpoch(7, CONFIGS.canonical, 900)).toEqual({ weight: 7, cu: cuFor(7, CONFIGS.canonical, 900) });
  });

  it('rejects counts and difficulties that are not whole numbers', () => {
    expect(() => cuFor(-1, CONFIGS.tiny, 900)).toThrow(RangeError);
    expect(() => cuFor(1.5, CONFIGS.tiny, 900)).toThrow(/got 1.5/);
    expect(() => cuFor(1, CONFIGS.tiny, 1)).toThrow(RangeError);
  });

  it('formats CU so that small amounts still show', () => {
    expect(formatCu(0)).toBe('0');
    expect(formatCu(0.0043562)).toBe('0.0044');
    expect(formatCu(0.4356)).toBe('0.44');
    expect(formatCu(12.34)).toBe('12.3');
    expect(formatCu(1234.6)).toBe('1,235');
  });
});
