/**
 * Encrypted keystore files (JSON, versioned). Pure: works in Node and browsers.
 *
 * Plaintext: the BIP39 entropy (16 or 32 bytes), from which the mnemonic and every key re-derive.
 * dk      = scrypt(NFKD(passphrase), salt, N, r, p, dkLen 32)
 * key     = HKDF-SHA256(dk, info "sprintnet/keystore/encrypt/v1", 32)
 * check   = HKDF-SHA256(dk, info "sprintnet/keystore/check/v1", 16), stored
 * cipher  = XChaCha20-Poly1305(key, 24-byte random nonce, AAD = canonical header)
 * `check` only tells a wrong passphrase from a damaged file: it gives an attacker nothing the
 * Poly1305 tag would not (each guess still costs one scrypt). The AAD binds version, KDF
 * parameters, address and peer id, so editing any of them is detected.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/curves/utils.js';
import { BinaryWriter } from '../codec/binary.ts';
import { WalletError } from './errors.ts';
import {
  identityFromEntropy,
  identityFromMnemonic,
  wipeIdentity,
  type IdentityOptions,
  type WalletIdentity,
} from './wallet-identity.ts';

export const KEYSTORE_FORMAT = 'sprintnet-keystore';
export const KEYSTORE_VERSION = 1;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
/** 128 MiB, ~0.5 s in Node and ~1–2 s in a browser: the cost every real keystore uses. */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** Only for unit tests: fast and weak. Decryption accepts it because the file records it. */
export const TEST_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });
/** Refuse files whose parameters would take more memory than this (a hostile file could ask for GiBs). */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export interface KeystoreFile {
  format: typeof KEYSTORE_FORMAT;
  version: typeof KEYSTORE_VERSION;
  address: string;
  peerId: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; dkLen: 32; salt: string };
  cipher: { name: 'xchacha20-poly1305'; nonce: string };
  check: string;
  ciphertext: string;
  createdAt: string;
}

export interface KdfProgress {
  /** Called with 0..1 while scrypt runs. */
  onProgress?: (fraction: number) => void;
}

function checkParams(p: ScryptParams, code: 'BAD_PARAMS' | 'CORRUPT_KEYSTORE'): void {
  const pow2 = Number.isInteger(p.N) && p.N >= 2 ** 10 && (p.N & (p.N - 1)) === 0;
  const small = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;
  if (!pow2 || !small(p.r, 32) || !small(p.p, 16) || 128 * p.N * p.r > MAX_SCRYPT_MEMORY) {
    throw new WalletError(code, `scrypt parameters out of range (N=${p.N}, r=${p.r}, p=${p.p})`);
  }
}

function header(f: Omit<KeystoreFile, 'check' | 'ciphertext' | 'createdAt' | 'cipher'>): Uint8Array {
  return new BinaryWriter()
    .string(KEYSTORE_FORMAT)
    .u16(f.version)
    .string(f.kdf.name)
    .u32(f.kdf.N)
    .u16(f.kdf.r)
    .u16(f.kdf.p)
    .bytes(hexToBytes(f.kdf.salt))
    .string('xchacha20-poly1305')
    .string(f.address)
    .string(f.peerId)
    .finish();
}

async function deriveKeys(passphrase: string, salt: Uint8Array, p: ScryptParams, progress?: KdfProgress) {
  const password = utf8ToBytes(passphrase.normalize('NFKD'));
  const dk = await scryptAsync(password, salt, { ...p, dkLen: 32, onProgress: progress?.onProgress });
  password.fill(0);
  const key = hkdf(sha256, dk, undefined, utf8ToBytes('sprintnet/keystore/encrypt/v1'), 32);
  const check = hkdf(sha256, dk, undefined, utf8ToBytes('sprintnet/keystore/check/v1'), 16);
  dk.fill(0);
  return { key, check };
}

