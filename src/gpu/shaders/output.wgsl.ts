/**
 * Output stage (spec §7, task version 2), fused: per nonce, the mean of the logits, the 128-bit
 * fingerprint f (bit j: z_j > mean, j < 128), the 8 permutation keys
 * key_{4j..4j+3} = Philox4x32-10(counter = f, key = (b0, b1 ^ j)), j = 0, 1, with the nonce's output
 * key (b0, b1); then the keyed Feistel permutation of the logits, centring, and
 * d = √(2 − 2·ŷ·τ). Only d leaves the GPU in a Sprint; f and the keys are also written to `info`
 * (12 words per nonce: f0..f3, key0..key7) for validation and debugging. τ (the target unit vector,
 * f32) is uploaded once per Sprint. One f32 mean serves the fingerprint and the centring.
 * `distances` holds 2 floats per pass slot: d at [b], and at [nonces + b] the fingerprint margin
 * min_{j<128} |z_j − mean|, how close the nearest fingerprint bit came to flipping (the f16
 * screen confirms in f32 every nonce whose margin is within its precision, src/gpu/screen.ts). Two forms:
 * - 'workgroup': one workgroup per nonce, tree reductions in workgroup memory, fingerprint bits
 *   set by 128 invocations with workgroup atomics, keys by two invocations (GPUs);
 * - 'serial': one invocation per nonce, no barriers (CPU adapters, where barriers are slow:
 *   on SwiftShader it made the tiny model's pass 3× faster).
 */
import { PHILOX_WGSL } from './philox.wgsl.ts';

export type OutputMode = 'workgroup' | 'serial';

export const OUTPUT_WORKGROUP = 256;
export const OUTPUT_SERIAL_WORKGROUP = 64;
/** Words per nonce in the `info` buffer: fingerprint f0..f3, then the 8 permutation keys. */
export const OUTPUT_INFO_WORDS = 12;
/** Words per nonce of the per-nonce key buffer: input-noise key (a0, a1), output key (b0, b1). */
export const NONCE_KEY_WORDS = 4;

export const outputGrid = (mode: OutputMode, nonces: number): [number, number, number] =>
  mode === 'workgroup' ? [nonces, 1, 1] : [Math.ceil(nonces / OUTPUT_SERIAL_WORKGROUP), 1, 1];

function common(vocabBits: number): string {
  const bh = vocabBits >> 1;
  const bl = vocabBits - bh;
  const maskLo = `${(1 << bl) - 1}u`;
  const maskHi = `${(1 << bh) - 1}u`;
  // Rounds unrolled so the keys are indexed by constants (a value array may not be indexed dynamically).
  const rounds = Array.from({ length: 8 }, (_, r) =>
    r % 2 === 0 ? `  lo ^= mix32(hi ^ k[${r}]) & ${maskLo};` : `  hi ^= mix32(lo ^ k[${r}]) & ${maskHi};`,
  ).join('\n');
  return /* wgsl */ `
${PHILOX_WGSL}
struct Params { nonces: u32, vocab: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> nonceKeys: array<u32>;
@group(0) @binding(3) var<storage, read> tau: array<f32>;
@group(0) @binding(4) var<storage, read_write> distances: array<f32>;
@group(0) @binding(5) var<storage, read_write> info: array<u32>;

fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn permute(i: u32, k: array<u32, 8>) -> u32 {
  var hi = i >> ${bl}u;
  var lo = i & ${maskLo};
${rounds}
  return (hi << ${bl}u) | lo;
}

// Keys 4j … 4j+3 of nonce b: Philox4x32-10(counter = fingerprint, key = (b0, b1 ^ j)).
fn keyBlock(b: u32, fp: vec4<u32>, j: u32) -> vec4<u32> {
  return philox4x32(fp, vec2<u32>(nonceKeys[b * ${NONCE_KEY_WORDS}u + 2u], nonceKeys[b * ${NONCE_KEY_WORDS}u + 3u] ^ j));
}

// A constant output has no direction: d = 2, as far as possible, never appropriate (as the reference).
fn distance(squares: f32, dotTau: f32) -> f32 {
  let norm = sqrt(squares);
  return select(sqrt(max(0.0, 2.0 - 2.0 * dotTau / norm)), 2.0, norm == 0.0);
}
`;
}

