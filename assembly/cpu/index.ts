// The CPU backend's pass interpreter (src/cpu/engine.ts writes the programs). Every compute thread
// instantiates this module on the one shared memory and calls run(ctrl, tid) for each job: the
// threads walk the same list of steps, take units of each step from a shared counter (so a thread
// slowed by another process simply takes fewer units), and meet at a barrier after every step.
import { attendHead, linearPanels, ropeRow, rmsnormRow, siluMul } from './llm';
import { matmulPanels } from './matmul';
import { mix32, p0, p1, p2, p3, philox, philox4, q0, q1, q2, q3 } from './philox';

// Control block (i32 words at ctrl). Keep in sync with src/cpu/layout.ts.
// @ts-ignore: decorator
@inline const C_BAR_COUNT: usize = 3 * 4;
// @ts-ignore: decorator
@inline const C_BAR_GEN: usize = 4 * 4;
// @ts-ignore: decorator
@inline const C_PROG: usize = 5 * 4;
// @ts-ignore: decorator
@inline const C_STEPS: usize = 6 * 4;
// @ts-ignore: decorator
@inline const C_SCRATCH: usize = 7 * 4;
// @ts-ignore: decorator
@inline const C_SCRATCH_STRIDE: usize = 8 * 4;
// @ts-ignore: decorator
@inline const C_THREADS: usize = 9 * 4;
// @ts-ignore: decorator
@inline const C_KC: usize = 10 * 4;
// @ts-ignore: decorator
@inline const C_MAX_ROWS: usize = 11 * 4;
// @ts-ignore: decorator
@inline const C_ABORT: usize = 12 * 4;

// Step records: 16 i32 words: op, unit counter, 14 arguments.
// @ts-ignore: decorator
@inline const STEP_BYTES: usize = 64;
export const OP_GENERATE = 1;
export const OP_EMBED = 2;
export const OP_MATMUL = 3;
export const OP_ATTENTION = 4;
export const OP_OUTPUT = 5;
export const OP_COPY = 6;
export const OP_RMSNORM = 7;
export const OP_LINEAR = 8;
export const OP_ROPE = 9;
export const OP_ATTEND = 10;
export const OP_SILU_MUL = 11;

// Per-thread scratch: panel buffer (kc·32 B), partial tile (maxRows·32 B), row scales (maxRows·4 B),
// Feistel round tables (8 · 2^ceil(bits/2) u32). Offsets from the thread's scratch base.
let scratch: usize = 0;
let tileOff: usize = 0;
let rowScaleOff: usize = 0;
let tablesOff: usize = 0;

const RMS_EPSILON: f64 = 9.5367431640625e-7; // 2^-20
const GLOBAL_LAYER: u32 = 0xffffffff;
const INPUT_NOISE_ID: u32 = 10;

// @ts-ignore: decorator
@inline function arg(step: usize, i: usize): i32 {
  return load<i32>(step + 8 + (i << 2));
}
// @ts-ignore: decorator
@inline function argu(step: usize, i: usize): usize {
  return <usize>load<u32>(step + 8 + (i << 2));
}
// @ts-ignore: decorator
@inline function argf(step: usize, i: usize): f32 {
  return load<f32>(step + 8 + (i << 2));
}

/** Next unit range [start, start + chunk) of a step, or a start ≥ total when none is left. */
// @ts-ignore: decorator
@inline function grab(step: usize, chunk: i32): i32 {
  return atomic.add<i32>(step + 4, chunk);
}

function barrier(ctrl: usize, threads: i32): void {
  const gen = atomic.load<i32>(ctrl + C_BAR_GEN);
  if (atomic.add<i32>(ctrl + C_BAR_COUNT, 1) == threads - 1) {
    atomic.store<i32>(ctrl + C_BAR_COUNT, 0);
    atomic.add<i32>(ctrl + C_BAR_GEN, 1);
    atomic.notify(ctrl + C_BAR_GEN, threads);
    return;
  }
  for (let i = 0; i < 4000; i++) {
    if (atomic.load<i32>(ctrl + C_BAR_GEN) != gen) return;
  }
  while (atomic.load<i32>(ctrl + C_BAR_GEN) == gen) memory.atomic.wait32(ctrl + C_BAR_GEN, gen, -1);
}

