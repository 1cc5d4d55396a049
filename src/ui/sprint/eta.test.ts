import { describe, expect, it } from 'vitest';
import { describeLeft, estimateLeftMs } from './eta.ts';

describe('build time estimates', () => {
  it('extrapolates the rate so far', () => {
    expect(estimateLeftMs(0.25, 10_000)).toBe(30_000);
    expect(estimateLeftMs(0.5, 4_000)).toBe(4_000);
    expect(estimateLeftMs(1, 4_000)).toBe(0);
  });

  it('says nothing too early or on bad input', () => {
    expect(estimateLeftMs(0.01, 10_000)).toBeNull();
    expect(estimateLeftMs(0.5, 500)).toBeNull();
    expect(estimateLeftMs(Number.NaN, 10_000)).toBeNull();
    expect(describeLeft(null)).toBe('');
  });

  it('words the estimate in seconds, then minutes', () => {
    expect(describeLeft(800)).toBe('almost done');
    expect(describeLeft(30_000)).toBe('about 30 s left');
    expect(describeLeft(300_000)).toBe('about 5 min left');
  });
});
