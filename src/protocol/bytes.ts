/** Small byte helpers of the protocol (the hex helper is the one of src/sprint/bytes.ts). */
import { concatBytes, fromHex, toHex, utf8 } from '../sprint/bytes.ts';

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

/** Hex of a known byte length to bytes, through the one hex parser (src/sprint/bytes.ts fromHex). */
export const hexBytes = (s: string): Uint8Array => fromHex(s, s.length >> 1, 'BAD_ARGUMENT', 'hex string');
