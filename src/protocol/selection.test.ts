import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { VALIDATION_SAMPLE } from '../sprint/validate.ts';
import { BPS, MIN_EXPECTED_VALIDATORS, NEW_HOST_VALIDATORS, REPUTATION_MAX } from './constants.ts';
import { creditedCount, sampleDone } from './ledger.ts';
import { effectiveRateBps, isSelected, minRateBps, newHostRateBps, reRunChunks, sampleIndices, sampleSize, validationOrder } from './selection.ts';
import { Verdict } from './messages.ts';
import { mismatchLimit } from '../sprint/validate.ts';
import { seedCommitment, sprintSeed } from './seed.ts';

const bytes = (s: string) => sha256(new TextEncoder().encode(s));

describe('check rate (Appendix D style)', () => {
  it('checks a new host by NEW_HOST_VALIDATORS validators (every one in a smaller network), falling linearly to the floor of MIN_EXPECTED_VALIDATORS', () => {
    expect(NEW_HOST_VALIDATORS).toBe(21);
    for (const n of [1, 20, 21]) expect(effectiveRateBps(0, n)).toBe(BPS);
    expect(effectiveRateBps(0, 22)).toBe(Math.ceil((BPS * 21) / 22));
    expect(effectiveRateBps(0, 100)).toBe(2_100);
    expect(effectiveRateBps(0, 1000)).toBe(210);
    for (const n of [1, 5, 21, 22, 100, 1000, 10_000]) {
      const expected = (effectiveRateBps(0, n) / BPS) * n;
      expect(expected).toBeGreaterThanOrEqual(Math.min(n, NEW_HOST_VALIDATORS) - 1e-9);
      expect(expected).toBeLessThan(NEW_HOST_VALIDATORS + n / BPS + 1e-9);
    }
    for (const n of [20, 100, 1000]) {
      const floor = minRateBps(n);
      expect(effectiveRateBps(0, n)).toBe(newHostRateBps(n));
      expect(effectiveRateBps(REPUTATION_MAX, n)).toBe(floor);
      expect(effectiveRateBps(REPUTATION_MAX + 5, n)).toBe(floor);
      const steps = Array.from({ length: REPUTATION_MAX }, (_, r) => effectiveRateBps(r, n) - effectiveRateBps(r + 1, n));
      // Linear up to integer rounding.
      expect(Math.max(...steps) - Math.min(...steps)).toBeLessThanOrEqual(1);
    }
    expect(minRateBps(1000)).toBe(70);
    expect(minRateBps(0)).toBe(BPS);
  });

  it('keeps the expected number of validators per host at MIN_EXPECTED_VALIDATORS or more, and at most that many at full reputation', () => {
    for (const n of [1, 5, 7, 8, 70, 100, 1000, 10_000]) {
      const expected = (effectiveRateBps(REPUTATION_MAX, n) / BPS) * n;
      expect(expected).toBeGreaterThanOrEqual(Math.min(n, MIN_EXPECTED_VALIDATORS) - 1e-9);
      expect(expected).toBeLessThan(MIN_EXPECTED_VALIDATORS + n / BPS + 1e-9);
    }
  });

  it('selects hosts at the stated rate, deterministically', () => {
    const rate = 2_500;
    let hits = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (isSelected(bytes(`v${i}`), bytes('host'), rate)) hits++;
    // Binomial(4000, 0.25): mean 1000, sd 27.4; 5 sd either side.
    expect(Math.abs(hits - 1000)).toBeLessThan(137);
    expect(isSelected(bytes('v'), bytes('h'), rate)).toBe(isSelected(bytes('v'), bytes('h'), rate));
    expect(isSelected(bytes('v'), bytes('h'), BPS)).toBe(true);
    expect(isSelected(bytes('v'), bytes('h'), 0)).toBe(false);
  });
});

describe('sample', () => {
  it('draws min(count, m) distinct indices in range, the same for the same lottery value and proof', () => {
    expect(sampleSize(5)).toBe(5);
    expect(sampleSize(10_000)).toBe(VALIDATION_SAMPLE);
    for (const count of [1, 2, 7, 130, 131, 5000]) {
      const s = sampleIndices(bytes('lottery'), bytes(`proof${count}`), count);
      expect(s.length).toBe(Math.min(count, VALIDATION_SAMPLE));
      expect(new Set(s).size).toBe(s.length);
      expect(s.every((i) => Number.isInteger(i) && i >= 0 && i < count)).toBe(true);
      expect(sampleIndices(bytes('lottery'), bytes(`proof${count}`), count)).toEqual(s);
    }
    expect(sampleIndices(bytes('a'), bytes('p'), 5000)).not.toEqual(sampleIndices(bytes('b'), bytes('p'), 5000));
  });

  it('covers every index about equally often (no modulo skew worth the name)', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) for (const j of sampleIndices(bytes(`l${i}`), bytes('p'), 10, 3)) counts[j]++;
    // 6000 draws over 10 indices: 600 each, sd ≈ 22.
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(120);
  });
});

