/**
 * safetensors: an 8-byte little-endian header length n, n bytes of JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {…} }), then the data,
 * indexed completely and without holes. This module parses and checks the header, streams the data
 * tensor by tensor without holding the file (`readSafetensors`), collects whole tensors where a
 * caller wants them, and writes files (for test models).
 */
import { DTYPE_BYTES, type FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';

/** safetensors' own limit on the header (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range in the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Sorted by `begin`. */
  readonly tensors: readonly TensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** 8 + the JSON's length: where the data starts in the file. */
  readonly dataStart: number;
  readonly dataBytes: number;
  readonly fileBytes: number;
}

const header = (what: string, why: string): LlmError => new LlmError('SAFETENSORS_HEADER', `${what}: ${why}`);

/** The JSON length the first 8 bytes announce (checked against the limit). */
export function headerLength(first8: Uint8Array, what = 'safetensors file'): number {
  if (first8.byteLength < 8) throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: ${first8.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const high = view.getUint32(4, true);
  const n = view.getUint32(0, true) + high * 2 ** 32;
  if (n < 2 || n > MAX_HEADER_BYTES) throw header(what, `header length ${n} is outside 2 … ${MAX_HEADER_BYTES} bytes (not a safetensors file?)`);
  return n;
}

/**
 * Parses the JSON header `json` (the bytes after the length) and checks every entry: known dtype,
 * non-negative integer shape, offsets matching shape × dtype size, data covered exactly with no
 * overlap and no hole. `fileBytes`, when known, must equal the data's end.
 */
export function parseHeaderJson(json: Uint8Array, what = 'safetensors file', fileBytes?: number): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (cause) {
    throw new LlmError('SAFETENSORS_HEADER', `${what}: header is not valid UTF-8 JSON (${String(cause)})`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw header(what, 'header is not a JSON object');
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string'))
        throw header(what, '__metadata__ must map strings to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw header(what, `entry ${name} is not an object`);
    const dtypeBytes = typeof e.dtype === 'string' ? DTYPE_BYTES[e.dtype] : undefined;
    if (typeof e.dtype !== 'string' || dtypeBytes === undefined) throw header(what, `tensor ${name} has unknown dtype ${JSON.stringify(e.dtype)}`);
    const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw header(what, `tensor ${name} has a bad shape ${JSON.stringify(e.shape)}`);
    const shape: number[] = e.shape;
    const offsets: unknown = e.data_offsets;
    const isPair = (x: unknown): x is [number, number] => Array.isArray(x) && x.length === 2 && x.every(isCount);
    if (!isPair(offsets) || offsets[0] > offsets[1]) throw header(what, `tensor ${name} has bad data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets;
    const expected = shape.reduce((a, b) => a * b, 1) * dtypeBytes;
    if (end - begin !== expected) {
      throw new LlmError(
        'SAFETENSORS_LAYOUT',
        `${what}: tensor ${name} (${e.dtype} [${shape.join(', ')}]) needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.push({ name, dtype: e.dtype, shape, begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin !== cursor) {
      throw new LlmError(
        'SAFETENSORS_LAYOUT',
        `${what}: tensor ${t.name} starts at data byte ${t.begin}, expected ${cursor} (${t.begin < cursor ? 'overlaps the previous tensor' : 'leaves a hole'})`,
      );
    }
    cursor = t.end;
  }
  const dataStart = 8 + json.byteLength;
  const total = dataStart + cursor;
  if (fileBytes !== undefined && fileBytes < total) {
    throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: file has ${fileBytes} bytes, its header needs ${total}`);
  }
  if (fileBytes !== undefined && fileBytes > total) {
    throw new LlmError('SAFETENSORS_LAYOUT', `${what}: ${fileBytes - total} bytes after the last tensor (header covers ${total} of ${fileBytes})`);
  }
  return { tensors, metadata, dataStart, dataBytes: cursor, fileBytes: total };
}

/** Parses the header of a whole file held in memory. */
export function parseHeader(file: Uint8Array, what = 'safetensors file'): SafetensorsHeader {
  const n = headerLength(file, what);
  if (file.byteLength < 8 + n) throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: ${file.byteLength} bytes, the header alone needs ${8 + n}`);
  return parseHeaderJson(file.subarray(8, 8 + n), what, file.byteLength);
}

export type SafetensorsEvent =
  | { readonly kind: 'header'; readonly header: SafetensorsHeader }
  /**
   * `bytes` (a view valid until the next event) holds tensor bytes [offset, offset + bytes.length).
   * With `align`, every piece but a tensor's last has a multiple of `align` bytes at an offset that
   * is one too. `last` marks a tensor's final piece (a zero-byte tensor gets one empty piece).
   */
  | { readonly kind: 'data'; readonly tensor: TensorInfo; readonly offset: number; readonly bytes: Uint8Array; readonly last: boolean };

export interface ReadOptions {
  /** Name for messages (the file name). */
  readonly what?: string;
  /** The file's size, when known up front (checked against the header before any data). */
  readonly fileBytes?: number;
  /** Cut data pieces at multiples of this many bytes (GPU writes want 4). Default 4. */
  readonly align?: number;
}

/**
 * Streams a safetensors file: a 'header' event, then the tensors' bytes in file order, as they
 * arrive. Holds at most one incoming chunk plus `align` − 1 carried bytes (and the header), never
 * the file. Throws SAFETENSORS_TRUNCATED when the stream ends early, SAFETENSORS_LAYOUT when it
 * runs past the data.
 */
export async function* readSafetensors(chunks: AsyncIterable<Uint8Array>, options: ReadOptions = {}): AsyncGenerator<SafetensorsEvent> {
  const what = options.what ?? 'safetensors file';
  const align = options.align ?? 4;
  let pending: Uint8Array = new Uint8Array(0); // header bytes gathered so far
  let hdr: SafetensorsHeader | null = null;
  let index = 0; // tensor being filled
  let written = 0; // bytes of it emitted
  const carry = new Uint8Array(align);
  let carried = 0;
  let received = 0;

  const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
    const out = new Uint8Array(a.byteLength + b.byteLength);
    out.set(a, 0);
    out.set(b, a.byteLength);
    return out;
  };

  function* feed(data: Uint8Array): Generator<SafetensorsEvent> {
    let at = 0;
    const tensors = hdr!.tensors;
    while (true) {
      let t = tensors[index]; // undefined once past the last tensor
      // Zero-byte tensors take no data: report them as they come up.
      while (t !== undefined && t.end === t.begin) {
        yield { kind: 'data', tensor: t, offset: 0, bytes: new Uint8Array(0), last: true };
        t = tensors[++index];
      }
      if (at >= data.byteLength) return;
      if (t === undefined) {
        throw new LlmError('SAFETENSORS_LAYOUT', `${what}: data continues past the last tensor (header covers ${hdr!.fileBytes} bytes)`);
      }
      const remaining = t.end - t.begin - written - carried;
      const take = Math.min(remaining, data.byteLength - at);
      const isLast = take === remaining;
      let piece = data.subarray(at, at + take);
      at += take;
      if (carried > 0) {
        const fill = Math.min(align - carried, piece.byteLength);
        carry.set(piece.subarray(0, fill), carried);
        carried += fill;
        piece = piece.subarray(fill);
        const done = isLast && piece.byteLength === 0;
        if (carried === align || done) {
          yield { kind: 'data', tensor: t, offset: written, bytes: carry.slice(0, carried), last: done };
          written += carried;
          carried = 0;
        }
        if (done) {
          index++;
          written = 0;
          continue;
        }
        if (piece.byteLength === 0) continue;
      }
      if (isLast) {
        yield { kind: 'data', tensor: t, offset: written, bytes: piece, last: true };
        index++;
        written = 0;
        continue;
      }
      const whole = piece.byteLength - (piece.byteLength % align);
      if (whole > 0) {
        yield { kind: 'data', tensor: t, offset: written, bytes: piece.subarray(0, whole), last: false };
        written += whole;
      }
      carry.set(piece.subarray(whole), 0);
      carried = piece.byteLength - whole;
    }
  }

  for await (const chunk of chunks) {
    received += chunk.byteLength;
    if (hdr === null) {
      pending = concat(pending, chunk);
      if (pending.byteLength < 8) continue;
      const n = headerLength(pending, what);
      if (pending.byteLength < 8 + n) continue;
      hdr = parseHeaderJson(pending.subarray(8, 8 + n), what, options.fileBytes);
      yield { kind: 'header', header: hdr };
      const rest = pending.subarray(8 + n);
      pending = new Uint8Array(0);
      yield* feed(rest);
    } else {
      yield* feed(chunk);
    }
  }
  if (hdr === null) {
    if (pending.byteLength < 8) throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: ended after ${pending.byteLength} bytes, inside the header length`);
    throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: ended after ${pending.byteLength} bytes, inside the ${headerLength(pending, what)}-byte header`);
  }
  yield* feed(new Uint8Array(0)); // trailing zero-byte tensors
  const unfinished = hdr.tensors[index];
  if (unfinished !== undefined) {
    throw new LlmError('SAFETENSORS_TRUNCATED', `${what}: ended after ${received} bytes, inside tensor ${unfinished.name} (the header needs ${hdr.fileBytes})`);
  }
}

export interface LoadedTensor {
  readonly info: TensorInfo;
  readonly bytes: Uint8Array;
}

/** Collects whole tensors from a stream (all, or those `want` accepts); other tensors' bytes are dropped as they pass. */
export async function collectTensors(
  chunks: AsyncIterable<Uint8Array>,
  options: ReadOptions & { want?: (name: string) => boolean } = {},
): Promise<Map<string, LoadedTensor>> {
  const out = new Map<string, LoadedTensor>();
  let buffer: Uint8Array | null = null;
  for await (const event of readSafetensors(chunks, options)) {
    if (event.kind !== 'data') continue;
    const { tensor } = event;
    if (options.want && !options.want(tensor.name)) continue;
    if (event.offset === 0) buffer = new Uint8Array(tensor.end - tensor.begin);
    buffer!.set(event.bytes, event.offset);
    if (event.last) out.set(tensor.name, { info: tensor, bytes: buffer! });
  }
  return out;
}

/** Chunks of an in-memory file, for tests and small files. */
export async function* chunksOf(bytes: Uint8Array, size = 1 << 16): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, Math.min(bytes.byteLength, i + size));
}

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: FloatDType | string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Writes a safetensors file: tensors in the given order, header padded with spaces to 8 bytes (as the reference writer does). */
export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const entries: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    entries[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, jsonBytes.byteLength, true);
  view.setUint32(4, 0, true);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.byteLength;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}