const workgroupKernel = (vocabBits: number): string => /* wgsl */ `
${common(vocabBits)}
var<workgroup> partA: array<f32, ${OUTPUT_WORKGROUP}>;
var<workgroup> partB: array<f32, ${OUTPUT_WORKGROUP}>;
var<workgroup> fpBits: array<atomic<u32>, 4>;
// |z_j − mean| ≥ 0 as u32 bits: for non-negative floats the integer order is the float order.
var<workgroup> fpMargin: atomic<u32>;
var<workgroup> keyWords: array<u32, 8>;

fn reduce(li: u32) {
  for (var stride = ${OUTPUT_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (li < stride) {
      partA[li] += partA[li + stride];
      partB[li] += partB[li + stride];
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(${OUTPUT_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = wid.x;
  let row = b * p.vocab;
  if (li < 4u) { atomicStore(&fpBits[li], 0u); }
  if (li == 0u) { atomicStore(&fpMargin, 0x7f800000u); }
  // The mean is permutation-invariant: summed in logit order (the permutation is not known yet).
  var sum = 0.0;
  for (var i = li; i < p.vocab; i += ${OUTPUT_WORKGROUP}u) { sum += logits[row + i]; }
  partA[li] = sum;
  partB[li] = 0.0;
  reduce(li);
  let mean = partA[0] / f32(p.vocab);
  if (li < 128u) {
    let z = logits[row + li];
    if (z > mean) { atomicOr(&fpBits[li >> 5u], 1u << (li & 31u)); }
    atomicMin(&fpMargin, bitcast<u32>(abs(z - mean)));
  }
  workgroupBarrier();
  if (li == 0u) { distances[p.nonces + b] = bitcast<f32>(atomicLoad(&fpMargin)); }
  if (li < 2u) {
    let fp = vec4<u32>(atomicLoad(&fpBits[0]), atomicLoad(&fpBits[1]), atomicLoad(&fpBits[2]), atomicLoad(&fpBits[3]));
    let k = keyBlock(b, fp, li);
    let o = b * ${OUTPUT_INFO_WORDS}u;
    for (var w = 0u; w < 4u; w++) {
      keyWords[4u * li + w] = k[w];
      info[o + 4u + 4u * li + w] = k[w];
      if (li == 0u) { info[o + w] = fp[w]; }
    }
  }
  workgroupBarrier();
  let keys = array<u32, 8>(keyWords[0], keyWords[1], keyWords[2], keyWords[3], keyWords[4], keyWords[5], keyWords[6], keyWords[7]);
  var squares = 0.0;
  var dotTau = 0.0;
  for (var i = li; i < p.vocab; i += ${OUTPUT_WORKGROUP}u) {
    let y = logits[row + permute(i, keys)] - mean;
    squares = fma(y, y, squares);
    dotTau = fma(y, tau[i], dotTau);
  }
  partA[li] = squares;
  partB[li] = dotTau;
  reduce(li);
  if (li == 0u) { distances[b] = distance(partA[0], partB[0]); }
}
`;

// The mean is summed in logit order with 4 partial sums (keeps the f32 rounding of long sums small).
const serialKernel = (vocabBits: number): string => /* wgsl */ `
${common(vocabBits)}
@compute @workgroup_size(${OUTPUT_SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= p.nonces) { return; }
  let row = b * p.vocab;
  var sum = vec4<f32>(0.0);
  for (var i = 0u; i < p.vocab; i += 4u) {
    sum += vec4<f32>(logits[row + i], logits[row + i + 1u], logits[row + i + 2u], logits[row + i + 3u]);
  }
  let mean = dot(sum, vec4<f32>(1.0)) / f32(p.vocab);
  var fp = vec4<u32>(0u);
  var margin = 3.0e38;
  for (var w = 0u; w < 4u; w++) {
    var bits = 0u;
    for (var j = 0u; j < 32u; j++) {
      let z = logits[row + 32u * w + j];
      bits |= select(0u, 1u << j, z > mean);
      margin = min(margin, abs(z - mean));
    }
    fp[w] = bits;
  }
  distances[p.nonces + b] = margin;
  let k0 = keyBlock(b, fp, 0u);
  let k1 = keyBlock(b, fp, 1u);
  let keys = array<u32, 8>(k0.x, k0.y, k0.z, k0.w, k1.x, k1.y, k1.z, k1.w);
  let o = b * ${OUTPUT_INFO_WORDS}u;
  for (var w = 0u; w < 4u; w++) {
    info[o + w] = fp[w];
    info[o + 4u + w] = k0[w];
    info[o + 8u + w] = k1[w];
  }
  var squares = vec4<f32>(0.0);
  var dotTau = vec4<f32>(0.0);
  for (var i = 0u; i < p.vocab; i += 4u) {
    let y = vec4<f32>(logits[row + permute(i, keys)], logits[row + permute(i + 1u, keys)], logits[row + permute(i + 2u, keys)], logits[row + permute(i + 3u, keys)]) - mean;
    squares = fma(y, y, squares);
    dotTau = fma(y, vec4<f32>(tau[i], tau[i + 1u], tau[i + 2u], tau[i + 3u]), dotTau);
  }
  distances[b] = distance(dot(squares, vec4<f32>(1.0)), dot(dotTau, vec4<f32>(1.0)));
}
`;

export const outputKernel = (vocabBits: number, mode: OutputMode): string => (mode === 'workgroup' ? workgroupKernel(vocabBits) : serialKernel(vocabBits));
