/**
 * Philox4x32-10 in WGSL with u32 arithmetic only (WGSL has no 64-bit integers): the 32×32→64
 * product is split into 16-bit halves exactly like mulhi32 in src/sprint/philox.ts, so the bits
 * agree with the CPU reference on every adapter.
 */
export const PHILOX_WGSL = /* wgsl */ `
fn mulhi32(a: u32, b: u32) -> u32 {
  let aLo = a & 0xffffu;
  let aHi = a >> 16u;
  let bLo = b & 0xffffu;
  let bHi = b >> 16u;
  let lolo = aLo * bLo;
  let mid1 = aHi * bLo + (lolo >> 16u);
  let mid2 = aLo * bHi + (mid1 & 0xffffu);
  return aHi * bHi + (mid1 >> 16u) + (mid2 >> 16u);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
`;

/** Test kernel: one Philox call per (counter, key) row of 6 u32. */
export const philoxTestKernel = (): string => /* wgsl */ `
${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read> inputs: array<u32>;
@group(0) @binding(1) var<storage, read_write> outputs: array<vec4<u32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&outputs)) { return; }
  let b = i * 6u;
  outputs[i] = philox4x32(vec4<u32>(inputs[b], inputs[b + 1u], inputs[b + 2u], inputs[b + 3u]), vec2<u32>(inputs[b + 4u], inputs[b + 5u]));
}
`;
