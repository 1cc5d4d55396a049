/**
 * Output stage (spec §7), fused: per nonce, permute the logits with the keyed Feistel network,
 * centre them, and return d = √(2 − 2·ŷ·τ); only d leaves the GPU. τ (the target unit vector,
 * f32) is uploaded once per Sprint. Two forms:
 * - 'workgroup': one workgroup per nonce, tree reductions in workgroup memory (GPUs);
 * - 'serial': one invocation per nonce, no barriers (CPU adapters, where barriers are slow:
 *   on SwiftShader it made the tiny model's pass 3× faster).
 */
export type OutputMode = 'workgroup' | 'serial';

export const OUTPUT_WORKGROUP = 256;
export const OUTPUT_SERIAL_WORKGROUP = 64;

export const outputGrid = (mode: OutputMode, nonces: number): [number, number, number] =>
  mode === 'workgroup' ? [nonces, 1, 1] : [Math.ceil(nonces / OUTPUT_SERIAL_WORKGROUP), 1, 1];

function common(vocabBits: number): string {
  const bh = vocabBits >> 1;
  const bl = vocabBits - bh;
  return /* wgsl */ `
struct Params { nonces: u32, vocab: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> keys: array<u32>;
@group(0) @binding(3) var<storage, read> tau: array<f32>;
@group(0) @binding(4) var<storage, read_write> distances: array<f32>;

fn mix32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn permute(i: u32, base: u32) -> u32 {
  var hi = i >> ${bl}u;
  var lo = i & ${(1 << bl) - 1}u;
  for (var r = 0u; r < 8u; r++) {
    if ((r & 1u) == 0u) { lo ^= mix32(hi ^ keys[base + r]) & ${(1 << bl) - 1}u; }
    else { hi ^= mix32(lo ^ keys[base + r]) & ${(1 << bh) - 1}u; }
  }
  return (hi << ${bl}u) | lo;
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
  let base = b * 8u;
  var sum = 0.0;
  for (var i = li; i < p.vocab; i += ${OUTPUT_WORKGROUP}u) { sum += logits[row + permute(i, base)]; }
  partA[li] = sum;
  partB[li] = 0.0;
  reduce(li);
  let mean = partA[0] / f32(p.vocab);
  workgroupBarrier();
  var squares = 0.0;
  var dotTau = 0.0;
  for (var i = li; i < p.vocab; i += ${OUTPUT_WORKGROUP}u) {
    let y = logits[row + permute(i, base)] - mean;
    squares = fma(y, y, squares);
    dotTau = fma(y, tau[i], dotTau);
  }
  partA[li] = squares;
  partB[li] = dotTau;
  reduce(li);
  if (li == 0u) { distances[b] = distance(partA[0], partB[0]); }
}
`;

// The mean is permutation-invariant, so it is summed in logit order; 4 partial sums keep the
// f32 rounding of long sums small.
const serialKernel = (vocabBits: number): string => /* wgsl */ `
${common(vocabBits)}
@compute @workgroup_size(${OUTPUT_SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= p.nonces) { return; }
  let row = b * p.vocab;
  let base = b * 8u;
  var sum = vec4<f32>(0.0);
  for (var i = 0u; i < p.vocab; i += 4u) {
    sum += vec4<f32>(logits[row + i], logits[row + i + 1u], logits[row + i + 2u], logits[row + i + 3u]);
  }
  let mean = dot(sum, vec4<f32>(1.0)) / f32(p.vocab);
  var squares = vec4<f32>(0.0);
  var dotTau = vec4<f32>(0.0);
  for (var i = 0u; i < p.vocab; i += 4u) {
    let y = vec4<f32>(logits[row + permute(i, base)], logits[row + permute(i + 1u, base)], logits[row + permute(i + 2u, base)], logits[row + permute(i + 3u, base)]) - mean;
    squares = fma(y, y, squares);
    dotTau = fma(y, vec4<f32>(tau[i], tau[i + 1u], tau[i + 2u], tau[i + 3u]), dotTau);
  }
  distances[b] = distance(dot(squares, vec4<f32>(1.0)), dot(dotTau, vec4<f32>(1.0)));
}
`;

export const outputKernel = (vocabBits: number, mode: OutputMode): string =>
  mode === 'workgroup' ? workgroupKernel(vocabBits) : serialKernel(vocabBits);
