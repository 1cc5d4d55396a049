/**
 * Domain-separated Ed25519 signatures. The signed bytes are
 *   "sprintnet/sig" ‖ u16 type ‖ u16 protocolVersion ‖ lp(networkId) ‖ lp(payload)
 * (lp = u32 little-endian length prefix), so a signature made for one message type,
 * protocol version or network never verifies as another. Payloads are canonical
 * encodings from src/codec/binary.ts, never JSON.
 *
 * Verification is strict, never ZIP-215 (noble's default for ed25519.verify): a signature is
 * accepted only if the public key passes `checkPublicKey` (canonical RFC 8032 encoding, not of
 * small order, in the prime-order subgroup), R is canonical and in the prime-order subgroup,
 * S < L, and [8][S]B = [8]R + [8][k]A. With A and R torsion-free the cofactored and cofactorless
 * equations accept exactly the same signatures, so anything accepted here is accepted by every
 * RFC 8032 verifier (libsodium, OpenSSL, WebCrypto), and one key has no "aliases" A + T.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { BinaryWriter } from '../codec/binary.ts';
import { WalletError } from './errors.ts';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_NETWORK_ID = 'sprintnet-local';

/** Message type tags. Append only: a tag's number never changes meaning. */
export const MessageType = {
  SprintProof: 1,
  ValidationVote: 2,
  ComputeProof: 3,
  GossipEnvelope: 4,
  InferenceRequest: 5,
  InferenceResponse: 6,
  KeyBinding: 7,
  /** Sprint protocol (src/protocol, docs/protocol.md): seed commitment, seed reveal, epoch certificate vote, validator lottery. */
  SeedCommit: 8,
  SeedReveal: 9,
  EpochCertificate: 10,
  ValidationLottery: 11,
  /** Split inference in the ledger (docs/split-inference.md §7): a proof carried by the protocol, a validator's verdict on one. */
  InferenceProof: 12,
  InferenceVerdict: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface SigningDomain {
  type: MessageType;
  networkId: string;
  version?: number;
}

const SIGNATURE_TAG = new TextEncoder().encode('sprintnet/sig');
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

/** Why a public key was refused. `mixed-order`: a prime-order key plus a small torsion point. */
export type PublicKeyProblem = 'length' | 'encoding' | 'small-order' | 'mixed-order';

export class PublicKeyError extends WalletError {
  constructor(
    readonly reason: PublicKeyProblem,
    message: string,
  ) {
    super('BAD_PUBLIC_KEY', message);
  }
}

// Keys that passed, so a sender's repeated messages pay for the subgroup check once. Only
// successes are kept (the check is a pure function of the bytes); insertion order evicts.
const STRICT_KEY_CACHE_SIZE = 4096;
const strictKeys = new Set<string>();

/** What is wrong with an Ed25519 public key, or null if it is acceptable. Never throws. */
export function publicKeyProblem(publicKey: unknown): PublicKeyProblem | null {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return 'length';
  const hex = bytesToHex(publicKey);
  if (strictKeys.has(hex)) return null;
  let point;
  try {
    // zip215 = false: RFC 8032 decoding, which refuses y ≥ p and x = 0 with the sign bit set,
    // so every accepted point has exactly one accepted encoding.
    point = ed25519.Point.fromBytes(publicKey, false);
  } catch {
    return 'encoding';
  }
  if (point.isSmallOrder()) return 'small-order';
  if (!point.isTorsionFree()) return 'mixed-order';
  if (strictKeys.size >= STRICT_KEY_CACHE_SIZE) strictKeys.delete(strictKeys.values().next().value!);
  strictKeys.add(hex);
  return null;
}

/** True for a canonical Ed25519 public key in the prime-order subgroup. Never throws. */
export function isStrictEd25519Key(publicKey: unknown): publicKey is Uint8Array {
  return publicKeyProblem(publicKey) === null;
}

/**
 * Throws PublicKeyError (a WalletError, code BAD_PUBLIC_KEY) unless `publicKey` is a canonical
 * Ed25519 public key of prime order. Every layer that accepts a key from outside calls this (or
 * `isStrictEd25519Key`): a small-order key such as the identity point would otherwise let one
 * signature verify for every message.
 */
export function checkPublicKey(publicKey: unknown, what = 'Ed25519 public key'): asserts publicKey is Uint8Array {
  const problem = publicKeyProblem(publicKey);
  if (problem === null) return;
  const why = {
    length: `must be ${ED25519_PUBLIC_KEY_LENGTH} bytes`,
    encoding: 'is not a canonical curve point encoding',
    'small-order': 'is a point of small order',
    'mixed-order': 'is not in the prime-order subgroup',
  }[problem];
  throw new PublicKeyError(problem, `${what} ${why}`);
}

export function signingBytes(domain: SigningDomain, payload: Uint8Array): Uint8Array {
  return new BinaryWriter()
    .fixed(SIGNATURE_TAG, SIGNATURE_TAG.length)
    .u16(domain.type)
    .u16(domain.version ?? PROTOCOL_VERSION)
    .string(domain.networkId)
    .bytes(payload)
    .finish();
}

export function signTyped(secretKey: Uint8Array, domain: SigningDomain, payload: Uint8Array): Uint8Array {
  return ed25519.sign(signingBytes(domain, payload), secretKey);
}

/**
 * Strict verification (see the file comment). Never throws on malformed input: anything that
 * is not a valid signature by a strict key is `false`.
 */
export function verifyTyped(publicKey: Uint8Array, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  if (!isStrictEd25519Key(publicKey)) return false;
  try {
    if (!ed25519.verify(signature, signingBytes(domain, payload), publicKey, { zip215: false })) return false;
    // Only now (valid signatures are the rare case worth the extra multiplication): an honest R
    // = rB is always torsion-free; a signer-made R + T would verify here but not under libsodium.
    return ed25519.Point.fromBytes(signature.subarray(0, 32), false).isTorsionFree();
  } catch {
    return false;
  }
}
