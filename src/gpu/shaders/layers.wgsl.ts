/**
 * The non-matmul kernels of the forward pass (spec §6): embedding, RMSNorm, causal attention.
 * All work on row-major f32 activations with rows = sequences × positions.
 */
import { GLOBAL_LAYER, TensorId } from '../../sprint/weights.ts';
import { grid1d, linearIndex, weightLoader, type WeightFormat } from './common.wgsl.ts';
import { NONCE_KEY_WORDS } from './output.wgsl.ts';
import { PHILOX_WGSL } from './philox.wgsl.ts';

export const ELEMENTWISE_WORKGROUP = 64;

/**
 * x[m] = E[token_m] + P[t] (+ G_s[t] when `noiseScaleExponent` is given), t = m mod n,
 * s = m div n, for the rows whose token lies in this chunk of E (E may be split across bindings;
 * each row is written by exactly one chunk). G_s is sequence s's input noise (spec §5–§6, task
 * version 2): a [T, d] tensor generated like a weight tensor (Philox4x32-10, counter
 * (e >> 4, 10, 0xFFFFFFFF, 0), byte e & 3 of word (e >> 2) & 3, value (2q − 255)·2^−8) but with
 * the nonce's own key (a0, a1) = nonceKeys[4s], nonceKeys[4s + 1]. Each invocation computes the
 * Philox block of its 4 elements and keeps one word. Every term is a multiple of 2^−8 with a small
 * code, so the f32 sum is exact. Uniform: rows, d4, seqLen, rowStart, rowCount, scale (f32).
 */
export const embedKernel = (format: WeightFormat, noiseScaleExponent: number | null): string => {
  const noise = noiseScaleExponent !== null;
  return /* wgsl */ `
${noise ? PHILOX_WGSL : ''}
struct Params { rows: u32, d4: u32, seqLen: u32, rowStart: u32, rowCount: u32, scale: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read> P: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<vec4<f32>>;
${noise ? '@group(0) @binding(5) var<storage, read> nonceKeys: array<u32>;' : ''}
${weightLoader(format)}
${weightLoader(format, 'P').replace('loadW4', 'loadP4')}
@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE_WORKGROUP)};
  if (i >= p.rows * p.d4) { return; }
  let m = i / p.d4;
  let c = i % p.d4;
  let token = tokens[m];
  if (token < p.rowStart || token >= p.rowStart + p.rowCount) { return; }
  let t = m % p.seqLen;
  var v = (loadW4((token - p.rowStart) * p.d4 + c) + loadP4(t * p.d4 + c)) * p.scale;${
    noise
      ? `
  let s = m / p.seqLen;
  let w = t * p.d4 + c; // G's word holding elements 4w … 4w+3
  let block = philox4x32(vec4<u32>(w >> 2u, ${TensorId.inputNoise}u, ${GLOBAL_LAYER >>> 0}u, 0u), vec2<u32>(nonceKeys[${NONCE_KEY_WORDS}u * s], nonceKeys[${NONCE_KEY_WORDS}u * s + 1u]));
  let q = (vec4<u32>(block[w & 3u]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u);
  v += fma(vec4<f32>(q), vec4<f32>(2.0), vec4<f32>(-255.0)) * ${2 ** -(noiseScaleExponent ?? 0)};`
      : ''
  }
  x[i] = v;
}
`;
};

/**
 * out[r] = rmsnorm(x[r·inStride + inOffset]), ε = 2^−20, one invocation per row (rows are short,
 * and a barrier-free kernel is what CPU adapters run fastest). Uniform: rows, d4, inStride, inOffset.
 */
export const rmsnormKernel = (): string => /* wgsl */ `
struct Params { rows: u32, d4: u32, inStride: u32, inOffset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(ELEMENTWISE_WORKGROUP)};
  if (r >= p.rows) { return; }
  let src = (r * p.inStride + p.inOffset) * p.d4;
  var sum = vec4<f32>(0.0);
  for (var c = 0u; c < p.d4; c++) {
    let v = x[src + c];
    sum = fma(v, v, sum);
  }
  let inv = inverseSqrt(dot(sum, vec4<f32>(1.0)) / f32(p.d4 * 4u) + ${2 ** -20});
  for (var c = 0u; c < p.d4; c++) {
    out[r * p.d4 + c] = x[src + c] * inv;
  }
}
`;

/**
 * Causal attention per (row, head) with an online softmax over the positions u ≤ t of the same
 * sequence. qkv rows are [q | k | v] (3d wide). Works for any sequence length.
 * Uniform: rows, heads, seqLen, d.
 */
export const attentionKernel = (headDim: number): string => {
  const dh4 = headDim / 4;
  return /* wgsl */ `
struct Params { rows: u32, heads: u32, seqLen: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(ELEMENTWISE_WORKGROUP)};
  if (i >= p.rows * p.heads) { return; }
  let m = i / p.heads;
  let a = i % p.heads;
  let t = m % p.seqLen;
  let first = m - t;
  let d4 = p.d / 4u;
  let row4 = 3u * d4;
  let q = m * row4 + a * ${dh4}u;
  var best = -3.4e38;
  var total = 0.0;
  var acc: array<vec4<f32>, ${dh4}>;
  for (var u = first; u <= m; u++) {
    let k = u * row4 + d4 + a * ${dh4}u;
    var s = 0.0;
    for (var c = 0u; c < ${dh4}u; c++) { s += dot(qkv[q + c], qkv[k + c]); }
    s *= ${1 / Math.sqrt(headDim)};
    let next = max(best, s);
    let shrink = exp(best - next);
    let weight = exp(s - next);
    total = total * shrink + weight;
    let v = u * row4 + 2u * d4 + a * ${dh4}u;
    for (var c = 0u; c < ${dh4}u; c++) { acc[c] = acc[c] * shrink + qkv[v + c] * weight; }
    best = next;
  }
  for (var c = 0u; c < ${dh4}u; c++) { out[m * d4 + a * ${dh4}u + c] = acc[c] / total; }
}
`;
};

export const elementwiseGrid = (count: number, maxPerDim: number): [number, number, number] => grid1d(count, ELEMENTWISE_WORKGROUP, maxPerDim);
