import { describe, expect, it } from 'vitest';
import { splitRate } from './router.ts';
import { rankVolunteers, type LedgerStanding } from './router-rank.ts';

const standing = (weight: number, reputation: number, flags: string[] = []): LedgerStanding => ({ weight, votingWeight: 0, reputation, flags });
const probe = (stepMs: number) => ({ label: '', stepMs });

describe('rankVolunteers', () => {
  it('puts weighted before unweighted before flagged before unreachable, then reputation, then step time', () => {
    const ranked = rankVolunteers(
      [
        { peerId: 'unweighted-fast', standing: undefined, probe: probe(1) },
        { peerId: 'flagged-fast', standing: standing(50, 9, ['fraud']), probe: probe(1) },
        { peerId: 'weighted-slow-rep2', standing: standing(1, 2), probe: probe(80) },
        { peerId: 'weighted-fast-rep1', standing: standing(90, 1), probe: probe(5) },
        { peerId: 'weighted-rep2-fast', standing: standing(1, 2), probe: probe(20) },
        { peerId: 'unreachable-heavy', standing: standing(1_000, 50), probe: new Error('cannot reach') },
        { peerId: 'weighted-unprobed', standing: standing(1, 2), probe: undefined },
      ],
      100,
    );
    expect(ranked.map((r) => r.peerId)).toEqual([
      'weighted-rep2-fast',
      'weighted-slow-rep2',
      'weighted-unprobed', // same tier and reputation, no step time: after the measured ones
      'weighted-fast-rep1',
      'unweighted-fast',
      'flagged-fast',
      'unreachable-heavy',
    ]);
    expect(ranked.map((r) => r.tier)).toEqual(['weighted', 'weighted', 'weighted', 'weighted', 'unweighted', 'flagged', 'unreachable']);
    expect(ranked[0]!.expectedTokensPerSecond).toBeCloseTo(splitRate(100, 20), 12);
    expect(ranked[2]!.expectedTokensPerSecond).toBeNull();
    expect(ranked[6]).toMatchObject({ problem: 'cannot reach', stepMs: null, weight: 1_000 });
  });

  it('a voting weight counts as weight, ties fall to weight then peer id, and the order does not depend on the input order', () => {
    const inputs = [
      { peerId: 'b', standing: standing(3, 0), probe: probe(10) },
      { peerId: 'a', standing: standing(3, 0), probe: probe(10) },
      { peerId: 'c', standing: standing(7, 0), probe: probe(10) },
      { peerId: 'voting', standing: { weight: 0, votingWeight: 4, reputation: 0, flags: [] }, probe: probe(10) },
    ];
    const expected = ['c', 'voting', 'a', 'b'];
    expect(rankVolunteers(inputs, null).map((r) => r.peerId)).toEqual(expected);
    expect(rankVolunteers([...inputs].reverse(), null).map((r) => r.peerId)).toEqual(expected);
    expect(rankVolunteers(inputs, null)[0]!.expectedTokensPerSecond).toBeNull(); // no local [0, k) rate known
  });

  it('ranks by inference score right after the tier: inconsistent sessions drop a volunteer below a clean record, but not out of its tier', () => {
    const inputs = [
      // Sprint reputation 9 and the fastest, but two sessions judged inconsistent: score 3 − 2 × 2 = −1.
      { peerId: 'caught', standing: standing(5, 9), probe: probe(1), inferenceScore: -1 },
      { peerId: 'clean', standing: standing(5, 0), probe: probe(50), inferenceScore: 0 },
      { peerId: 'proven', standing: standing(1, 0), probe: probe(90), inferenceScore: 4 },
      { peerId: 'no-record', standing: standing(1, 0), probe: probe(40) },
      { peerId: 'unweighted-proven', standing: undefined, probe: probe(1), inferenceScore: 10 },
      { peerId: 'unreachable-proven', standing: standing(5, 0), probe: new Error('gone'), inferenceScore: 10 },
    ];
    const expected = ['proven', 'no-record', 'clean', 'caught', 'unweighted-proven', 'unreachable-proven'];
    expect(rankVolunteers(inputs, null).map((r) => r.peerId)).toEqual(expected);
    expect(rankVolunteers([...inputs].reverse(), null).map((r) => r.peerId)).toEqual(expected);
    expect(rankVolunteers(inputs, null).map((r) => r.inferenceScore)).toEqual([4, 0, 0, -1, 10, 10]);
    // A score that is not a number is no record.
    expect(rankVolunteers([{ peerId: 'x', standing: undefined, probe: undefined, inferenceScore: Number.NaN }], null)[0]!.inferenceScore).toBe(0);
  });
});
