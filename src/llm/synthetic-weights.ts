/**
 * Deterministic random weights made on the GPU, so a synthetic model of 8B parameters needs no
 * host array of its weights (and no 16 GB file). Element i of a tensor is k · 2^-e with
 * k = (lowbias32(i ^ key) mod 127) − 63 ∈ [−63, 63] and e chosen from the tensor's fan-in: at most
 * 6 significant bits, so the value is exact in F32, BF16 and F16 (e ≤ 14 keeps F16 normal) and
 * its bits come from integer arithmetic alone. Any GPU, and this file's TypeScript mirror, write
 * the same bytes for the same seed: no float rounding mode is involved.
 */
import type { GpuDevice } from '../gpu/device.ts';
import type { FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';

/** Chris Wellons' lowbias32: a cheap 32-bit mixing bijection. */
export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a tensor's name: each tensor gets its own stream. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** The per-tensor key the fill kernel xors into element indices. */
export function tensorKey(seed: number, name: string): number {
  return lowbias32((seed ^ nameHash(name)) >>> 0);
}

/** Scale exponent for values of standard deviation ≈ `std` (k's is √(63·64/3) ≈ 36.7), kept in [1, 14]. */
export function scaleExponent(std: number): number {
  if (!(std > 0)) throw new LlmError('BAD_ARGUMENT', `synthetic weights need a positive spread, got ${std}`);
  return Math.min(14, Math.max(1, Math.round(Math.log2(Math.sqrt((63 * 64) / 3) / std))));
}

/** The integer k ∈ [−63, 63] of element `index`. */
export function syntheticK(key: number, index: number): number {
  return (lowbias32((index ^ key) >>> 0) % 127) - 63;
}

/** Element `index`'s value (exact in every float dtype). */
export function syntheticValue(key: number, index: number, e: number): number {
  return syntheticK(key, index) * 2 ** -e;
}

/** Element `index`'s bits in `dtype` (16 bits for F16/BF16), as the fill kernel computes them. */
export function syntheticBits(dtype: FloatDType, key: number, index: number, e: number): number {
  const k = syntheticK(key, index);
  if (k === 0) return 0;
  const m = Math.abs(k);
  const p = 31 - Math.clz32(m);
  const s = k < 0 ? 1 : 0;
  const f32 = ((s << 31) | ((p + 127 - e) << 23) | ((m << (23 - p)) & 0x7fffff)) >>> 0;
  if (dtype === 'F32') return f32;
  if (dtype === 'BF16') return f32 >>> 16;
  return (s << 15) | ((p + 15 - e) << 10) | ((m << (10 - p)) & 0x3ff);
}

const KIND: Record<FloatDType, number> = { F32: 0, F16: 1, BF16: 2 };

const FILL_WGSL = /* wgsl */ `
struct P { key: u32, base: u32, words: u32, e: u32, kind: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> w: array<u32>;

fn lowbias32(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}

// Bits of element i: F32 (kind 0), F16 (1, low 16 bits) or BF16 (2, low 16 bits).
fn bits(i: u32) -> u32 {
  let k = i32(lowbias32(i ^ p.key) % 127u) - 63;
  if (k == 0) { return 0u; }
  let m = u32(abs(k));
  let pos = firstLeadingBit(m);
  let s = select(0u, 1u, k < 0);
  if (p.kind == 1u) { return (s << 15u) | ((pos + 15u - p.e) << 10u) | ((m << (10u - pos)) & 0x3ffu); }
  let f = (s << 31u) | ((pos + 127u - p.e) << 23u) | ((m << (23u - pos)) & 0x7fffffu);
  if (p.kind == 2u) { return f >> 16u; }
  return f;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * 256u;
  if (j >= p.words) { return; }
  if (p.kind == 0u) {
    w[j] = bits(p.base + j);
  } else {
    let i = p.base + 2u * j;
    w[j] = bits(i) | (bits(i + 1u) << 16u);
  }
}`;

/** A weight matrix's row chunks on the GPU (GpuModel.weightChunks). */
export interface FillTarget {
  readonly dtype: FloatDType;
  readonly rows: number;
  readonly cols: number;
  readonly chunks: readonly { readonly buffer: GPUBuffer; readonly rowStart: number; readonly rowCount: number }[];
}

/**
 * Queues the fill of every chunk of `t` (one dispatch each). Element indices are the tensor's
 * (row-major, across chunks), so the values do not depend on how the tensor was split.
 */
export async function fillOnGpu(dev: GpuDevice, t: FillTarget, key: number, e: number): Promise<void> {
  const bytes = t.dtype === 'F32' ? 4 : 2;
  if (bytes === 2 && t.cols % 2 !== 0) throw new LlmError('BAD_ARGUMENT', `synthetic ${t.dtype} weights need an even row length, got ${t.cols}`);
  if (t.rows * t.cols > 2 ** 32) throw new LlmError('BAD_ARGUMENT', `synthetic weights index elements in 32 bits; ${t.rows} × ${t.cols} is too many`);
  const pipeline = await dev.pipeline('llm-synthetic-fill', () => FILL_WGSL);
  const maxDim = dev.limits.maxComputeWorkgroupsPerDimension;
  const uniforms: GPUBuffer[] = [];
  const encoder = dev.device.createCommandEncoder({ label: 'synthetic-fill' });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  for (const chunk of t.chunks) {
    const words = (chunk.rowCount * t.cols * bytes) / 4;
    const u = dev.uniform('synthetic-fill', [key, chunk.rowStart * t.cols, words, e, KIND[t.dtype], 0, 0, 0]);
    uniforms.push(u);
    pass.setBindGroup(0, dev.bindGroup(pipeline, [u, chunk.buffer]));
    const groups = Math.ceil(words / 256);
    const y = Math.ceil(groups / maxDim);
    pass.dispatchWorkgroups(Math.ceil(groups / y), y);
  }
  pass.end();
  dev.queue.submit([encoder.finish()]);
  // Uniform buffers must outlive the work that reads them.
  await dev.idle();
  for (const u of uniforms) dev.free(u);
}
