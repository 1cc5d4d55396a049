/**
 * Addresses: `sn1` + bech32m(20-byte hash of the Ed25519 public key), 41 characters.
 * bech32m (BIP 350) gives a checksum that catches any 4 substituted characters and, unlike
 * bech32, insertions next to a final `p`. 20 bytes keep it short while staying collision-safe
 * for account identifiers (like Bitcoin's P2WPKH); the public key itself travels in signed messages.
 */
import { bech32m } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { WalletError } from './errors.ts';
import { checkPublicKey } from './signing.ts';

export const ADDRESS_PREFIX = 'sn';
export const ADDRESS_HASH_LENGTH = 20;
/** sn + "1" + 32 data characters + 6 checksum characters. */
export const ADDRESS_LENGTH = 41;
const ADDRESS_TAG = utf8ToBytes('sprintnet/address/v1');
const CHARSET = /^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/;

export type AddressErrorReason = 'format' | 'prefix' | 'length' | 'checksum';

export class AddressError extends WalletError {
  constructor(
    readonly reason: AddressErrorReason,
    message: string,
  ) {
    super('BAD_ADDRESS', message);
  }
}

/**
 * The 20 bytes an address encodes: sha256("sprintnet/address/v1" ‖ publicKey)[0..20]. Throws
 * PublicKeyError (BAD_PUBLIC_KEY) for a key no strict signature can verify under (wrong length,
 * non-canonical, small or mixed order): its address could only burn what is sent to it.
 */
export function addressHash(publicKey: Uint8Array): Uint8Array {
  checkPublicKey(publicKey);
  return sha256(concatBytes(ADDRESS_TAG, publicKey)).slice(0, ADDRESS_HASH_LENGTH);
}

export function addressFromPublicKey(publicKey: Uint8Array): string {
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(addressHash(publicKey)));
}

/** Decodes an address to its 20-byte hash; throws AddressError saying what is wrong. */
export function parseAddress(address: string): Uint8Array {
  if (typeof address !== 'string') throw new AddressError('format', 'address must be a string');
  const s = address.trim();
  // bech32 allows all-upper (for QR codes) but never mixed case.
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new AddressError('format', 'address mixes upper and lower case');
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1) throw new AddressError('format', 'address has no "1" separator');
  if (lower.slice(0, sep) !== ADDRESS_PREFIX) throw new AddressError('prefix', `address must start with "${ADDRESS_PREFIX}1"`);
  if (!CHARSET.test(lower.slice(sep + 1))) throw new AddressError('format', 'address has characters outside the bech32 alphabet');
  if (lower.length !== ADDRESS_LENGTH) throw new AddressError('length', `address must be ${ADDRESS_LENGTH} characters, got ${lower.length}`);
  const decoded = bech32m.decodeUnsafe(lower);
  if (!decoded) throw new AddressError('checksum', 'address checksum does not match (typo?)');
  const bytes = bech32m.fromWordsUnsafe(decoded.words);
  if (!bytes || bytes.length !== ADDRESS_HASH_LENGTH) throw new AddressError('length', 'address payload has the wrong size');
  return bytes;
}

export function isValidAddress(address: string): boolean {
  try {
    parseAddress(address);
    return true;
  } catch {
    return false;
  }
}

/** Does this public key own this address? Never throws. */
export function addressMatchesPublicKey(address: string, publicKey: Uint8Array): boolean {
  try {
    const a = parseAddress(address);
    const b = addressHash(publicKey);
    return a.every((v, i) => v === b[i]);
  } catch {
    return false;
  }
}
