/**
 * Verifiable lottery seeds from unique BLS signatures.
 *
 * Ed25519 signatures are deterministic only by convention: the nonce is the signer's choice, so
 * a signer can produce many valid signatures of one message and keep the one whose hash wins
 * ("grinding"). A BLS signature sig = sk·H(m) is the *only* valid signature of m under pk, so
 * sha256(sig) is a value the signer cannot steer and anyone with pk can check.
 *
 * Mode: `longSignatures` (48-byte G1 public keys, 96-byte G2 signatures), hashed to G2 with
 * RFC 9380 and our own DSTs so these signatures never verify in another protocol.
 *
 * A BLS key counts for an identity only through a `KeyBinding`: the Ed25519 key signs the BLS
 * key (it vouches for it) and the BLS key signs a proof of possession that names the Ed25519 key
 * (it consents to it), under a separate PoP DST. Copying someone else's BLS key and proof into
 * one's own binding fails, because the proof names its real owner. Lottery messages also name
 * the claimant's Ed25519 key, so a draw verifies only for the identity it was made for.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/curves/utils.js';
import { BinaryWriter } from '../codec/binary.ts';
import {
  ED25519_PUBLIC_KEY_LENGTH,
  MessageType,
  checkPublicKey,
  isStrictEd25519Key,
  signTyped,
  signingBytes,
  verifyTyped,
  type SigningDomain,
} from './signing.ts';

const bls = bls12_381.longSignatures;
export const LOTTERY_DST = 'SPRINTNET_LOTTERY_V1_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_';
/** Proofs of possession (IETF BLS draft §3.3 "PopProve", with our own DST and message). */
export const LOTTERY_POP_DST = 'SPRINTNET_LOTTERY_V1_BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const BLS_SECRET_KEY_LENGTH = 32;
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const LOTTERY_SIGNATURE_LENGTH = 96;
export const BLS_POP_LENGTH = 96;
/** Tag in the key-binding payload: which kind of key is bound (append-only). */
export const BOUND_KEY_BLS12_381_LOTTERY = 1;

/** An Ed25519 identity's claim to a BLS lottery key, checked with `verifyKeyBinding`. */
export interface KeyBinding {
  /** 32-byte Ed25519 public key of the identity. */
  readonly ed25519PublicKey: Uint8Array;
  /** 48-byte compressed G1 public key. */
  readonly blsPublicKey: Uint8Array;
  /** 64-byte Ed25519 signature, type KeyBinding, over `keyBindingPayload(blsPublicKey)`. */
  readonly signature: Uint8Array;
  /** 96-byte BLS proof of possession over `proofOfPossessionMessage(…)`, DST `LOTTERY_POP_DST`. */
  readonly proofOfPossession: Uint8Array;
}

/** Compressed 48-byte G1 public key for a 32-byte BLS secret scalar. */
export function blsPublicKey(blsSecretKey: Uint8Array): Uint8Array {
  return bls.getPublicKey(blsSecretKey).toBytes(true);
}

/** The G1 point of a canonical, non-identity, subgroup-checked public key, or null. Never throws. */
function parseBlsPublicKey(bytes: Uint8Array) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== BLS_PUBLIC_KEY_LENGTH) return null;
  try {
    const pk = bls12_381.G1.Point.fromBytes(bytes); // on the curve and in the r-order subgroup
    return pk.is0() || !equalBytes(pk.toBytes(true), bytes) ? null : pk;
  } catch {
    return null;
  }
}

/** The G2 point of a canonical signature encoding, or null. Never throws. */
function parseBlsSignature(bytes: Uint8Array) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== LOTTERY_SIGNATURE_LENGTH) return null;
  try {
    const sig = bls.Signature.fromBytes(bytes); // subgroup-checked
    return equalBytes(bls.Signature.toBytes(sig), bytes) ? sig : null;
  } catch {
    return null;
  }
}

/** What the lottery signs: the claimant's Ed25519 key, then the caller's payload. */
export function lotteryPayload(claimant: Uint8Array, payload: Uint8Array): Uint8Array {
  return new BinaryWriter().fixed(claimant, ED25519_PUBLIC_KEY_LENGTH).bytes(payload).finish();
}

function lotteryPoint(claimant: Uint8Array, domain: SigningDomain, payload: Uint8Array) {
  return bls.hash(signingBytes(domain, lotteryPayload(claimant, payload)), LOTTERY_DST);
}

/**
 * The unique BLS signature of `payload` for `claimant` (the signer's own Ed25519 public key).
 * Throws PublicKeyError if `claimant` is not a strict Ed25519 key.
 */
export function lotterySign(blsSecretKey: Uint8Array, claimant: Uint8Array, domain: SigningDomain, payload: Uint8Array): Uint8Array {
  checkPublicKey(claimant, 'lottery claimant');
  return bls.Signature.toBytes(bls.sign(lotteryPoint(claimant, domain, payload), blsSecretKey));
}

/**
 * Never throws. Accepts only canonical compressed encodings, so one message has one valid byte
 * string. This checks the signature alone: use `verifiedLotteryValue` with a `KeyBinding` to
 * know that `blsPublicKey` belongs to `claimant`.
 */
