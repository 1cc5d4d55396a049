/**
 * Output stage (spec §7), fused: per nonce, permute the logits with the keyed Feistel network,
 * centre them, and return d = √(2 − 2·ŷ·τ). One workgroup per nonce; only d leaves the GPU.
 * τ (the target unit vector, f32) is uploaded once per Sprint.
 */
export const OUTPUT_WORKGROUP = 256;

export const outputKernel = (vocabBits: number): string => {
  const bh = vocabBits >> 1;
  const bl = vocabBits - bh;
  return /* wgsl */ `
struct Params { nonces: u32, vocab: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> keys: array<u32>;
@group(0) @binding(3) var<storage, read> tau: array<f32>;
@group(0) @binding(4) var<storage, read_write> distances: array<f32>;

var<workgroup> partA: array<f32, ${OUTPUT_WORKGROUP}>;
var<workgroup> partB: array<f32, ${OUTPUT_WORKGROUP}>;

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
  if (li == 0u) {
    let norm = sqrt(partA[0]);
    // A constant output has no direction: d = 2, as far as possible, never appropriate (as the reference).
    distances[b] = select(sqrt(max(0.0, 2.0 - 2.0 * partB[0] / norm)), 2.0, norm == 0.0);
  }
}
`;
};
