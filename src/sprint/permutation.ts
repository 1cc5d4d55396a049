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

export function feistelPermute(vocabBits: number, keys: Uint32Array, i: number): number {
  const bitsHi = vocabBits >> 1;
  const bitsLo = vocabBits - bitsHi;
  const maskHi = (1 << bitsHi) - 1;
  const maskLo = (1 << bitsLo) - 1;
  let hi = i >>> bitsLo;
  let lo = i & maskLo;
  for (let r = 0; r < PERMUTATION_ROUNDS; r++) {
    if ((r & 1) === 0) lo ^= mix32(hi ^ keys[r]) & maskLo;
    else hi ^= mix32(lo ^ keys[r]) & maskHi;
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
  const rounds: Uint32Array[] = [];
  for (let r = 0; r < PERMUTATION_ROUNDS; r++) {
    const even = (r & 1) === 0;
    const table = new Uint32Array(even ? 1 << bitsHi : 1 << bitsLo);
    for (let v = 0; v < table.length; v++) table[v] = mix32(v ^ keys[r]) & (even ? maskLo : maskHi);
    rounds.push(table);
  }
  for (let i = 0; i < out.length; i++) {
    let hi = i >>> bitsLo;
    let lo = i & maskLo;
    for (let r = 0; r < PERMUTATION_ROUNDS; r += 2) {
      lo ^= rounds[r][hi];
      hi ^= rounds[r + 1][lo];
    }
    out[i] = (hi << bitsLo) | lo;
  }
  return out;
}