export function run(ctrl: usize, tid: i32): void {
  const threads = load<i32>(ctrl + C_THREADS);
  const kc = load<i32>(ctrl + C_KC);
  const maxRows = <usize>load<i32>(ctrl + C_MAX_ROWS);
  scratch = <usize>load<u32>(ctrl + C_SCRATCH) + <usize>tid * <usize>load<u32>(ctrl + C_SCRATCH_STRIDE);
  tileOff = <usize>kc << 5;
  rowScaleOff = tileOff + (maxRows << 5);
  tablesOff = rowScaleOff + (maxRows << 2);
  const prog = <usize>load<u32>(ctrl + C_PROG);
  const steps = load<i32>(ctrl + C_STEPS);
  for (let i = 0; i < steps; i++) {
    const step = prog + <usize>i * STEP_BYTES;
    // An abort (set by the engine) skips the work of the remaining steps; the barriers still run.
    const op = atomic.load<i32>(ctrl + C_ABORT) ? 0 : load<i32>(step);
    if (op == OP_GENERATE) generate(step);
    else if (op == OP_EMBED) embed(step);
    else if (op == OP_MATMUL) matmul(step, kc);
    else if (op == OP_ATTENTION) attention(step);
    else if (op == OP_OUTPUT) output(step);
    else if (op == OP_COPY) copy(step);
    else if (op == OP_RMSNORM) rmsnorm(step);
    else if (op == OP_LINEAR) linear(step, kc);
    else if (op == OP_ROPE) rope(step);
    else if (op == OP_ATTEND) attend(step);
    else if (op == OP_SILU_MUL) silu(step);
    barrier(ctrl, threads);
  }
}

/**
 * GENERATE: codes q of one tensor (spec §4). args: k0, k1, id, layer, rows, cols, dst, packed (0:
 * row-major [rows][cols]; 1: panels of 8 rows as matmulPanels reads them), rowsPerUnit.
 * cols must be a multiple of 16 (one Philox block never straddles two rows).
 */
function generate(step: usize): void {
  const k0 = <u32>arg(step, 0), k1 = <u32>arg(step, 1);
  const id = <u32>arg(step, 2), layer = <u32>arg(step, 3);
  const rows = arg(step, 4), cols = arg(step, 5);
  const dst = argu(step, 6);
  const packed = arg(step, 7);
  const chunk = arg(step, 8);
  const blocksPerRow = cols >> 4;
  for (;;) {
    const r0 = grab(step, chunk);
    if (r0 >= rows) break;
    const r1 = min(rows, r0 + chunk);
    if (packed) {
      for (let r = r0; r < r1; r += 8) generatePanel(k0, k1, id, layer, r, blocksPerRow, dst + <usize>(r >> 3) * (<usize>cols << 3));
      continue;
    }
    for (let r = r0; r < r1; r++) {
      for (let b = 0; b < blocksPerRow; b++) {
        philox(<u32>(r * blocksPerRow + b), id, layer, 0, k0, k1);
        const o = dst + <usize>r * <usize>cols + (<usize>b << 4);
        store<u32>(o, p0);
        store<u32>(o, p1, 4);
        store<u32>(o, p2, 8);
        store<u32>(o, p3, 12);
      }
    }
  }
}

/**
 * One panel (rows r … r+7, r a multiple of 8) of a packed tensor: for each block b, the 8 rows'
 * Philox blocks (j = row·blocksPerRow + b) in two 4-lane batches, then byte q of word w of every
 * row gathered by shuffles into the 8-byte group of element 16b + 4w + q.
 */
