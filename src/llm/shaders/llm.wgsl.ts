/**
 * WGSL templates of the decoder, in src/gpu's style (typed TS functions that return WGSL; the
 * pipeline cache key is built from the same parameters). Activations are f32; weights stay in the
 * checkpoint's dtype in GPU memory and are widened on load:
 * - F32:  array<vec4<f32>>
 * - F16:  array<vec2<u32>>, two halves per word, `unpack2x16float` (core WGSL: no shader-f16 needed)
 * - BF16: array<vec2<u32>>, the top half of an f32: `bitcast<f32>(w << 16)` / `w & 0xffff0000`
 * Every kernel reads the per-forward uniform `dyn` (rows T, first position pos0) so that bind groups
 * are built once and a forward is one writeBuffer plus one submit.
 */
import { grid1d, linearIndex } from '../../gpu/shaders/common.wgsl.ts';
import type { FloatDType } from '../dtype.ts';

export const ELEMENTWISE = 64;

export const DYN_STRUCT = 'struct Dyn { rows: u32, pos0: u32, pad0: u32, pad1: u32 }';

/** Binding type of a weight tensor in `dtype`. */
export const weightArray = (dtype: FloatDType): string => (dtype === 'F32' ? 'array<vec4<f32>>' : 'array<vec2<u32>>');

/** `fnName(i)`: elements 4i … 4i+3 of binding `binding` as vec4<f32>. */
export function loader(dtype: FloatDType, binding: string, fnName: string): string {
  if (dtype === 'F32') return `fn ${fnName}(i: u32) -> vec4<f32> { return ${binding}[i]; }`;
  if (dtype === 'F16') return `fn ${fnName}(i: u32) -> vec4<f32> { let w = ${binding}[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }`;
  return `fn ${fnName}(i: u32) -> vec4<f32> {
  let w = ${binding}[i];
  return vec4<f32>(bitcast<f32>(w.x << 16u), bitcast<f32>(w.x & 0xffff0000u), bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));
}`;
}

export const elementwiseGrid = (count: number, maxPerDim: number): [number, number, number] => grid1d(count, ELEMENTWISE, maxPerDim);

/**
 * x[t] = E[token_t] for the tokens in this chunk of E's rows [rowStart, rowStart + rowCount).
 * Uniform: d4, rowStart, rowCount.
 */
export const embedKernel = (dtype: FloatDType): string => /* wgsl */ `
${DYN_STRUCT}
struct Params { d4: u32, rowStart: u32, rowCount: u32, pad: u32 }
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read> E: ${weightArray(dtype)};
@group(0) @binding(4) var<storage, read_write> x: array<vec4<f32>>;
${loader(dtype, 'E', 'loadE')}
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE)};
  if (i >= dyn.rows * p.d4) { return; }
  let t = i / p.d4;
  let c = i % p.d4;
  let token = tokens[t];
  if (token < p.rowStart || token >= p.rowStart + p.rowCount) { return; }
  x[i] = loadE((token - p.rowStart) * p.d4 + c);
}
`;

/**
 * out[r] = x[src(r)] / √(mean x² + ε) · w. src(r) = r, or the last row (dyn.rows − 1) when
 * `lastOnly` (the LM head of generation). `threads` = 1: one invocation per row, no barriers (what
 * CPU adapters run fastest); 64: one workgroup per row with a tree reduction (GPUs).
 * Uniform: d4, eps (f32), lastOnly.
 */
