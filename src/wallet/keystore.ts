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
 *
 * Order of checks when opening a file, cheapest and most certain first:
 *  1. structure and version (CORRUPT_KEYSTORE, UNSUPPORTED_VERSION);
 *  2. scrypt parameters against SCRYPT_LIMITS (KDF_PARAMS_OUT_OF_RANGE), before any KDF work;
 *  3. the header's own consistency: the peer id holds a strict Ed25519 key whose address is the
 *     stored address (CORRUPT_KEYSTORE), still before any KDF work;
 *  4. scrypt, then the AEAD tag, which is the authority: if it verifies, the passphrase is right
 *     and the header is authentic, whatever `check` says (`check` is not authenticated);
 *  5. only if the tag fails, `check` says which: it matches → the passphrase is right and the
 *     file was damaged or edited (CORRUPT_KEYSTORE); it does not → WRONG_PASSPHRASE, which also
 *     covers an in-range edit of the salt, N, r, p or `check` itself: without the passphrase no
 *     one can tell those from a wrong passphrase, and the message says so.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/curves/utils.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { BinaryWriter } from '../codec/binary.ts';
import { WalletError } from './errors.ts';
import { addressFromPublicKey } from './address.ts';
import { publicKeyProblem } from './signing.ts';
import { identityFromEntropy, identityFromMnemonic, wipeIdentity, type IdentityOptions, type WalletIdentity } from './wallet-identity.ts';

export const KEYSTORE_FORMAT = 'sprintnet-keystore';
export const KEYSTORE_VERSION = 1;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
/** 128 MiB, ~0.5 s in Node and ~1–2 s in a browser: the cost every real keystore uses. */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/**
 * Only for unit tests: fast and weak. Decryption accepts it because the file records it; an
 * import re-encrypts such a file with the wallet's own parameters (`importKeystoreFile`).
 */
export const TEST_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

/**
 * The scrypt parameters a keystore may ask for. Anything outside is refused before scrypt runs
 * (KDF_PARAMS_OUT_OF_RANGE when reading, BAD_PARAMS when writing), so a hostile or edited file
 * can neither exhaust memory nor make an unlock run for minutes.
 *  - N a power of two in [2^10, 2^20]; r in [1, 16]; p in [1, 4];
 *  - memory 128·N·r ≤ 256 MiB (twice the default);
 *  - work 128·N·r·p ≤ 512 MiB of block mixing (four times the default).
 */
export const SCRYPT_LIMITS = Object.freeze({
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 16,
  maxP: 4,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxWorkBytes: 512 * 1024 * 1024,
});

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

/** Why `p` is outside SCRYPT_LIMITS, or null. Expects integers (checked by the caller). */
export function scryptParamsProblem(p: ScryptParams): string | null {
  const L = SCRYPT_LIMITS;
  if (p.N < L.minN || p.N > L.maxN || (p.N & (p.N - 1)) !== 0) return `N must be a power of two from 2^10 to 2^20, got ${p.N}`;
  if (p.r < 1 || p.r > L.maxR) return `r must be 1 to ${L.maxR}, got ${p.r}`;
  if (p.p < 1 || p.p > L.maxP) return `p must be 1 to ${L.maxP}, got ${p.p}`;
  if (128 * p.N * p.r > L.maxMemoryBytes) return `N·r needs ${(128 * p.N * p.r) / 2 ** 20} MiB, more than ${L.maxMemoryBytes / 2 ** 20} MiB`;
  if (128 * p.N * p.r * p.p > L.maxWorkBytes) return `N·r·p is more than ${L.maxWorkBytes / 2 ** 27} times the default cost`;
  return null;
}

function checkParams(p: ScryptParams, code: 'BAD_PARAMS' | 'KDF_PARAMS_OUT_OF_RANGE'): void {
  if (![p.N, p.r, p.p].every(Number.isSafeInteger)) {
    throw new WalletError(code === 'BAD_PARAMS' ? code : 'CORRUPT_KEYSTORE', 'scrypt parameters must be integers');
  }
  const problem = scryptParamsProblem(p);
  if (problem) throw new WalletError(code, `scrypt parameters out of range: ${problem}`);
}

const sameParams = (a: ScryptParams, b: ScryptParams) => a.N === b.N && a.r === b.r && a.p === b.p;

/**
 * The header's own consistency, before any KDF work: the peer id must be an Ed25519 peer id whose
 * key is strict (canonical, not small order, in the prime-order subgroup), and the address must be
 * that key's address. Throws CORRUPT_KEYSTORE.
 */
