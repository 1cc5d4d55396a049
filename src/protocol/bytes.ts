/** Small byte helpers of the protocol (the hex helper is the one of src/sprint/bytes.ts). */
import { concatBytes, toHex, utf8 } from '../sprint/bytes.ts';

export { concatBytes };
export const hex = toHex;

/** utf8(tag) ‖ parts: the domain-separated input of every protocol hash. */
export const tagged = (tag: string, ...parts: Uint8Array[]): Uint8Array => concatBytes(utf8(tag), ...parts);

/** Lexicographic order of byte strings (shorter first when one is a prefix of the other). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

export function u32be(b: Uint8Array, offset = 0): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

/** The first 6 bytes big-endian: an integer in [0, 2^48). */
export function u48be(b: Uint8Array, offset = 0): number {
  return u32be(b, offset) * 65_536 + ((b[offset + 4]! << 8) | b[offset + 5]!);
}

export function fromHexString(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new RangeError('not lowercase hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
