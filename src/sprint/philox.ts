/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11),
 * written with u32 arithmetic only so that WGSL (src/gpu/shaders/philox.wgsl.ts) computes
 * the very same bits. Known-answer vectors from Random123 are in philox.test.ts.
 */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product a*b, both u32. Split in 16-bit halves so no partial product exceeds 2^53. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo + (lolo >>> 16);
  const mid2 = aLo * bHi + (mid1 & 0xffff);
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16)) >>> 0;
}

/** Writes Philox4x32-10(counter, key) into out[0..4). Allocation-free for hot loops. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

export function philox4x32Array(counter: readonly number[], key: readonly number[]): Uint32Array {
  const [c0, c1, c2, c3] = counter;
  const [k0, k1] = key;
  if (
    counter.length !== 4 ||
    key.length !== 2 ||
    c0 === undefined ||
    c1 === undefined ||
    c2 === undefined ||
    c3 === undefined ||
    k0 === undefined ||
    k1 === undefined
  ) {
    throw new RangeError(`Philox4x32 takes 4 counter words and 2 key words, got ${counter.length} and ${key.length}`);
  }
  const out = new Uint32Array(4);
  philox4x32(c0, c1, c2, c3, k0, k1, out);
  return out;
}
