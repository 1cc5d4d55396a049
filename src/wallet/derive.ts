/**
 * Mnemonic → keys. The BIP39 seed (PBKDF2, empty BIP39 passphrase) is the root; each key is
 * HKDF-SHA256(ikm = seed, salt = "sprintnet/wallet/v1", info = <per-key label>), so no two keys
 * share bytes and learning one reveals nothing about another or the seed.
 */
import * as bip39 from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { WalletError } from './errors.ts';

export const HKDF_SALT = 'sprintnet/wallet/v1';
export const ED25519_INFO = 'sprintnet/key/ed25519/v1';
export const BLS_INFO = 'sprintnet/key/bls12-381-lottery/v1';
/** 48 bytes for BLS: noble reduces them mod r without measurable bias (FIPS 186-5 A.4.1). */
const BLS_OKM_LENGTH = bls12_381.longSignatures.lengths.seed ?? 48;

export type MnemonicStrength = 128 | 256;

export function generateMnemonic(strength: MnemonicStrength = 256): string {
  return bip39.generateMnemonic(wordlist, strength);
}

/** Lower-cases and collapses whitespace so pasted phrases still match; throws INVALID_MNEMONIC. */
export function normalizeMnemonic(mnemonic: string): string {
  const m = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
  if (!bip39.validateMnemonic(m, wordlist)) throw new WalletError('INVALID_MNEMONIC', 'not a valid BIP39 English mnemonic');
  return m;
}

export function mnemonicToEntropy(mnemonic: string): Uint8Array {
  return bip39.mnemonicToEntropy(normalizeMnemonic(mnemonic), wordlist);
}

export function entropyToMnemonic(entropy: Uint8Array): string {
  try {
    return bip39.entropyToMnemonic(entropy, wordlist);
  } catch (cause) {
    throw new WalletError('INVALID_MNEMONIC', 'entropy must be 16–32 bytes in steps of 4', { cause });
  }
}

/** BIP39 seed with the empty BIP39 passphrase (the wallet passphrase only encrypts the keystore). */
export function mnemonicToSeed(mnemonic: string): Promise<Uint8Array> {
  return bip39.mnemonicToSeed(normalizeMnemonic(mnemonic));
}

export interface DerivedSecrets {
  /** 32-byte Ed25519 seed (signing key and libp2p key). */
  ed25519Seed: Uint8Array;
  /** 32-byte big-endian BLS12-381 scalar in [1, r). */
  blsSecretKey: Uint8Array;
}

export function deriveSecrets(bip39Seed: Uint8Array): DerivedSecrets {
  if (bip39Seed.length !== 64) throw new RangeError(`BIP39 seed must be 64 bytes, got ${bip39Seed.length}`);
  const salt = utf8ToBytes(HKDF_SALT);
  const ed25519Seed = hkdf(sha256, bip39Seed, salt, utf8ToBytes(ED25519_INFO), 32);
  const blsOkm = hkdf(sha256, bip39Seed, salt, utf8ToBytes(BLS_INFO), BLS_OKM_LENGTH);
  const { secretKey: blsSecretKey } = bls12_381.longSignatures.keygen(blsOkm);
  blsOkm.fill(0);
  return { ed25519Seed, blsSecretKey };
}
