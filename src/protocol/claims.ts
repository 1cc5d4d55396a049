/**
 * A proof's nonce list and its commitment (docs/protocol.md §"Nonce list"). The gossip proof
 * carries only the count and the root; validators fetch the list by request/response and check
 * it against the root before sampling it.
 *
 *   list = u32 n ‖ n × (u64 nonce ‖ f64 distance)     nonces strictly ascending
 *   root = SHA-256(utf8("sprintnet/nonce-list/v1") ‖ list)
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import { checkClaims } from '../sprint/validate.ts';
import { SprintInputError } from '../sprint/errors.ts';
import { MAX_CLAIMS, MAX_NONCE_LIST_BYTES, TAG_NONCE_LIST } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { tagged } from './bytes.ts';

/** Sorted by nonce; throws DUPLICATE_NONCE when a nonce repeats. */
export function sortClaims(claims: readonly NonceClaim[]): NonceClaim[] {
  const sorted = [...claims].sort((a, b) => a.nonce - b.nonce);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.nonce === sorted[i - 1]!.nonce) throw new ProtocolError('DUPLICATE_NONCE', `nonce ${sorted[i]!.nonce} is claimed more than once`);
  }
  return sorted;
}

/** The canonical list bytes of claims sorted by nonce (sorts a copy; refuses repeats and oversize lists). */
export function encodeNonceList(claims: readonly NonceClaim[]): Uint8Array {
  if (claims.length > MAX_CLAIMS) throw new ProtocolError('OVERSIZE', `${claims.length} claims exceed the limit of ${MAX_CLAIMS}`);
  const sorted = sortClaims(claims);
  const w = new BinaryWriter().u32(sorted.length);
  for (const c of sorted) w.u64(c.nonce).f64(c.distance);
  return w.finish();
}

/**
 * Parses a fetched list. Throws ProtocolError: OVERSIZE, MALFORMED (truncated, trailing bytes,
 * non-finite or negative distance, descending nonces), DUPLICATE_NONCE (a nonce repeated; the
 * claim is invalid, spec §9).
 */
export function decodeNonceList(bytes: Uint8Array): NonceClaim[] {
  if (bytes.length > MAX_NONCE_LIST_BYTES) throw new ProtocolError('OVERSIZE', `nonce list of ${bytes.length} bytes exceeds ${MAX_NONCE_LIST_BYTES}`);
  const claims: NonceClaim[] = [];
  try {
    const r = new BinaryReader(bytes);
    const n = r.u32();
    if (n > MAX_CLAIMS) throw new DecodeError(`${n} claims exceed ${MAX_CLAIMS}`);
    if (bytes.length !== 4 + 16 * n) throw new DecodeError(`a list of ${n} claims is ${4 + 16 * n} bytes, got ${bytes.length}`);
    for (let i = 0; i < n; i++) claims.push({ nonce: r.u64(), distance: r.f64() });
    r.end();
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `nonce list: ${e.message}`);
    throw e;
  }
  if (claims.length > 0) {
    try {
      checkClaims(claims); // the spec's own duplicate rule (typed DUPLICATE_NONCE)
    } catch (e) {
      if (e instanceof SprintInputError && e.code === 'DUPLICATE_NONCE') throw new ProtocolError('DUPLICATE_NONCE', e.message);
      throw new ProtocolError('MALFORMED', `nonce list: ${(e as Error).message}`);
    }
  }
  for (let i = 0; i < claims.length; i++) {
    const c = claims[i]!;
    if (c.distance < 0) throw new ProtocolError('MALFORMED', `nonce ${c.nonce}: negative distance`);
    if (i > 0 && claims[i - 1]!.nonce >= c.nonce) throw new ProtocolError('MALFORMED', 'nonce list is not in ascending order');
  }
  return claims;
}

export const nonceListRoot = (list: Uint8Array): Uint8Array => sha256(tagged(TAG_NONCE_LIST, list));
