import { describe, expect, it } from 'vitest';
import { feistelPermute, mix32, permutationTable } from './permutation.ts';

describe('Feistel permutation', () => {
  it.each([9, 13, 4, 1])('is a bijection on %i bits, and the table equals the per-coordinate form', (bits) => {
    const keys = Uint32Array.from({ length: 8 }, (_, r) => mix32(r + 1000 * bits));
    const table = permutationTable(bits, keys);
    expect(new Set(table).size).toBe(1 << bits);
    for (let i = 0; i < table.length; i++) expect(feistelPermute(bits, keys, i)).toBe(table[i]);
  });

  it('different keys give different permutations', () => {
    const a = permutationTable(13, Uint32Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const b = permutationTable(13, Uint32Array.of(1, 2, 3, 4, 5, 6, 7, 9));
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(a.length / 4);
  });

  it('mix32 known answers (lowbias32, computed independently with Python integers)', () => {
    expect(mix32(0)).toBe(0);
    expect(mix32(1)).toBe(0x688990c0);
    expect(mix32(2)).toBe(0xd1132181);
    expect(mix32(0xffffffff)).toBe(0x6768824a);
    expect(mix32(0xdeadbeef)).toBe(0xe628c683);
  });
});
