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

// Four Philox4x32-10 blocks at once, one per lane: counters (c0[i], c1[i], c2[i], c3[i]), one key.
// Results in q0..q3 (q_w lane i = word w of block i). 64-bit products through i64x2.extmul.
export let q0: v128 = i32x4.splat(0);
export let q1: v128 = i32x4.splat(0);
export let q2: v128 = i32x4.splat(0);
export let q3: v128 = i32x4.splat(0);

export function philox4(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32): void {
  const m0 = i32x4.splat(<i32>M0);
  const m1 = i32x4.splat(<i32>M1);
  for (let r = 0; r < 10; r++) {
    const a = i64x2.extmul_low_i32x4_u(c0, m0);
    const b = i64x2.extmul_high_i32x4_u(c0, m0);
    const c = i64x2.extmul_low_i32x4_u(c2, m1);
    const d = i64x2.extmul_high_i32x4_u(c2, m1);
    const lo0 = v128.shuffle<i32>(a, b, 0, 2, 4, 6);
    const hi0 = v128.shuffle<i32>(a, b, 1, 3, 5, 7);
    const lo1 = v128.shuffle<i32>(c, d, 0, 2, 4, 6);
    const hi1 = v128.shuffle<i32>(c, d, 1, 3, 5, 7);
    c0 = v128.xor(v128.xor(hi1, c1), i32x4.splat(<i32>k0));
    c1 = lo1;
    c2 = v128.xor(v128.xor(hi0, c3), i32x4.splat(<i32>k1));
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  q0 = c0;
  q1 = c1;
  q2 = c2;
  q3 = c3;
}
