import { describe, expect, it } from 'vitest';
import { nextToJudge, tiebreak, type JudgeCandidate, type JudgeStanding } from './judge-order.ts';

const cand = (id: number, volunteer: string, epoch = 0): JudgeCandidate => ({ id: `p${id}`, idBytes: new Uint8Array([id]), volunteer, epoch });
const salt = new Uint8Array(32).fill(7);
const standing = (o: Partial<Record<'credited' | 'weight' | 'unanswered', Record<string, number>>> & { caught?: string[] } = {}): JudgeStanding => ({
  creditedFlops: (v) => BigInt(o.credited?.[v] ?? 0),
  weight: (v) => o.weight?.[v] ?? 0,
  unanswered: (v) => o.unanswered?.[v] ?? 0,
  caught: (e, v) => (o.caught ?? []).includes(`${e}/${v}`),
});

describe('judge order', () => {
  it('takes tiers in order: not caught, fewer unanswered requests, more credit, more weight', () => {
    const all = [cand(1, 'fresh'), cand(2, 'weighted'), cand(3, 'credited'), cand(4, 'silent'), cand(5, 'liar')];
    const s = standing({
      credited: { credited: 5, silent: 9, liar: 9 },
      weight: { weighted: 3, silent: 9, liar: 9 },
      unanswered: { silent: 1 },
      caught: ['0/liar'],
    });
    const order: string[] = [];
    for (let left = all; left.length;) {
      const c = nextToJudge(left, s, salt)!;
      order.push(c.volunteer);
      left = left.filter((x) => x !== c);
    }
    expect(order).toEqual(['credited', 'weighted', 'fresh', 'silent', 'liar']);
  });

  it('caught is per epoch: a liar of epoch 0 is not behind in epoch 1', () => {
    const s = standing({ weight: { liar: 1 }, caught: ['0/liar'] });
    expect(nextToJudge([cand(1, 'fresh', 1), cand(2, 'liar', 1)], s, salt)!.volunteer).toBe('liar');
    expect(nextToJudge([cand(1, 'fresh', 0), cand(2, 'liar', 0)], s, salt)!.volunteer).toBe('fresh');
  });

  it('breaks ties among equals by the salted hash, which another salt orders differently', () => {
    const equals = Array.from({ length: 16 }, (_, i) => cand(i, `k${i}`));
    const first = (sl: Uint8Array) => nextToJudge(equals, standing(), sl)!.id;
    const byHash = [...equals].sort((a, b) => (tiebreak(salt, a.idBytes) < tiebreak(salt, b.idBytes) ? -1 : 1));
    expect(first(salt)).toBe(byHash[0]!.id);
    const firsts = new Set(Array.from({ length: 8 }, (_, i) => first(new Uint8Array(32).fill(i))));
    expect(firsts.size).toBeGreaterThan(1);
    expect(nextToJudge([], standing(), salt)).toBeUndefined();
  });
});
