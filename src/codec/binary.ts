/**
 * Canonical binary encoding: fixed-width little-endian integers and u32-length-prefixed bytes.
 * One value has exactly one encoding, so signed bytes are deterministic. The reader refuses
 * truncated input, oversize lengths and trailing bytes with a typed DecodeError.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export class BinaryWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    return this.push(Uint8Array.of(v));
  }
  u16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    return this.push(Uint8Array.of(v & 0xff, v >>> 8));
  }
  u32(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.push(b);
  }
  /** Unsigned integer up to 2^53 - 1, stored as u64 little-endian. */
  u64(v: number): this {
    checkUint(v, Number.MAX_SAFE_INTEGER, 'u64');
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return this.push(b);
  }
  f64(v: number): this {
    if (!Number.isFinite(v)) throw new RangeError('f64 must be finite');
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v === 0 ? 0 : v, true); // -0 and +0 encode alike
    return this.push(b);
  }
  /** Bytes of a length fixed by the schema (keys, hashes): no prefix. */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`expected ${length} bytes, got ${bytes.length}`);
    return this.push(bytes.slice());
  }
  bytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.push(bytes.slice());
  }
  string(s: string): this {
    return this.bytes(textEncoder.encode(s));
  }
  finish(): Uint8Array {
    return concatBytes(this.chunks, this.size);
  }
}

/** The chunks one after another in one new array. */
export function concatBytes(chunks: readonly Uint8Array[], size = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

export class BinaryReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly maxFieldLength = buf.length,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): number {
    if (this.offset + n > this.buf.length) {
      throw new DecodeError(`truncated: need ${n} bytes at offset ${this.offset}, have ${this.buf.length - this.offset}`);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`u64 exceeds 2^53-1: ${v}`);
    return Number(v);
  }
  f64(): number {
    const v = this.view.getFloat64(this.need(8), true);
    if (!Number.isFinite(v)) throw new DecodeError('f64 is not finite');
    if (Object.is(v, -0)) throw new DecodeError('non-canonical -0');
    return v;
  }
  fixed(length: number): Uint8Array {
    const at = this.need(length);
    return this.buf.slice(at, at + length);
  }
  bytes(maxLength = this.maxFieldLength): Uint8Array {
    const length = this.u32();
    if (length > maxLength) throw new DecodeError(`field of ${length} bytes exceeds limit ${maxLength}`);
    return this.fixed(length);
  }
  string(maxLength = this.maxFieldLength): string {
    try {
      return textDecoder.decode(this.bytes(maxLength));
    } catch (e) {
      if (e instanceof DecodeError) throw e;
      throw new DecodeError('invalid UTF-8');
    }
  }
  /** Call after the last field: canonical messages have no trailing bytes. */
  end(): void {
    if (this.offset !== this.buf.length) {
      throw new DecodeError(`${this.buf.length - this.offset} trailing bytes`);
    }
  }
}
