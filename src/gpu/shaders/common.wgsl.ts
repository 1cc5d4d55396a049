/** Pieces shared by the kernel templates: weight formats and dispatch indexing. */

/**
 * How weights live in GPU memory (spec §4: value = (2q − 255)·2^−s, q a Philox byte):
 * - 'u8':  the four bytes q of elements 4w…4w+3 packed in u32 word w (1 byte/param). These words
 *          are exactly Philox's output words, so generation is a copy; the scale 2^−s is applied
 *          once to each dot product.
 * - 'f16': value·2^−s as f16 (exact), two per u32 via pack2x16float (2 bytes/param).
 */
export type WeightFormat = 'u8' | 'f16';

export const bytesPerParam = (format: WeightFormat): number => (format === 'u8' ? 1 : 2);

/** `loadW4(i)`: elements 4i … 4i+3 of the weight binding `W` as vec4<f32>, in code units (u8) or values (f16). */
export function weightLoader(format: WeightFormat, binding = 'W'): string {
  if (format === 'u8') {
    return /* wgsl */ `
fn loadW4(i: u32) -> vec4<f32> {
  let q = (vec4<u32>(${binding}[i]) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u);
  return fma(vec4<f32>(q), vec4<f32>(2.0), vec4<f32>(-255.0));
}`;
  }
  return /* wgsl */ `
fn loadW4(i: u32) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(${binding}[2u * i]), unpack2x16float(${binding}[2u * i + 1u]));
}`;
}

/** Scale to apply to dot products with weights of scale exponent s: the u8 format stores codes. */
export const weightScale = (format: WeightFormat, scaleExponent: number): number => (format === 'u8' ? 2 ** -scaleExponent : 1);

/** A 1-D grid of `count` invocations laid out on x (and y when above the per-dimension limit). */
export function grid1d(count: number, workgroupSize: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / workgroupSize));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL expression for the linear invocation index of a grid1d dispatch. */
export const linearIndex = (workgroupSize: number): string => `(gid.x + gid.y * nwg.x * ${workgroupSize}u)`;