export const rmsnormKernel = (dtype: FloatDType, threads: 1 | 64): string => {
  const head = /* wgsl */ `
${DYN_STRUCT}
struct Params { d4: u32, eps: f32, lastOnly: u32, pad: u32 }
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> W: ${weightArray(dtype)};
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
${loader(dtype, 'W', 'loadW')}
`;
  if (threads === 1) {
    return /* wgsl */ `${head}
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(ELEMENTWISE)};
  let rows = select(dyn.rows, 1u, p.lastOnly != 0u);
  if (r >= rows) { return; }
  let src = select(r, dyn.rows - 1u, p.lastOnly != 0u) * p.d4;
  var sum = vec4<f32>(0.0);
  for (var c = 0u; c < p.d4; c++) { let v = x[src + c]; sum = fma(v, v, sum); }
  let inv = inverseSqrt(dot(sum, vec4<f32>(1.0)) / f32(p.d4 * 4u) + p.eps);
  for (var c = 0u; c < p.d4; c++) { out[r * p.d4 + c] = x[src + c] * inv * loadW(c); }
}
`;
  }
  return /* wgsl */ `${head}
var<workgroup> partial: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = wid.x;
  let rows = select(dyn.rows, 1u, p.lastOnly != 0u);
  if (r >= rows) { return; }
  let src = select(r, dyn.rows - 1u, p.lastOnly != 0u) * p.d4;
  var sum = vec4<f32>(0.0);
  for (var c = li; c < p.d4; c += 64u) { let v = x[src + c]; sum = fma(v, v, sum); }
  partial[li] = dot(sum, vec4<f32>(1.0));
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(p.d4 * 4u) + p.eps);
  for (var c = li; c < p.d4; c += 64u) { out[r * p.d4 + c] = x[src + c] * inv * loadW(c); }
}
`;
};

/**
 * Y[M, ldY] (cols colOffset …) = X[M, K]·W[N, K]ᵀ (+ bias[biasOffset + n]) (+ Y).
 * M is dyn.rows, or 1 when the uniform's `mOne` is set (the head on the last row).
 * 'direct': each invocation a tileM × tileN block, vec4 loads, no barriers (CPU adapters).
 * 'gemv': one workgroup of 64 invocations per tileN output columns, splitting K across
 * invocations (coalesced weight reads) with a tree reduction; rows M looped (decode, GPUs).
 */
export interface LinearVariant {
  readonly kind: 'direct' | 'gemv';
  readonly tileM: number;
  readonly tileN: number;
}

export interface LinearEpilogue {
  readonly bias: FloatDType | null;
  readonly residual: boolean;
}

export const linearKey = (dtype: FloatDType, v: LinearVariant, e: LinearEpilogue): string =>
  `llm-linear:${v.kind}:${v.tileM}x${v.tileN}:${dtype}:${e.bias ? `bias-${e.bias}` : 'nobias'}:${e.residual ? 'res' : 'set'}`;

/** Uniform words: N, K, ldY, colOffset, biasOffset, mOne. */
export const linearUniform = (N: number, K: number, ldY: number, colOffset: number, biasOffset: number, mOne: boolean): number[] => [
  N,
  K,
  ldY,
  colOffset,
  biasOffset,
  mOne ? 1 : 0,
];

