import { describe, expect, it } from 'vitest';
import { mulhi32, philox4x32Array } from './philox.ts';

// Known-answer vectors of Random123 (kat_vectors, philox4x32 with 10 rounds).
const KAT: Array<{ ctr: number[]; key: number[]; out: number[] }> = [
  { ctr: [0, 0, 0, 0], key: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

describe('Philox4x32-10', () => {
  it.each(KAT)('matches Random123 vector %#', ({ ctr, key, out }) => {
    expect(Array.from(philox4x32Array(ctr, key))).toEqual(out);
  });

  it('mulhi32 agrees with BigInt on edge and random values', () => {
    const cases = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd2511f53, 0xcd9e8d57, 0x80000000];
    let s = 12345;
    for (let i = 0; i < 200; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      cases.push(s);
    }
    for (const a of cases) {
      for (const b of cases.slice(0, 20)) {
        const want = Number((BigInt(a) * BigInt(b)) >> 32n);
        expect(mulhi32(a, b)).toBe(want);
      }
    }
  });
});