function generatePanel(k0: u32, k1: u32, id: u32, layer: u32, r: i32, blocksPerRow: i32, panel: usize): void {
  const lanes = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(blocksPerRow));
  const cid = i32x4.splat(<i32>id);
  const clayer = i32x4.splat(<i32>layer);
  const zero = i32x4.splat(0);
  for (let b = 0; b < blocksPerRow; b++) {
    const j0 = i32x4.add(lanes, i32x4.splat(r * blocksPerRow + b));
    philox4(j0, cid, clayer, zero, k0, k1);
    const a0 = q0, a1 = q1, a2 = q2, a3 = q3;
    philox4(i32x4.add(j0, i32x4.splat(4 * blocksPerRow)), cid, clayer, zero, k0, k1);
    const o = panel + (<usize>b << 7); // 16 elements × 8 bytes
    storeWord(o, a0, q0);
    storeWord(o + 32, a1, q1);
    storeWord(o + 64, a2, q2);
    storeWord(o + 96, a3, q3);
  }
}

/** Word w of rows 0–3 (lo) and 4–7 (hi): elements 4w … 4w+3, 8 bytes (rows 0–7) each. */
// @ts-ignore: decorator
@inline function storeWord(o: usize, lo: v128, hi: v128): void {
  v128.store(o, v128.shuffle<u8>(lo, hi, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29));
  v128.store(o, v128.shuffle<u8>(lo, hi, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31), 16);
}

/**
 * EMBED: x_t = E[token_t] + P[t] (+ G[t], the nonce's input noise, spec §5–§6) for each sequence.
 * args: tokens (u32 [seqs][n]), noiseKeys (u32 [seqs][2] or 0), seqs, n, E (u8 [V][d]), P (u8 [T][d]), x, d.
 */