export function linearGrid(v: LinearVariant, M: number, N: number, maxPerDim: number): [number, number, number] {
  if (v.kind === 'gemv') {
    const groups = Math.ceil(N / v.tileN);
    return groups <= maxPerDim ? [groups, 1, 1] : [Math.ceil(groups / Math.ceil(groups / maxPerDim)), Math.ceil(groups / maxPerDim), 1];
  }
  return grid1d(Math.ceil(M / v.tileM) * Math.ceil(N / v.tileN), ELEMENTWISE, maxPerDim);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function linearKernel(dtype: FloatDType, v: LinearVariant, e: LinearEpilogue): string {
  const head = /* wgsl */ `
${DYN_STRUCT}
struct Params { N: u32, K: u32, ldY: u32, colOffset: u32, biasOffset: u32, mOne: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> W: ${weightArray(dtype)};
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${e.bias ? `@group(0) @binding(5) var<storage, read> B: ${weightArray(e.bias)};\n${loader(e.bias, 'B', 'loadB4')}\nfn loadB(i: u32) -> f32 { return loadB4(i / 4u)[i % 4u]; }` : ''}
${loader(dtype, 'W', 'loadW')}
fn store(m: u32, n: u32, value: f32) {
  let o = m * p.ldY + p.colOffset + n;
  Y[o] = ${e.residual ? 'Y[o] + ' : ''}value${e.bias ? ' + loadB(p.biasOffset + n)' : ''};
}
`;
  if (v.kind === 'direct') {
    const { tileM, tileN } = v;
    return /* wgsl */ `${head}
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let M = select(dyn.rows, 1u, p.mOne != 0u);
  let tile = ${linearIndex(ELEMENTWISE)};
  let tilesN = (p.N + ${tileN - 1}u) / ${tileN}u;
  let tilesM = (M + ${tileM - 1}u) / ${tileM}u;
  if (tile >= tilesN * tilesM) { return; }
  let n0 = (tile % tilesN) * ${tileN}u;
  let m0 = (tile / tilesN) * ${tileM}u;
  let K4 = p.K / 4u;
${range(tileM)
  .map((i) => `  let xRow${i} = min(m0 + ${i}u, M - 1u) * K4;`)
  .join('\n')}
${range(tileN)
  .map((j) => `  let wRow${j} = min(n0 + ${j}u, p.N - 1u) * K4;`)
  .join('\n')}
${range(tileM)
  .flatMap((i) => range(tileN).map((j) => `  var acc_${i}_${j} = vec4<f32>(0.0);`))
  .join('\n')}
  for (var k = 0u; k < K4; k++) {
${range(tileM)
  .map((i) => `    let x${i} = X[xRow${i} + k];`)
  .join('\n')}
${range(tileN)
  .map((j) => `    let w${j} = loadW(wRow${j} + k);`)
  .join('\n')}
${range(tileM)
  .flatMap((i) => range(tileN).map((j) => `    acc_${i}_${j} = fma(x${i}, w${j}, acc_${i}_${j});`))
  .join('\n')}
  }
${range(tileM)
  .flatMap((i) => range(tileN).map((j) => `  if (m0 + ${i}u < M && n0 + ${j}u < p.N) { store(m0 + ${i}u, n0 + ${j}u, dot(acc_${i}_${j}, vec4<f32>(1.0))); }`))
  .join('\n')}
}
`;
  }
  const { tileN } = v;
  return /* wgsl */ `${head}
var<workgroup> partial: array<vec4<f32>, ${64 * Math.ceil(tileN / 4)}>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = select(dyn.rows, 1u, p.mOne != 0u);
  let n0 = (wid.x + wid.y * nwg.x) * ${tileN}u;
  if (n0 >= p.N) { return; }
  let K4 = p.K / 4u;
  for (var m = 0u; m < M; m++) {
${range(tileN)
  .map((j) => `    var acc${j} = vec4<f32>(0.0);`)
  .join('\n')}
${range(tileN)
  .map((j) => `    let wRow${j} = min(n0 + ${j}u, p.N - 1u) * K4;`)
  .join('\n')}
    for (var k = li; k < K4; k += 64u) {
      let x = X[m * K4 + k];
${range(tileN)
  .map((j) => `      acc${j} = fma(x, loadW(wRow${j} + k), acc${j});`)
  .join('\n')}
    }
${range(Math.ceil(tileN / 4))
  .map(
    (q) =>
      `    partial[li * ${Math.ceil(tileN / 4)}u + ${q}u] = vec4<f32>(${range(4)
        .map((r) => (q * 4 + r < tileN ? `dot(acc${q * 4 + r}, vec4<f32>(1.0))` : '0.0'))
        .join(', ')});`,
  )
  .join('\n')}
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
      if (li < s) {
${range(Math.ceil(tileN / 4))
  .map((q) => `        partial[li * ${Math.ceil(tileN / 4)}u + ${q}u] += partial[(li + s) * ${Math.ceil(tileN / 4)}u + ${q}u];`)
  .join('\n')}
      }
      workgroupBarrier();
    }
    if (li < ${tileN}u && n0 + li < p.N) {
      store(m, n0 + li, partial[li / 4u][li % 4u]);
    }
    workgroupBarrier();
  }
}
`;
}

/**
 * RoPE and the KV cache write, one invocation per (row t, head slot): slots < H rotate q in place;
 * slots H … H+G−1 rotate k and store it, with v, at cache position pos0 + t.
 * rope: [positions, headDim] f32, cos in the first half of a row and sin in the second.
 * Uniform: H, G, cacheRowsOffset (unused: 0).
 */
export const ropeCacheKernel = (headDim: number, H: number, G: number): string => {
  const half = headDim / 2;
  return /* wgsl */ `
${DYN_STRUCT}
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<storage, read> rope: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(6) var<storage, read_write> vCache: array<f32>;
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE)};
  if (i >= dyn.rows * ${H + G}u) { return; }
  let t = i / ${H + G}u;
  let slot = i % ${H + G}u;
  let pos = dyn.pos0 + t;
  let r = pos * ${headDim}u;
  if (slot < ${H}u) {
    let o = t * ${H * headDim}u + slot * ${headDim}u;
    for (var j = 0u; j < ${half}u; j++) {
      let c = rope[r + j];
      let s = rope[r + ${half}u + j];
      let a = q[o + j];
      let b = q[o + ${half}u + j];
      q[o + j] = a * c - b * s;
      q[o + ${half}u + j] = b * c + a * s;
    }
  } else {
    let g = slot - ${H}u;
    let o = t * ${G * headDim}u + g * ${headDim}u;
    let dst = pos * ${G * headDim}u + g * ${headDim}u;
    for (var j = 0u; j < ${half}u; j++) {
      let c = rope[r + j];
      let s = rope[r + ${half}u + j];
      let a = k[o + j];
      let b = k[o + ${half}u + j];
      kCache[dst + j] = a * c - b * s;
      kCache[dst + ${half}u + j] = b * c + a * s;
      vCache[dst + j] = v[o + j];
      vCache[dst + ${half}u + j] = v[o + ${half}u + j];
    }
  }
}
`;
};

/**
 * Causal grouped-query attention over the KV cache, one invocation per (row t, head a): query
 * head a reads kv head a / (H / G), positions 0 … pos0 + t, online softmax.
 */
export const attentionKernel = (headDim: number, H: number, G: number): string => {
  const dh4 = headDim / 4;
  return /* wgsl */ `
${DYN_STRUCT}
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kCache: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> vCache: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE)};
  if (i >= dyn.rows * ${H}u) { return; }
  let t = i / ${H}u;
  let a = i % ${H}u;
  let g = a / ${H / G}u;
  let last = dyn.pos0 + t;
  let qo = t * ${H * dh4}u + a * ${dh4}u;
  var qv: array<vec4<f32>, ${dh4}>;
  for (var c = 0u; c < ${dh4}u; c++) { qv[c] = q[qo + c] * ${1 / Math.sqrt(headDim)}; }
  var best = -3.4e38;
  var total = 0.0;
  var acc: array<vec4<f32>, ${dh4}>;
  for (var u = 0u; u <= last; u++) {
    let ko = u * ${G * dh4}u + g * ${dh4}u;
    var s = 0.0;
    for (var c = 0u; c < ${dh4}u; c++) { s += dot(qv[c], kCache[ko + c]); }
    let next = max(best, s);
    let shrink = exp(best - next);
    let weight = exp(s - next);
    total = total * shrink + weight;
    for (var c = 0u; c < ${dh4}u; c++) { acc[c] = acc[c] * shrink + vCache[ko + c] * weight; }
    best = next;
  }
  for (var c = 0u; c < ${dh4}u; c++) { out[qo + c] = acc[c] / total; }
}
`;
};

/** act[t, f] = silu(gate[t, f]) · up[t, f], over rows × F/4 vec4s. Uniform: f4. */
export const siluMulKernel = (): string => /* wgsl */ `
${DYN_STRUCT}
struct Params { f4: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> act: array<vec4<f32>>;
@compute @workgroup_size(${ELEMENTWISE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE)};
  if (i >= dyn.rows * p.f4) { return; }
  let g = gate[i];
  act[i] = g / (vec4<f32>(1.0) + exp(-g)) * up[i];
}
`;
