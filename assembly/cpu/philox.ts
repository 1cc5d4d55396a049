// Philox4x32-10 (spec §3) and the Feistel round function mix32 (spec §7), in u32 arithmetic.
// Globals are per instance, and every thread has its own instance: no sharing.

export let p0: u32 = 0;
export let p1: u32 = 0;
export let p2: u32 = 0;
export let p3: u32 = 0;

// @ts-ignore: decorator
@inline const M0: u64 = 0xd2511f53;
// @ts-ignore: decorator
@inline const M1: u64 = 0xcd9e8d57;
// @ts-ignore: decorator
@inline const W0: u32 = 0x9e3779b9;
// @ts-ignore: decorator
@inline const W1: u32 = 0xbb67ae85;

/** Philox4x32-10(counter (c0..c3), key (k0, k1)) into p0..p3. */
export function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let r = 0; r < 10; r++) {
    const prod0 = M0 * <u64>c0;
    const prod1 = M1 * <u64>c2;
    const hi0 = <u32>(prod0 >> 32);
    const lo0 = <u32>prod0;
    const hi1 = <u32>(prod1 >> 32);
    const lo1 = <u32>prod1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  p0 = c0;
  p1 = c1;
  p2 = c2;
  p3 = c3;
}

// @ts-ignore: decorator
@inline export function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}
