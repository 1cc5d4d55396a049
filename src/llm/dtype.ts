/**
 * The float formats safetensors stores, converted exactly: f16 and bf16 values are all exact in
 * f32 and f64, so decoding never rounds. Encoding (for writing test models) rounds to nearest, ties
 * to even, as PyTorch's `.to(torch.float16/bfloat16)` does.
 */
import { LlmError } from './errors.ts';

export type FloatDType = 'F32' | 'F16' | 'BF16';

export const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export function isFloatDType(dtype: string): dtype is FloatDType {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

const FLOAT_BYTES: Record<FloatDType, number> = { F32: 4, F16: 2, BF16: 2 };

// One f32 seen as its bits. Index 0 always exists (length 1), so reading it needs no check; a
// typed-array pair is the fastest reinterpretation in V8 (bf16 decoding runs once per weight).
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half → number, exact (subnormals, ±inf and NaN included). */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** bfloat16 → number, exact: the top half of an f32. */
export function bf16ToNumber(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** number → f16 bits, round to nearest even; overflow gives ±inf. */
export function numberToF16(value: number): number {
  f32Scratch[0] = value; // first to f32 (as PyTorch converts f32 tensors)
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // rounds to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** number → bf16 bits, round to nearest even (NaN stays NaN). */
export function numberToBf16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Little-endian bytes of one tensor → float64 values, exactly. */
export function decodeFloats(dtype: string, bytes: Uint8Array, what = 'tensor'): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = DTYPE_BYTES[dtype];
  if (!isFloatDType(dtype) || size === undefined) throw new LlmError('UNSUPPORTED_DTYPE', `${what}: dtype ${dtype} is not supported (F32, F16, BF16 are)`);
  const n = bytes.byteLength / size;
  const out = new Float64Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToNumber(view.getUint16(2 * i, true));
  else for (let i = 0; i < n; i++) out[i] = bf16ToNumber(view.getUint16(2 * i, true));
  return out;
}

/** float values → little-endian bytes in `dtype` (rounding to nearest even). */
export function encodeFloats(dtype: FloatDType, values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * FLOAT_BYTES[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (dtype === 'F32') view.setFloat32(4 * i, value, true);
    else view.setUint16(2 * i, dtype === 'F16' ? numberToF16(value) : numberToBf16(value), true);
  }
  return out;
}