export async function encryptKeystore(
  identityOrMnemonic: WalletIdentity | string,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  opts: KdfProgress & IdentityOptions = {},
): Promise<KeystoreFile> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new WalletError('BAD_PARAMS', 'passphrase must not be empty');
  checkParams(params, 'BAD_PARAMS');
  const owned = typeof identityOrMnemonic === 'string';
  const id = owned ? await identityFromMnemonic(identityOrMnemonic, opts) : identityOrMnemonic;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const base = {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    address: id.address,
    peerId: id.peerId,
    kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, dkLen: 32, salt: bytesToHex(salt) },
  } as const;
  const { key, check } = await deriveKeys(passphrase, salt, params, opts);
  const ciphertext = xchacha20poly1305(key, nonce, header(base)).encrypt(id.mnemonicEntropy);
  key.fill(0);
  if (owned) wipeIdentity(id);
  return {
    ...base,
    kdf: { ...base.kdf },
    cipher: { name: 'xchacha20-poly1305', nonce: bytesToHex(nonce) },
    check: bytesToHex(check),
    ciphertext: bytesToHex(ciphertext),
    createdAt: new Date().toISOString(),
  };
}

const HEX = /^(?:[0-9a-f]{2})*$/;
function hexField(v: unknown, what: string, length?: number): Uint8Array {
  if (typeof v !== 'string' || !HEX.test(v) || (length !== undefined && v.length !== 2 * length)) {
    throw new WalletError('CORRUPT_KEYSTORE', `keystore field ${what} is malformed`);
  }
  return hexToBytes(v);
}

/** Validates structure and version; throws CORRUPT_KEYSTORE or UNSUPPORTED_VERSION. */
export function parseKeystore(input: string | unknown): KeystoreFile {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch (cause) {
      throw new WalletError('CORRUPT_KEYSTORE', 'keystore is not valid JSON', { cause });
    }
  }
  const f = v as Partial<KeystoreFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== KEYSTORE_FORMAT) {
    throw new WalletError('CORRUPT_KEYSTORE', 'not a Sprintnet keystore');
  }
  if (f.version !== KEYSTORE_VERSION) throw new WalletError('UNSUPPORTED_VERSION', `keystore version ${String(f.version)} is not supported`);
  const kdf = f.kdf;
  if (typeof kdf !== 'object' || kdf === null) throw new WalletError('CORRUPT_KEYSTORE', 'keystore has no kdf');
  if (kdf.name !== 'scrypt' || kdf.dkLen !== 32) throw new WalletError('UNSUPPORTED_VERSION', `unsupported KDF ${String(kdf.name)}`);
  if (f.cipher?.name !== 'xchacha20-poly1305') throw new WalletError('UNSUPPORTED_VERSION', 'unsupported cipher');
  checkParams(kdf, 'CORRUPT_KEYSTORE');
  hexField(kdf.salt, 'kdf.salt', 32);
  hexField(f.cipher.nonce, 'cipher.nonce', 24);
  hexField(f.check, 'check', 16);
  const ct = hexField(f.ciphertext, 'ciphertext');
  if (ct.length < 16 + 16 || ct.length > 32 + 16) throw new WalletError('CORRUPT_KEYSTORE', 'ciphertext has the wrong size');
  if (typeof f.address !== 'string' || typeof f.peerId !== 'string') throw new WalletError('CORRUPT_KEYSTORE', 'keystore lacks address or peer id');
  return f as KeystoreFile;
}

/** Decrypts with the parameters stored in the file. Throws WalletError; never returns a partial identity. */
export async function decryptKeystore(
  input: string | KeystoreFile,
  passphrase: string,
  opts: KdfProgress & IdentityOptions = {},
): Promise<WalletIdentity> {
  const f = parseKeystore(input);
  const { key, check } = await deriveKeys(passphrase, hexToBytes(f.kdf.salt), f.kdf, opts);
  if (!equalBytes(check, hexToBytes(f.check))) {
    key.fill(0);
    throw new WalletError('WRONG_PASSPHRASE', 'wrong passphrase');
  }
  let entropy: Uint8Array;
  try {
    entropy = xchacha20poly1305(key, hexToBytes(f.cipher.nonce), header(f)).decrypt(hexToBytes(f.ciphertext));
  } catch (cause) {
    throw new WalletError('CORRUPT_KEYSTORE', 'keystore failed authentication (damaged or edited)', { cause });
  } finally {
    key.fill(0);
  }
  try {
    const id = await identityFromEntropy(entropy, opts);
    if (id.address !== f.address || id.peerId !== f.peerId) {
      throw new WalletError('CORRUPT_KEYSTORE', 'keystore keys do not match its address');
    }
    return id;
  } finally {
    entropy.fill(0);
  }
}

export function serializeKeystore(f: KeystoreFile): string {
  return JSON.stringify(f, null, 2) + '\n';
}
