// Kernels of the LLM decoder (src/llm/cpu-model.ts writes the programs): linear layers over 16- or
// 32-bit float weights in panels of 8 output rows, RMSNorm with its weight, RoPE with the KV-cache
// write, grouped-query attention over the cache, and SwiGLU's silu(gate)·up. f32 activations and
// accumulation like the WebGPU engine; norms' sums in f64.
import { kernel1x8, kernel4x8 } from './matmul';

export const DTYPE_F32 = 0;
export const DTYPE_F16 = 1;
export const DTYPE_BF16 = 2;
export const LINEAR_STORE = 0;
export const LINEAR_ADD = 2;

/** 8 f16 → 8 f32 (exact: subnormals through the 2^112 scaling, inf/NaN kept). */
// @ts-ignore: decorator
@inline function f16x4(h: v128): v128 {
  const m = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  let f = f32x4.mul(m, f32x4.splat(5.192296858534828e33)); // 2^112
  const special = i32x4.eq(v128.and(h, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  f = v128.bitselect(v128.or(m, i32x4.splat(0x7f800000)), f, special);
  return v128.or(f, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** kk rows of one 16-bit panel [kk][8] → f32 [kk][8] at buf. */
function convertPanel16(src: usize, buf: usize, kk: i32, dtype: i32): void {
  const end = src + (<usize>kk << 4);
  if (dtype == DTYPE_F16) {
    for (; src < end; src += 16, buf += 32) {
      const h = v128.load(src);
      v128.store(buf, f16x4(i32x4.extend_low_i16x8_u(h)));
      v128.store(buf, f16x4(i32x4.extend_high_i16x8_u(h)), 16);
    }
  } else {
    for (; src < end; src += 16, buf += 32) {
      const h = v128.load(src);
      v128.store(buf, i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
      v128.store(buf, i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
    }
  }
}

/**
 * Panels [p0, p1) of Y[M, 8·panels] (+)= X[M, K] · Wᵀ + b. W: panel p holds W[8p + j][k] at element
 * p·K·8 + k·8 + j, in `dtype`. bias: f32 per output column, or 0. ldx, ldy in bytes.
 */
export function linearPanels(
  x: usize, ldx: usize, w: usize, dtype: i32, y: usize, ldy: usize, M: i32, K: i32,
  bias: usize, mode: i32, p0: i32, p1: i32, buf: usize, tile: usize, kc: i32,
): void {
  const esize: usize = dtype == DTYPE_F32 ? 4 : 2;
  const panelBytes = (<usize>K << 3) * esize;
  for (let p = p0; p < p1; p++) {
    const wp = w + <usize>p * panelBytes;
    for (let k0 = 0; k0 < K; k0 += kc) {
      const kk = min(kc, K - k0);
      let b = buf;
      if (dtype == DTYPE_F32) b = wp + (<usize>k0 << 5);
      else convertPanel16(wp + (<usize>k0 << 4), buf, kk, dtype);
      const xk = x + (<usize>k0 << 2);
      const acc = k0 > 0;
      let m = 0;
      for (; m + 4 <= M; m += 4) kernel4x8(xk + <usize>m * ldx, ldx, b, kk, tile + (<usize>m << 5), acc);
      for (; m < M; m++) kernel1x8(xk + <usize>m * ldx, b, kk, tile + (<usize>m << 5), acc);
    }
    const col = <usize>p << 5;
    const b0 = bias ? v128.load(bias + col) : f32x4.splat(0);
    const b1 = bias ? v128.load(bias + col, 16) : f32x4.splat(0);
    for (let m = 0; m < M; m++) {
      let v0 = f32x4.add(v128.load(tile + (<usize>m << 5)), b0);
      let v1 = f32x4.add(v128.load(tile + (<usize>m << 5), 16), b1);
      const dst = y + col + <usize>m * ldy;
      if (mode == LINEAR_ADD) {
        v0 = f32x4.add(v128.load(dst), v0);
        v1 = f32x4.add(v128.load(dst, 16), v1);
      }
      v128.store(dst, v0);
      v128.store(dst, v1, 16);
    }
  }
}

/** y = x / √(mean x² + ε) · w for one row of D floats (f64 sum of squares). */
export function rmsnormRow(x: usize, y: usize, D: i32, w: usize, eps: f32): void {
  let s0: f64 = 0, s1: f64 = 0;
  let i = 0;
  for (; i + 1 < D; i += 2) {
    const a = <f64>load<f32>(x + (<usize>i << 2));
    const b = <f64>load<f32>(x + (<usize>i << 2), 4);
    s0 += a * a;
    s1 += b * b;
  }
  if (i < D) {
    const a = <f64>load<f32>(x + (<usize>i << 2));
    s0 += a * a;
  }
  const inv = <f32>(1.0 / Math.sqrt((s0 + s1) / <f64>D + <f64>eps));
  for (let j = 0; j < D; j++) {
    const o = <usize>j << 2;
    store<f32>(y + o, load<f32>(x + o) * inv * load<f32>(w + o));
  }
}

/**
 * RoPE (rotate_half: element i pairs with i + hd/2) on one position's q heads and k heads, then k
 * and v into the cache at `pos`. rope: f32 [positions][hd] (cos for i < hd/2, then sin).
 */
export function ropeRow(q: usize, k: usize, v: usize, kc: usize, vc: usize, pos: i32, H: i32, G: i32, hd: i32, rope: usize): void {
  const half = hd >> 1;
  const r = rope + (<usize>(pos * hd) << 2);
  for (let a = 0; a < H + G; a++) {
    const vec = a < H ? q + (<usize>(a * hd) << 2) : k + (<usize>((a - H) * hd) << 2);
    for (let i = 0; i < half; i++) {
      const cos = load<f32>(r + (<usize>i << 2));
      const sin = load<f32>(r + (<usize>(half + i) << 2));
      const pa = vec + (<usize>i << 2), pb = vec + (<usize>(half + i) << 2);
      const x0 = load<f32>(pa), x1 = load<f32>(pb);
      store<f32>(pa, x0 * cos - x1 * sin);
      store<f32>(pb, x1 * cos + x0 * sin);
    }
  }
  const kvBytes = <usize>(G * hd) << 2;
  memory.copy(kc + <usize>pos * kvBytes, k, kvBytes);
  memory.copy(vc + <usize>pos * kvBytes, v, kvBytes);
}

/** Σ a[i]·b[i] over n floats (n a multiple of 4), four lanes then their sum. */
// @ts-ignore: decorator
@inline function dot4(a: usize, b: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 16) s = f32x4.add(s, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/**
 * One query head at position `last`: softmax(q·K[0..last]ᵀ · scale) · V[0..last] for kv head g.
 * kc, vc: [positions][G·hd]; scores: last + 1 floats of scratch. hd a multiple of 4.
 */
export function attendHead(q: usize, kc: usize, vc: usize, out: usize, last: i32, g: i32, G: i32, hd: i32, scale: f32, scores: usize): void {
  const row = <usize>(G * hd) << 2;
  const off = <usize>(g * hd) << 2;
  let max: f32 = -Infinity;
  for (let u = 0; u <= last; u++) {
    const s = dot4(q, kc + <usize>u * row + off, hd) * scale;
    store<f32>(scores + (<usize>u << 2), s);
    if (s > max) max = s;
  }
  let sum: f32 = 0;
  for (let u = 0; u <= last; u++) {
    const e = Mathf.exp(load<f32>(scores + (<usize>u << 2)) - max);
    store<f32>(scores + (<usize>u << 2), e);
    sum += e;
  }
  const inv = f32x4.splat(<f32>1.0 / sum);
  const end = <usize>hd << 2;
  for (let o: usize = 0; o < end; o += 16) {
    let acc = f32x4.splat(0);
    for (let u = 0; u <= last; u++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load_splat<f32>(scores + (<usize>u << 2)), v128.load(vc + <usize>u * row + off + o)));
    }
    v128.store(out + o, f32x4.mul(acc, inv));
  }
}

/** gate[i] = silu(gate[i]) · up[i] for i in [i0, i1). */
export function siluMul(gate: usize, up: usize, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    store<f32>(gate + o, (g / (<f32>1.0 + Mathf.exp(-g))) * load<f32>(up + o));
  }
}
