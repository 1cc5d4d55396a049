/** Byte helpers shared by the Sprint modules and the CLI. */
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { SprintInputError, type SprintErrorCode } from './errors.ts';

export { concatBytes };
export const utf8 = utf8ToBytes;

export function u32le(b: Uint8Array, offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > b.length) {
    throw new SprintInputError('BAD_ARGUMENT', `a 4-byte word at offset ${offset} lies outside ${b.length} bytes`);
  }
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true);
}

export function u64le(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

export const toHex = bytesToHex;

/** Parses hex of an exact byte length, or throws a typed error naming the field. */
export function fromHex(hex: string, length: number, code: SprintErrorCode, field: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (clean.length !== 2 * length || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new SprintInputError(code, `${field} must be ${length} bytes of hex (${2 * length} hex digits), got '${hex}'`);
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
