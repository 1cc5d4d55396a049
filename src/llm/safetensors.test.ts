import { describe, expect, it } from 'vitest';
import { bf16ToNumber, decodeFloats, encodeFloats, f16ToNumber, numberToBf16, numberToF16 } from './dtype.ts';
import { isLlmError, type LlmErrorCode } from './errors.ts';
import { chunksOf, collectTensors, encodeSafetensors, parseHeader, readSafetensors } from './safetensors.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

async function expectCode(p: Promise<unknown> | (() => unknown), code: LlmErrorCode): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isLlmError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

function sample(): Uint8Array {
  return encodeSafetensors([
    { name: 'a', dtype: 'F16', shape: [3], bytes: encodeFloats('F16', [1, -2.5, 65504]) }, // 6 bytes: unaligned next
    { name: 'b', dtype: 'BF16', shape: [2, 3], bytes: encodeFloats('BF16', [0.5, -1, 3.140625, 1e30, -0, 7]) },
    { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
    { name: 'c', dtype: 'F32', shape: [5], bytes: encodeFloats('F32', [1.5, 2.25, -3, 1e-7, 42]) },
  ]);
}

describe('f16 / bf16 decoding', () => {
  it('decodes every f16 bit pattern exactly (against the IEEE formula) and re-encodes it', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = f16ToNumber(h);
      const exp = (h >> 10) & 31;
      const frac = h & 1023;
      const sign = h & 0x8000 ? -1 : 1;
      const expected = exp === 31 ? (frac ? NaN : sign * Infinity) : exp === 0 ? sign * frac * 2 ** -24 : sign * 2 ** (exp - 15) * (1 + frac / 1024);
      if (!(Object.is(v, expected) || (Number.isNaN(v) && Number.isNaN(expected)))) bad.push(h);
      if (!Number.isNaN(v) && numberToF16(v) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('decodes every bf16 bit pattern as the top half of an f32 and re-encodes it', () => {
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      u32[0] = b << 16;
      const expected = f32[0];
      const v = bf16ToNumber(b);
      if (!(Object.is(v, expected) || (Number.isNaN(v) && Number.isNaN(expected)))) bad.push(b);
      if (!Number.isNaN(v) && numberToBf16(v) !== b) bad.push(b);
    }
    expect(bad).toEqual([]);
  });

  it('rounds to nearest even when encoding', () => {
    expect(numberToF16(1 + 2 ** -11)).toBe(numberToF16(1)); // tie → even (1.0)
    expect(numberToF16(1 + 3 * 2 ** -11)).toBe(numberToF16(1 + 2 ** -9)); // tie → even (up)
    expect(numberToF16(70000)).toBe(0x7c00);
    expect(numberToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f16ToNumber(numberToF16(2 ** -24))).toBe(2 ** -24);
    expect(f16ToNumber(numberToF16(2 ** -26))).toBe(0);
  });
});

describe('safetensors', () => {
  it('parses the header and decodes f16, bf16 and f32 tensors exactly', async () => {
    const file = sample();
    const header = parseHeader(file);
    expect(header.tensors.map((t) => t.name)).toEqual(['a', 'b', 'empty', 'c']);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.dataStart % 8).toBe(0);
    const tensors = await collectTensors(chunksOf(file, 5));
    expect([...decodeFloats('F16', tensors.get('a')!.bytes)]).toEqual([1, -2.5, 65504]);
    expect([...decodeFloats('BF16', tensors.get('b')!.bytes)]).toEqual([0.5, -1, 3.140625, bf16ToNumber(numberToBf16(1e30)), -0, 7]);
    expect([...decodeFloats('F32', tensors.get('c')!.bytes)]).toEqual([1.5, 2.25, -3, Math.fround(1e-7), 42]);
    expect(tensors.get('empty')!.bytes.byteLength).toBe(0);
  });

  it('streams the same bytes whatever the chunk size, in 4-byte aligned pieces', async () => {
    const file = sample();
    const whole = await collectTensors(chunksOf(file, file.byteLength));
    for (const size of [1, 2, 3, 7, 8, 13, 64]) {
      const pieces: { name: string; offset: number; length: number; last: boolean }[] = [];
      const got = new Map<string, Uint8Array>();
      for await (const e of readSafetensors(chunksOf(file, size), { align: 4 })) {
        if (e.kind !== 'data') continue;
        pieces.push({ name: e.tensor.name, offset: e.offset, length: e.bytes.byteLength, last: e.last });
        const buf = got.get(e.tensor.name) ?? new Uint8Array(e.tensor.end - e.tensor.begin);
        buf.set(e.bytes, e.offset);
        got.set(e.tensor.name, buf);
      }
      for (const p of pieces) {
        expect(p.offset % 4).toBe(0);
        if (!p.last) expect(p.length % 4).toBe(0);
      }
      for (const [name, t] of whole) expect(got.get(name)).toEqual(t.bytes);
      expect(pieces.filter((p) => p.last).length).toBe(4);
    }
  });

  it('gives typed errors for corrupt and truncated files', async () => {
    const file = sample();
    const header = parseHeader(file);
    const read = (bytes: Uint8Array, fileBytes?: number) => collectTensors(chunksOf(bytes, 7), { fileBytes });
    // Truncated: inside the length, inside the header, inside the data.
    await expectCode(read(file.subarray(0, 5)), 'SAFETENSORS_TRUNCATED');
    await expectCode(read(file.subarray(0, 20)), 'SAFETENSORS_TRUNCATED');
    await expectCode(read(file.subarray(0, file.byteLength - 3)), 'SAFETENSORS_TRUNCATED');
    await expectCode(() => parseHeader(file.subarray(0, file.byteLength - 1)), 'SAFETENSORS_TRUNCATED');
    // Known size that disagrees with the header, before any data is read.
    await expectCode(read(file, file.byteLength + 10), 'SAFETENSORS_LAYOUT');
    // Extra bytes after the last tensor.
    const longer = new Uint8Array(file.byteLength + 4);
    longer.set(file);
    await expectCode(read(longer), 'SAFETENSORS_LAYOUT');
    // A header length beyond the limit, and garbage JSON.
    const huge = file.slice();
    new DataView(huge.buffer).setUint32(0, 200_000_000, true);
    await expectCode(read(huge), 'SAFETENSORS_HEADER');
    const garbled = file.slice();
    garbled[8] = 0x5b; // '[' : not an object
    garbled[9] = 0x7b;
    await expectCode(read(garbled), 'SAFETENSORS_HEADER');
    const json = (o: unknown) => {
      let text = JSON.stringify(o);
      text += ' '.repeat((8 - (text.length % 8)) % 8);
      const bytes = new TextEncoder().encode(text);
      const out = new Uint8Array(8 + bytes.byteLength + 16);
      new DataView(out.buffer).setUint32(0, bytes.byteLength, true);
      out.set(bytes, 8);
      return out;
    };
    await expectCode(read(json({ x: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } })), 'SAFETENSORS_LAYOUT'); // span ≠ shape × size
    await expectCode(
      read(json({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } })),
      'SAFETENSORS_LAYOUT',
    ); // overlap
    await expectCode(read(json({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } })), 'SAFETENSORS_LAYOUT'); // hole at 0
    await expectCode(read(json({ x: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } })), 'SAFETENSORS_HEADER'); // unknown dtype
    await expectCode(read(json({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } })), 'SAFETENSORS_HEADER');
    await expectCode(read(json({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }).subarray(0, 30)), 'SAFETENSORS_TRUNCATED');
    await expectCode(async () => decodeFloats('I32', new Uint8Array(4)), 'UNSUPPORTED_DTYPE');
    expect(header.fileBytes).toBe(file.byteLength);
  });
});
