// Y[M, N] = epilogue(X[M, K] · Wᵀ) with W stored as u8 codes q (value = (2q − 255) · 2^−s), packed in
// panels of 8 output columns: panel p holds W[8p + j][k] at byte p·K·8 + k·8 + j. Each panel is
// converted to f32 codes in a small per-thread buffer (kc rows deep, L1-resident), then every block
// of 4 rows of X runs over it with a 4×8 register tile (broadcast form: one load_splat of X per row
// and k, two f32x4 of W). Partial sums of a panel stay in a per-thread tile [M][8] across the kc
// blocks; the epilogue applies the exact power-of-two scale, the row's RMSNorm factor, and stores,
// applies ReLU, or adds into Y (residual).

export const MODE_STORE = 0;
export const MODE_RELU = 1;
export const MODE_ADD = 2;

/**
 * c + a·b. With relaxed SIMD (the second build, used where the engine finds it supported) one
 * fused multiply-add; else a multiply and an add. Either way every element is summed in one order.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 2q − 255 for 16 codes (two k rows of one panel) → 16 f32 at dst. */
// @ts-ignore: decorator
@inline function convert16(src: usize, dst: usize): void {
  const q = v128.load(src);
  const c255 = i16x8.splat(255);
  const lo = i16x8.sub(i16x8.shl(i16x8.extend_low_i8x16_u(q), 1), c255);
  const hi = i16x8.sub(i16x8.shl(i16x8.extend_high_i8x16_u(q), 1), c255);
  v128.store(dst, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)));
  v128.store(dst, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), 16);
  v128.store(dst, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), 32);
  v128.store(dst, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), 48);
}

/** kk (even) rows of one panel: u8 [kk][8] → f32 [kk][8]. */
function convertPanel(src: usize, buf: usize, kk: i32): void {
  const end = src + (<usize>kk << 3);
  for (; src < end; src += 16, buf += 64) convert16(src, buf);
}

/** 4 rows × 8 columns over kk of depth: t[r][0..8) (+)= Σ_k x_r[k] · buf[k][0..8). */
export function kernel4x8(x: usize, ldx: usize, buf: usize, kk: i32, t: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const x1 = x + ldx, x2 = x1 + ldx, x3 = x2 + ldx;
  const end = <usize>kk << 2;
  let w = buf;
  for (let o: usize = 0; o < end; o += 4, w += 32) {
    const w0 = v128.load(w), w1 = v128.load(w, 16);
    let a = v128.load_splat<f32>(x + o);
    c00 = madd(a, w0, c00); c01 = madd(a, w1, c01);
    a = v128.load_splat<f32>(x1 + o);
    c10 = madd(a, w0, c10); c11 = madd(a, w1, c11);
    a = v128.load_splat<f32>(x2 + o);
    c20 = madd(a, w0, c20); c21 = madd(a, w1, c21);
    a = v128.load_splat<f32>(x3 + o);
    c30 = madd(a, w0, c30); c31 = madd(a, w1, c31);
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(t)); c01 = f32x4.add(c01, v128.load(t, 16));
    c10 = f32x4.add(c10, v128.load(t, 32)); c11 = f32x4.add(c11, v128.load(t, 48));
    c20 = f32x4.add(c20, v128.load(t, 64)); c21 = f32x4.add(c21, v128.load(t, 80));
    c30 = f32x4.add(c30, v128.load(t, 96)); c31 = f32x4.add(c31, v128.load(t, 112));
  }
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
}

/**
 * 1 row × 8 columns (the rows left over after the 4-row blocks), summing in the same order as
 * kernel4x8 so that a row's result does not depend on the batch it is in.
 */
export function kernel1x8(x: usize, buf: usize, kk: i32, t: usize, accumulate: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const end = <usize>kk << 2;
  let w = buf;
  for (let o: usize = 0; o < end; o += 4, w += 32) {
    const a = v128.load_splat<f32>(x + o);
    c0 = madd(a, v128.load(w), c0);
    c1 = madd(a, v128.load(w, 16), c1);
  }
  if (accumulate) {
    c0 = f32x4.add(c0, v128.load(t));
    c1 = f32x4.add(c1, v128.load(t, 16));
  }
  v128.store(t, c0);
  v128.store(t, c1, 16);
}

/**
 * Panels [p0, p1) of one matmul. `buf`: kc·32 bytes; `tile`: M·32 bytes; `rowScale`: M f32 or 0.
 * ldx, ldy in bytes; K even; N a multiple of 8.
 */
export function matmulPanels(
  x: usize, ldx: usize, w: usize, y: usize, ldy: usize,
  M: i32, K: i32, scale: f32, rowScale: usize, mode: i32,
  p0: i32, p1: i32, buf: usize, tile: usize, kc: i32,
): void {
  const panelBytes = <usize>K << 3;
  for (let p = p0; p < p1; p++) {
    const wp = w + <usize>p * panelBytes;
    for (let k0 = 0; k0 < K; k0 += kc) {
      const kk = min(kc, K - k0);
      convertPanel(wp + (<usize>k0 << 3), buf, kk);
      const xk = x + (<usize>k0 << 2);
      const acc = k0 > 0;
      let m = 0;
      for (; m + 4 <= M; m += 4) kernel4x8(xk + <usize>m * ldx, ldx, buf, kk, tile + (<usize>m << 5), acc);
      for (; m < M; m++) kernel1x8(xk + <usize>m * ldx, buf, kk, tile + (<usize>m << 5), acc);
    }
    const yp = y + (<usize>p << 5);
    const s = f32x4.splat(scale);
    const zero = f32x4.splat(0);
    for (let m = 0; m < M; m++) {
      const f = rowScale ? f32x4.mul(s, v128.load_splat<f32>(rowScale + (<usize>m << 2))) : s;
      let v0 = f32x4.mul(v128.load(tile + (<usize>m << 5)), f);
      let v1 = f32x4.mul(v128.load(tile + (<usize>m << 5), 16), f);
      const dst = yp + <usize>m * ldy;
      if (mode == MODE_RELU) {
        v0 = f32x4.max(v0, zero);
        v1 = f32x4.max(v1, zero);
      } else if (mode == MODE_ADD) {
        v0 = f32x4.add(v128.load(dst), v0);
        v1 = f32x4.add(v128.load(dst, 16), v1);
      }
      v128.store(dst, v0);
      v128.store(dst, v1, 16);
    }
  }
}