function checkHeaderKeys(address: string, peerId: string): void {
  let raw: Uint8Array | undefined;
  try {
    const id = peerIdFromString(peerId);
    raw = id.type === 'Ed25519' ? id.publicKey.raw : undefined;
  } catch (cause) {
    throw new WalletError('CORRUPT_KEYSTORE', 'keystore peer id is malformed', { cause });
  }
  if (!raw) throw new WalletError('CORRUPT_KEYSTORE', 'keystore peer id is not an Ed25519 peer id');
  const problem = publicKeyProblem(raw);
  if (problem) throw new WalletError('CORRUPT_KEYSTORE', `keystore peer id holds an unusable Ed25519 key (${problem})`);
  if (addressFromPublicKey(raw) !== address) throw new WalletError('CORRUPT_KEYSTORE', 'keystore address does not belong to its peer id');
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
  hexField(kdf.salt, 'kdf.salt', 32);
  hexField(f.cipher.nonce, 'cipher.nonce', 24);
  hexField(f.check, 'check', 16);
  const ct = hexField(f.ciphertext, 'ciphertext');
  // BIP39 entropy is 16 to 32 bytes in steps of 4, plus the 16-byte tag.
  if (ct.length < 16 + 16 || ct.length > 32 + 16 || ct.length % 4 !== 0) throw new WalletError('CORRUPT_KEYSTORE', 'ciphertext has the wrong size');
  if (typeof f.address !== 'string' || typeof f.peerId !== 'string') throw new WalletError('CORRUPT_KEYSTORE', 'keystore lacks address or peer id');
  checkParams(kdf, 'KDF_PARAMS_OUT_OF_RANGE');
  checkHeaderKeys(f.address, f.peerId);
  return f as KeystoreFile;
}

/**
 * Decrypts with the parameters stored in the file (within SCRYPT_LIMITS). Throws WalletError;
 * never returns a partial identity. See the file comment for the order of checks.
 */
export async function decryptKeystore(input: string | KeystoreFile, passphrase: string, opts: KdfProgress & IdentityOptions = {}): Promise<WalletIdentity> {
  const f = parseKeystore(input);
  const { key, check } = await deriveKeys(passphrase, hexToBytes(f.kdf.salt), f.kdf, opts);
  let entropy: Uint8Array;
  try {
    entropy = xchacha20poly1305(key, hexToBytes(f.cipher.nonce), header(f)).decrypt(hexToBytes(f.ciphertext));
  } catch (cause) {
    if (equalBytes(check, hexToBytes(f.check))) {
      throw new WalletError('CORRUPT_KEYSTORE', 'the passphrase is right but the keystore failed authentication (damaged or edited)', { cause });
    }
    throw new WalletError(
      'WRONG_PASSPHRASE',
      'wrong passphrase (an edited salt, KDF parameter or check field looks the same: it cannot be told apart without the passphrase)',
      { cause },
    );
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

export interface ImportedKeystore {
  identity: WalletIdentity;
  /** What to store: the input file if it already uses `params`, else a fresh encryption under them. */
  file: KeystoreFile;
  reencrypted: boolean;
}

/**
 * Opens a keystore file someone brought in and returns what the wallet should store. A file made
 * with other scrypt parameters (weaker, like TEST_SCRYPT, or merely different) is re-encrypted
 * under `params` (the wallet's own, DEFAULT_SCRYPT unless configured) with a fresh salt and nonce,
 * so the cost of guessing the stored passphrase is always the app's, never the file's.
 * `onProgress` covers both KDF runs. Throws like `decryptKeystore`.
 */
export async function importKeystoreFile(
  input: string | KeystoreFile,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  opts: KdfProgress & IdentityOptions = {},
): Promise<ImportedKeystore> {
  checkParams(params, 'BAD_PARAMS');
  const f = parseKeystore(input);
  if (sameParams(f.kdf, params)) return { identity: await decryptKeystore(f, passphrase, opts), file: f, reencrypted: false };
  // Split the progress bar by each run's cost (N·r·p).
  const a = f.kdf.N * f.kdf.r * f.kdf.p;
  const share = a / (a + params.N * params.r * params.p);
  const report = opts.onProgress;
  const identity = await decryptKeystore(f, passphrase, { ...opts, onProgress: report && ((x) => report(x * share)) });
  try {
    const file = await encryptKeystore(identity, passphrase, params, {
      ...opts,
      onProgress: report && ((x) => report(share + x * (1 - share))),
    });
    return { identity, file, reencrypted: true };
  } catch (e) {
    wipeIdentity(identity);
    throw e;
  }
}

export function serializeKeystore(f: KeystoreFile): string {
  return JSON.stringify(f, null, 2) + '\n';
}