export function lotteryVerify(blsPublicKey: Uint8Array, claimant: Uint8Array, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): boolean {
  const pk = parseBlsPublicKey(blsPublicKey);
  const sig = parseBlsSignature(signature);
  if (!pk || !sig || !isStrictEd25519Key(claimant)) return false;
  try {
    return bls.verify(sig, lotteryPoint(claimant, domain, payload), pk);
  } catch {
    return false;
  }
}

/** The lottery value: sha256 of the (unique, canonical) signature bytes. */
export function lotteryValue(signature: Uint8Array): Uint8Array {
  return sha256(signature);
}

/**
 * What a peer checking someone's draw calls: verifies the binding (for `domain.networkId`) and the
 * signature for the binding's identity, and returns the value, or null. Never throws.
 */
export function verifiedLotteryValue(binding: KeyBinding, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): Uint8Array | null {
  if (!verifyKeyBinding(binding, domain.networkId)) return null;
  return lotteryVerify(binding.blsPublicKey, binding.ed25519PublicKey, domain, payload, signature) ? lotteryValue(signature) : null;
}

/** Payload the Ed25519 key signs to vouch for a BLS key: u8 kind ‖ 48-byte G1 public key. */
export function keyBindingPayload(blsPublicKey: Uint8Array): Uint8Array {
  return new BinaryWriter().u8(BOUND_KEY_BLS12_381_LOTTERY).fixed(blsPublicKey, BLS_PUBLIC_KEY_LENGTH).finish();
}

/**
 * What the BLS key signs (under LOTTERY_POP_DST) to prove possession and consent to the identity:
 *   signingBytes({ KeyBinding, networkId }, u8 kind ‖ 48-byte G1 public key ‖ 32-byte Ed25519 public key)
 */
export function proofOfPossessionMessage(blsPublicKey: Uint8Array, ed25519PublicKey: Uint8Array, networkId: string): Uint8Array {
  const payload = new BinaryWriter()
    .u8(BOUND_KEY_BLS12_381_LOTTERY)
    .fixed(blsPublicKey, BLS_PUBLIC_KEY_LENGTH)
    .fixed(ed25519PublicKey, ED25519_PUBLIC_KEY_LENGTH)
    .finish();
  return signingBytes({ type: MessageType.KeyBinding, networkId }, payload);
}

export function signProofOfPossession(blsSecretKey: Uint8Array, ed25519PublicKey: Uint8Array, networkId: string): Uint8Array {
  checkPublicKey(ed25519PublicKey);
  const message = proofOfPossessionMessage(blsPublicKey(blsSecretKey), ed25519PublicKey, networkId);
  return bls.Signature.toBytes(bls.sign(bls.hash(message, LOTTERY_POP_DST), blsSecretKey));
}

/** Never throws: does the holder of `blsPublicKey` consent to `ed25519PublicKey` on `networkId`? */
export function verifyProofOfPossession(blsPublicKey: Uint8Array, ed25519PublicKey: Uint8Array, proof: Uint8Array, networkId: string): boolean {
  const pk = parseBlsPublicKey(blsPublicKey);
  const sig = parseBlsSignature(proof);
  if (!pk || !sig || !isStrictEd25519Key(ed25519PublicKey)) return false;
  try {
    const message = proofOfPossessionMessage(blsPublicKey, ed25519PublicKey, networkId);
    return bls.verify(sig, bls.hash(message, LOTTERY_POP_DST), pk);
  } catch {
    return false;
  }
}

/** Both halves of a binding, made by the wallet that holds both secrets. */
export function makeKeyBinding(ed25519Seed: Uint8Array, blsSecretKey: Uint8Array, networkId: string): KeyBinding {
  const ed25519PublicKey = ed25519.getPublicKey(ed25519Seed);
  const blsPk = blsPublicKey(blsSecretKey);
  return {
    ed25519PublicKey,
    blsPublicKey: blsPk,
    signature: signTyped(ed25519Seed, { type: MessageType.KeyBinding, networkId }, keyBindingPayload(blsPk)),
    proofOfPossession: signProofOfPossession(blsSecretKey, ed25519PublicKey, networkId),
  };
}

/**
 * Never throws: a peer accepts a BLS key for an identity only if this is true. Checks that the
 * Ed25519 key is strict and signed the BLS key, and that the BLS key is canonical, in the
 * subgroup, not the identity, and proved possession naming this Ed25519 key on this network.
 */
export function verifyKeyBinding(binding: KeyBinding, networkId: string): boolean {
  if (typeof binding !== 'object' || binding === null) return false;
  const { ed25519PublicKey, blsPublicKey, signature, proofOfPossession } = binding;
  if (!(blsPublicKey instanceof Uint8Array) || blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH) return false;
  return (
    verifyTyped(ed25519PublicKey, { type: MessageType.KeyBinding, networkId }, keyBindingPayload(blsPublicKey), signature) &&
    verifyProofOfPossession(blsPublicKey, ed25519PublicKey, proofOfPossession, networkId)
  );
}