function embed(step: usize): void {
  const tokens = argu(step, 0), noiseKeys = argu(step, 1);
  const seqs = arg(step, 2), n = arg(step, 3);
  const tokEmb = argu(step, 4), posEmb = argu(step, 5);
  const x = argu(step, 6);
  const d = arg(step, 7);
  const scale: f32 = 1.0 / 256.0;
  for (;;) {
    const s = grab(step, 1);
    if (s >= seqs) break;
    for (let t = 0; t < n; t++) {
      const row = x + (<usize>(s * n + t) * <usize>d << 2);
      const tok = load<u32>(tokens + (<usize>(s * n + t) << 2));
      const e = tokEmb + <usize>tok * <usize>d;
      const pp = posEmb + <usize>t * <usize>d;
      for (let i = 0; i < d; i++) {
        const c = (<i32>load<u8>(e + i) << 1) - 255 + (<i32>load<u8>(pp + i) << 1) - 255;
        store<f32>(row + (<usize>i << 2), <f32>c);
      }
      if (noiseKeys) {
        const a0 = load<u32>(noiseKeys + (<usize>s << 3)), a1 = load<u32>(noiseKeys + (<usize>s << 3), 4);
        // elements t·d … t·d + d − 1 of G [T][d]: Philox blocks (t·d) >> 4 …
        const base = <u32>(t * d);
        for (let i = 0; i < d; i += 16) {
          philox((base + <u32>i) >> 4, INPUT_NOISE_ID, GLOBAL_LAYER, 0, a0, a1);
          addCodes(row + (<usize>i << 2), p0);
          addCodes(row + (<usize>i << 2) + 16, p1);
          addCodes(row + (<usize>i << 2) + 32, p2);
          addCodes(row + (<usize>i << 2) + 48, p3);
        }
      }
      for (let i = 0; i < d; i++) {
        const o = row + (<usize>i << 2);
        store<f32>(o, load<f32>(o) * scale);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function addCodes(o: usize, w: u32): void {
  for (let b = 0; b < 4; b++) {
    store<f32>(o, load<f32>(o) + <f32>(<i32>((w >>> (b << 3)) & 0xff) * 2 - 255));
    o += 4;
  }
}

/** Per-thread 1/√(mean(x²) + ε) of M rows of K floats (f64 sums). */
function rowScales(x: usize, ldx: usize, M: i32, K: i32, out: usize): void {
  for (let m = 0; m < M; m++) {
    const row = x + <usize>m * ldx;
    let s0: f64 = 0, s1: f64 = 0;
    for (let k = 0; k < K; k += 2) {
      const a = <f64>load<f32>(row + (<usize>k << 2));
      const b = <f64>load<f32>(row + (<usize>k << 2), 4);
      s0 += a * a;
      s1 += b * b;
    }
    store<f32>(out + (<usize>m << 2), <f32>(1.0 / Math.sqrt((s0 + s1) / <f64>K + RMS_EPSILON)));
  }
}

/**
 * MATMUL: args x, ldx (bytes), w (packed u8), y, ldy (bytes), M, K, N, scale (f32), norm (1: scale
 * row m by rmsnorm's factor of x row m, computed over K), mode, panelsPerUnit.
 */
function matmul(step: usize, kc: i32): void {
  const x = argu(step, 0), ldx = argu(step, 1), w = argu(step, 2), y = argu(step, 3), ldy = argu(step, 4);
  const M = arg(step, 5), K = arg(step, 6), N = arg(step, 7);
  const scale = argf(step, 8);
  const norm = arg(step, 9), mode = arg(step, 10), chunk = arg(step, 11);
  const panels = N >> 3;
  let rs: usize = 0;
  let first = true;
  for (;;) {
    const q = grab(step, chunk);
    if (q >= panels) break;
    if (first && norm) {
      rs = scratch + rowScaleOff;
      rowScales(x, ldx, M, K, rs);
    }
    first = false;
    matmulPanels(x, ldx, w, y, ldy, M, K, scale, rs, mode, q, min(panels, q + chunk), scratch, scratch + tileOff, kc);
  }
}

/**
 * ATTENTION (causal, spec §6): args qkv (rows [q | k | v], 3d floats), o ([rows][d]), seqs, n, d, heads.
 */
function attention(step: usize): void {
  const qkv = argu(step, 0), out = argu(step, 1);
  const seqs = arg(step, 2), n = arg(step, 3), d = arg(step, 4), heads = arg(step, 5);
  const dh = d / heads;
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>dh));
  const ld = <usize>(3 * d) << 2;
  const scores = scratch + tileOff; // n ≤ 64 floats, within the tile
  for (;;) {
    const s = grab(step, 1);
    if (s >= seqs) break;
    const rows = qkv + <usize>(s * n) * ld;
    for (let t = 0; t < n; t++) {
      const q = rows + <usize>t * ld;
      const o = out + (<usize>(s * n + t) * <usize>d << 2);
      for (let a = 0; a < heads; a++) {
        const off = <usize>(a * dh) << 2;
        let max: f32 = -Infinity;
        for (let u = 0; u <= t; u++) {
          const kr = rows + <usize>u * ld + (<usize>d << 2);
          let dot: f32 = 0;
          for (let i = 0; i < dh; i++) dot += load<f32>(q + off + (<usize>i << 2)) * load<f32>(kr + off + (<usize>i << 2));
          dot *= scale;
          store<f32>(scores + (<usize>u << 2), dot);
          if (dot > max) max = dot;
        }
        let sum: f32 = 0;
        for (let u = 0; u <= t; u++) {
          const e = Mathf.exp(load<f32>(scores + (<usize>u << 2)) - max);
          store<f32>(scores + (<usize>u << 2), e);
          sum += e;
        }
        const inv: f32 = 1.0 / sum;
        for (let i = 0; i < dh; i++) {
          let acc: f32 = 0;
          for (let u = 0; u <= t; u++) {
            const vr = rows + <usize>u * ld + (<usize>(2 * d) << 2);
            acc += load<f32>(scores + (<usize>u << 2)) * load<f32>(vr + off + (<usize>i << 2));
          }
          store<f32>(o + off + (<usize>i << 2), acc * inv);
        }
      }
    }
  }
}

/**
 * OUTPUT (spec §7, task version 2): per nonce, mean of the logits, 128-bit fingerprint (z_j > mean),
 * the 8 permutation keys from Philox keyed by the nonce's output key, the keyed Feistel permutation,
 * and d = √(2 − 2·cos) against τ, in f64. args: logits ([B][V] f32), B, vocabBits, tau (f64 [V]),
 * outKeys (u32 [B][2]), distances (f64 [B]), info (u32 [B][12]: fingerprint, keys).
 */
function output(step: usize): void {
  const logits = argu(step, 0);
  const B = arg(step, 1), bits = arg(step, 2);
  const tau = argu(step, 3), outKeys = argu(step, 4), dist = argu(step, 5), info = argu(step, 6);
  const V = 1 << bits;
  const bitsHi = bits >> 1, bitsLo = bits - bitsHi;
  const maskHi: u32 = (1 << bitsHi) - 1, maskLo: u32 = (1 << bitsLo) - 1;
  const tables = scratch + tablesOff;
  const tableStride = <usize>(1 << max(bitsHi, bitsLo)) << 2;
  for (;;) {
    const b = grab(step, 1);
    if (b >= B) break;
    const z = logits + (<usize>b * <usize>V << 2);
    let sum: f64 = 0;
    for (let i = 0; i < V; i++) sum += <f64>load<f32>(z + (<usize>i << 2));
    const mean = sum / <f64>V;
    const inf = info + <usize>b * 48;
    for (let wd = 0; wd < 4; wd++) {
      let f: u32 = 0;
      for (let j = 0; j < 32; j++) if (<f64>load<f32>(z + (<usize>(wd * 32 + j) << 2)) > mean) f |= (<u32>1) << j;
      store<u32>(inf + (<usize>wd << 2), f);
    }
    const b0 = load<u32>(outKeys + (<usize>b << 3)), b1 = load<u32>(outKeys + (<usize>b << 3), 4);
    for (let j: u32 = 0; j < 2; j++) {
      philox(load<u32>(inf), load<u32>(inf, 4), load<u32>(inf, 8), load<u32>(inf, 12), b0, b1 ^ j);
      const k = inf + 16 + (<usize>j << 4);
      store<u32>(k, p0);
      store<u32>(k, p1, 4);
      store<u32>(k, p2, 8);
      store<u32>(k, p3, 12);
    }
    // Round tables: even rounds map hi → lo bits, odd rounds lo → hi bits.
    for (let r = 0; r < 8; r++) {
      const key = load<u32>(inf + 16 + (<usize>r << 2));
      const tb = tables + <usize>r * tableStride;
      const even = (r & 1) == 0;
      const size = even ? 1 << bitsHi : 1 << bitsLo;
      const mask = even ? maskLo : maskHi;
      for (let v = 0; v < size; v++) store<u32>(tb + (<usize>v << 2), mix32(<u32>v ^ key) & mask);
    }
    let normSq: f64 = 0, dot: f64 = 0;
    for (let i = 0; i < V; i++) {
      let hi = <u32>i >>> bitsLo;
      let lo = <u32>i & maskLo;
      for (let r = 0; r < 8; r += 2) {
        lo ^= load<u32>(tables + <usize>r * tableStride + (<usize>hi << 2));
        hi ^= load<u32>(tables + <usize>(r + 1) * tableStride + (<usize>lo << 2));
      }
      const yv = <f64>load<f32>(z + (<usize>((hi << bitsLo) | lo) << 2)) - mean;
      normSq += yv * yv;
      dot += yv * load<f64>(tau + (<usize>i << 3));
    }
    let dd: f64 = 2;
    if (normSq != 0) dd = Math.sqrt(Math.max(0, 2 - 2 * (dot / Math.sqrt(normSq))));
    store<f64>(dist + (<usize>b << 3), dd);
  }
}

/** COPY: args src, dst, bytes (a multiple of 16), bytesPerUnit. */
function copy(step: usize): void {
  const src = argu(step, 0), dst = argu(step, 1);
  const bytes = arg(step, 2), chunk = arg(step, 3);
  for (;;) {
    const o = grab(step, chunk);
    if (o >= bytes) break;
    memory.copy(dst + <usize>o, src + <usize>o, <usize>min(chunk, bytes - o));
  }
}

// ── LLM decoder steps (assembly/cpu/llm.ts; programs from src/llm/cpu-model.ts) ───────────────────

/** RMSNORM: args x, ldx, y, ldy (bytes), rows, D, w (f32 [D]), eps (f32). One row per unit. */
function rmsnorm(step: usize): void {
  const x = argu(step, 0), ldx = argu(step, 1), y = argu(step, 2), ldy = argu(step, 3);
  const rows = arg(step, 4), D = arg(step, 5);
  const w = argu(step, 6);
  const eps = argf(step, 7);
  for (;;) {
    const r = grab(step, 1);
    if (r >= rows) break;
    rmsnormRow(x + <usize>r * ldx, y + <usize>r * ldy, D, w, eps);
  }
}

/** LINEAR: args x, ldx, w (panels), dtype, y, ldy, M, K, panels, bias (f32 or 0), mode, panelsPerUnit. */
function linear(step: usize, kc: i32): void {
  const x = argu(step, 0), ldx = argu(step, 1), w = argu(step, 2), dtype = arg(step, 3);
  const y = argu(step, 4), ldy = argu(step, 5);
  const M = arg(step, 6), K = arg(step, 7), panels = arg(step, 8);
  const bias = argu(step, 9), mode = arg(step, 10), chunk = arg(step, 11);
  for (;;) {
    const q = grab(step, chunk);
    if (q >= panels) break;
    linearPanels(x, ldx, w, dtype, y, ldy, M, K, bias, mode, q, min(panels, q + chunk), scratch, scratch + tileOff, kc);
  }
}

/** ROPE: args q, k, v, kc, vc, T, pos0, H, G, hd, rope, ldq, ldkv (bytes). One position per unit. */
function rope(step: usize): void {
  const q = argu(step, 0), k = argu(step, 1), v = argu(step, 2), kc = argu(step, 3), vc = argu(step, 4);
  const T = arg(step, 5), pos0 = arg(step, 6), H = arg(step, 7), G = arg(step, 8), hd = arg(step, 9);
  const table = argu(step, 10), ldq = argu(step, 11), ldkv = argu(step, 12);
  for (;;) {
    const t = grab(step, 1);
    if (t >= T) break;
    const o = <usize>t;
    ropeRow(q + o * ldq, k + o * ldkv, v + o * ldkv, kc, vc, pos0 + t, H, G, hd, table);
  }
}

/** ATTEND: args q, ldq, kc, vc, out, ldo, T, pos0, H, G, hd, scale (f32). One (position, head) per unit. */
function attend(step: usize): void {
  const q = argu(step, 0), ldq = argu(step, 1), kc = argu(step, 2), vc = argu(step, 3), out = argu(step, 4), ldo = argu(step, 5);
  const T = arg(step, 6), pos0 = arg(step, 7), H = arg(step, 8), G = arg(step, 9), hd = arg(step, 10);
  const scale = argf(step, 11);
  const group = H / G;
  const scores = scratch + tablesOff;
  for (;;) {
    const u = grab(step, 1);
    if (u >= T * H) break;
    const t = u / H, a = u - t * H;
    const head = <usize>(a * hd) << 2;
    attendHead(q + <usize>t * ldq + head, kc, vc, out + <usize>t * ldo + head, pos0 + t, a / group, G, hd, scale, scores);
  }
}

/** SILU_MUL: args gate, up, n, elementsPerUnit: gate = silu(gate) · up. */
function silu(step: usize): void {
  const gate = argu(step, 0), up = argu(step, 1);
  const n = arg(step, 2), chunk = arg(step, 3);
  for (;;) {
    const i = grab(step, chunk);
    if (i >= n) break;
    siluMul(gate, up, i, min(n, i + chunk));
  }
}
