/** Keyed Feistel permutation of spec §7: each coordinate is computed on its own (GPU friendly). */
import { PERMUTATION_ROUNDS } from './seeds.ts';

/** lowbias32 (Chris Wellons' hash-prospector): a cheap u32 mixer with good avalanche. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function checkRoundKeys(keys: Uint32Array): void {
  if (keys.length < PERMUTATION_ROUNDS) throw new RangeError(`the permutation takes ${PERMUTATION_ROUNDS} round keys, got ${keys.length}`);
}

export function feistelPermute(vocabBits: number, keys: Uint32Array, i: number): number {
  checkRoundKeys(keys);
  const bitsHi = vocabBits >> 1;
  const bitsLo = vocabBits - bitsHi;
  const maskHi = (1 << bitsHi) - 1;
  const maskLo = (1 << bitsLo) - 1;
  let hi = i >>> bitsLo;
  let lo = i & maskLo;
  for (let r = 0; r < PERMUTATION_ROUNDS; r++) {
    if ((r & 1) === 0) lo ^= mix32(hi ^ keys[r]!) & maskLo;
    else hi ^= mix32(lo ^ keys[r]!) & maskHi;
  }
  return (hi << bitsLo) | lo;
}

/**
 * The whole permutation at once, with each round's function tabulated over its half-width input
 * (2^(n/2) entries instead of one mix32 per coordinate and round). Equal to feistelPermute.
 */
export function permutationTable(vocabBits: number, keys: Uint32Array, out = new Uint32Array(1 << vocabBits)): Uint32Array {
  const bitsHi = vocabBits >> 1;
  const bitsLo = vocabBits - bitsHi;
  const maskHi = (1 << bitsHi) - 1;
  const maskLo = (1 << bitsLo) - 1;
  checkRoundKeys(keys);
  // Rounds come in pairs: the even one maps hi (bitsHi wide) into lo, the odd one lo into hi.
  const pairs: Array<{ even: Uint32Array; odd: Uint32Array }> = [];
  for (let r = 0; r < PERMUTATION_ROUNDS; r += 2) {
    const even = new Uint32Array(1 << bitsHi);
    const odd = new Uint32Array(1 << bitsLo);
    even.forEach((_, v) => (even[v] = mix32(v ^ keys[r]!) & maskLo));
    odd.forEach((_, v) => (odd[v] = mix32(v ^ keys[r + 1]!) & maskHi));
    pairs.push({ even, odd });
  }
  for (let i = 0; i < out.length; i++) {
    let hi = i >>> bitsLo;
    let lo = i & maskLo;
    // hi < 2^bitsHi = even.length and lo < 2^bitsLo = odd.length by the masks.
    for (const { even, odd } of pairs) {
      lo ^= even[hi]!;
      hi ^= odd[lo]!;
    }
    out[i] = (hi << bitsLo) | lo;
  }
  return out;
}