describe('credited nonces', () => {
  const s = (key: string, weight: number, mismatches: number, checked: number) => ({ key, weight, mismatches, checked });
  it('removes the median mismatch share, so a tolerated mismatch never earns weight', () => {
    expect(creditedCount(10, [s('a', 1, 0, 10), s('b', 1, 0, 10)])).toBe(10);
    expect(creditedCount(10, [s('a', 1, 1, 10), s('b', 1, 1, 10), s('c', 1, 0, 10)])).toBe(9);
    // A one-nonce forgery: k(1) = 2 accepts it, but it is credited nothing.
    expect(creditedCount(1, [s('a', 1, 1, 1), s('b', 1, 1, 1)])).toBe(0);
    // One lenient validator with little weight does not move the median.
    expect(creditedCount(130, [s('a', 1, 0, 130), s('b', 5, 1, 130), s('c', 5, 1, 130)])).toBe(129);
    // Sampled lists scale the share: 1 of 130 on a list of 1300 removes ⌈1300/130⌉ = 10.
    expect(creditedCount(1300, [s('a', 1, 1, 130)])).toBe(1290);
  });
});

describe('validation order (local policy)', () => {
  const hosts = Array.from({ length: 40 }, (_, i) => ({ sender: bytes(`host ${i}`), reputation: i % 4 === 0 ? 3 : 0, weight: i % 8 === 0 ? 5 : 0 }));
  const standing = (h: (typeof hosts)[number]) => h;

  it('ranks reputation first, then weight, and orders equals by the validator’s own lottery draw', () => {
    const order = validationOrder(bytes('lottery A'), hosts, standing);
    expect(order.length).toBe(hosts.length);
    expect(new Set(order)).toEqual(new Set(hosts));
    // Reputation 3 first (10 hosts), and among those the weighted ones (5) first.
    expect(order.slice(0, 10).every((h) => h.reputation === 3)).toBe(true);
    expect(order.slice(0, 5).every((h) => h.weight === 5)).toBe(true);
    expect(order.slice(10).every((h) => h.reputation === 0)).toBe(true);
    // The order of equals is a pure function of (λ, key): the input order does not matter.
    expect(validationOrder(bytes('lottery A'), [...hosts].reverse(), standing)).toEqual(order);
  });

  it('gives each validator another order among fresh keys, so no key can be ground to come first', () => {
    const fresh = hosts.filter((h) => h.reputation === 0 && h.weight === 0);
    const firsts = new Set(['A', 'B', 'C', 'D', 'E', 'F'].map((v) => validationOrder(bytes(`lottery ${v}`), fresh, standing)[0]));
    expect(firsts.size).toBeGreaterThan(2);
  });
});

describe('stopping early (§8)', () => {
  it('re-runs k(m), then 8·k(m), then the rest, in draw order', () => {
    expect(mismatchLimit(VALIDATION_SAMPLE)).toBe(2);
    expect(reRunChunks(VALIDATION_SAMPLE)).toEqual([2, 16, VALIDATION_SAMPLE - 18]);
    expect(reRunChunks(10)).toEqual([2, 8]);
    expect(reRunChunks(1)).toEqual([1]);
    for (let m = 1; m <= VALIDATION_SAMPLE; m++) expect(reRunChunks(m).reduce((a, b) => a + b, 0)).toBe(m);
  });

  it('counts a mismatch that stopped once k(m) mismatches decided it, and nothing else short of m', () => {
    const m = VALIDATION_SAMPLE;
    expect(sampleDone({ verdict: Verdict.ok, checked: m, mismatches: 1 }, m)).toBe(true);
    expect(sampleDone({ verdict: Verdict.mismatch, checked: m, mismatches: 9 }, m)).toBe(true);
    expect(sampleDone({ verdict: Verdict.mismatch, checked: 2, mismatches: 2 }, m)).toBe(true);
    expect(sampleDone({ verdict: Verdict.mismatch, checked: 18, mismatches: 3 }, m)).toBe(true);
    // An `ok` must have re-run all m; so must a count of another sample size.
    expect(sampleDone({ verdict: Verdict.ok, checked: 18, mismatches: 0 }, m)).toBe(false);
    expect(sampleDone({ verdict: Verdict.mismatch, checked: m + 1, mismatches: 2 }, m)).toBe(false);
    expect(sampleDone({ verdict: Verdict.mismatch, checked: 1, mismatches: 1 }, m)).toBe(false);
  });
});

describe('seed', () => {
  it('commits to (network, epoch, key, secret) and is independent of reveal order', () => {
    const a = { publicKey: bytes('a'), secret: bytes('sa') };
    const b = { publicKey: bytes('b'), secret: bytes('sb') };
    expect(sprintSeed(bytes('prev'), 1, [a, b])).toEqual(sprintSeed(bytes('prev'), 1, [b, a]));
    expect(sprintSeed(bytes('prev'), 1, [a, b])).not.toEqual(sprintSeed(bytes('prev'), 2, [a, b]));
    expect(sprintSeed(bytes('prev'), 1, [a])).not.toEqual(sprintSeed(bytes('prev'), 1, [a, b]));
    expect(seedCommitment('n', 1, a.publicKey, a.secret)).not.toEqual(seedCommitment('n', 2, a.publicKey, a.secret));
    expect(seedCommitment('n', 1, a.publicKey, a.secret)).not.toEqual(seedCommitment('m', 1, a.publicKey, a.secret));
  });
});
