/**
 * Weight generation (spec §4) on the GPU: one invocation per Philox block of 16 elements.
 * Counter (j, tensorId, layer, 0), key from the sprint seed. The u8 format stores Philox's words
 * as they are; f16 stores the scaled values.
 */
import { PHILOX_WGSL } from './philox.wgsl.ts';
import { linearIndex, type WeightFormat } from './common.wgsl.ts';

export const GENERATE_WORKGROUP = 64;

/** Uniform layout: tensorId, layer, firstBlock, wordCount, k0, k1, scale (f32). */
export const generateKernel = (format: WeightFormat): string => /* wgsl */ `
${PHILOX_WGSL}
struct Params { tensorId: u32, layer: u32, firstBlock: u32, wordCount: u32, k0: u32, k1: u32, scale: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

fn code(x: u32, b: u32) -> f32 { return f32(((x >> (8u * b)) & 255u) * 2u) - 255.0; }

@compute @workgroup_size(${GENERATE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let local = ${linearIndex(GENERATE_WORKGROUP)};
  let x = philox4x32(vec4<u32>(p.firstBlock + local, p.tensorId, p.layer, 0u), vec2<u32>(p.k0, p.k1));
${
  format === 'u8'
    ? `
  let base = local * 4u;
  for (var w = 0u; w < 4u; w++) {
    if (base + w < p.wordCount) { out[base + w] = x[w]; }
  }`
    : `
  let base = local * 8u;
  for (var w = 0u; w < 4u; w++) {
    let lo = pack2x16float(vec2<f32>(code(x[w], 0u), code(x[w], 1u)) * p.scale);
    let hi = pack2x16float(vec2<f32>(code(x[w], 2u), code(x[w], 3u)) * p.scale);
    if (base + 2u * w < p.wordCount) { out[base + 2u * w] = lo; }
    if (base + 2u * w + 1u < p.wordCount) { out[base + 2u * w + 1u] = hi; }
  }`
}
}
`;
