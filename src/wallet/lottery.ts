/**
 * Verifiable lottery seeds from unique BLS signatures.
 *
 * Ed25519 signatures are deterministic only by convention: the nonce is the signer's choice, so
 * a signer can produce many valid signatures of one message and keep the one whose hash wins
 * ("grinding"). A BLS signature sig = sk·H(m) is the *only* valid signature of m under pk, so
 * sha256(sig) is a value the signer cannot steer and anyone with pk can check.
 *
 * Mode: `longSignatures` (48-byte G1 public keys, 96-byte G2 signatures), hashed to G2 with
 * RFC 9380 and our own DST so these signatures never verify in another protocol.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/curves/utils.js';
import { BinaryWriter } from '../codec/binary.ts';
import { MessageType, signTyped, signingBytes, verifyTyped, type SigningDomain } from './signing.ts';

const bls = bls12_381.longSignatures;
export const LOTTERY_DST = 'SPRINTNET_LOTTERY_V1_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_';
export const BLS_SECRET_KEY_LENGTH = 32;
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const LOTTERY_SIGNATURE_LENGTH = 96;
/** Tag in the key-binding payload: which kind of key is bound (append-only). */
export const BOUND_KEY_BLS12_381_LOTTERY = 1;

/** Compressed 48-byte G1 public key for a 32-byte BLS secret scalar. */
export function blsPublicKey(blsSecretKey: Uint8Array): Uint8Array {
  return bls.getPublicKey(blsSecretKey).toBytes(true);
}

function lotteryPoint(domain: SigningDomain, payload: Uint8Array) {
  return bls.hash(signingBytes(domain, payload), LOTTERY_DST);
}

export function lotterySign(blsSecretKey: Uint8Array, domain: SigningDomain, payload: Uint8Array): Uint8Array {
  return bls.Signature.toBytes(bls.sign(lotteryPoint(domain, payload), blsSecretKey));
}

/** Never throws. Accepts only the canonical compressed encoding, so one message has one valid byte string. */
export function lotteryVerify(
  blsPublicKey: Uint8Array,
  domain: SigningDomain,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH || signature.length !== LOTTERY_SIGNATURE_LENGTH) return false;
  try {
    const pk = bls12_381.G1.Point.fromBytes(blsPublicKey);
    if (pk.is0() || !equalBytes(pk.toBytes(true), blsPublicKey)) return false;
    const sig = bls.Signature.fromBytes(signature);
    if (!equalBytes(bls.Signature.toBytes(sig), signature)) return false;
    return bls.verify(sig, lotteryPoint(domain, payload), pk);
  } catch {
    return false;
  }
}

/** The lottery value: sha256 of the (unique, canonical) signature bytes. */
export function lotteryValue(signature: Uint8Array): Uint8Array {
  return sha256(signature);
}

/** Verifies and returns the value, or null: what a peer checking someone's draw calls. */
export function verifiedLotteryValue(
  blsPublicKey: Uint8Array,
  domain: SigningDomain,
  payload: Uint8Array,
  signature: Uint8Array,
): Uint8Array | null {
  return lotteryVerify(blsPublicKey, domain, payload, signature) ? lotteryValue(signature) : null;
}

/** Payload the Ed25519 key signs to vouch for a BLS key: u8 kind ‖ 48-byte G1 public key. */
export function keyBindingPayload(blsPublicKey: Uint8Array): Uint8Array {
  return new BinaryWriter().u8(BOUND_KEY_BLS12_381_LOTTERY).fixed(blsPublicKey, BLS_PUBLIC_KEY_LENGTH).finish();
}

export function signKeyBinding(ed25519Seed: Uint8Array, blsPublicKey: Uint8Array, networkId: string): Uint8Array {
  return signTyped(ed25519Seed, { type: MessageType.KeyBinding, networkId }, keyBindingPayload(blsPublicKey));
}

/** Never throws: a peer accepts a BLS key for an identity only if this is true. */
export function verifyKeyBinding(
  ed25519PublicKey: Uint8Array,
  blsPublicKey: Uint8Array,
  signature: Uint8Array,
  networkId: string,
): boolean {
  if (blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH) return false;
  return verifyTyped(ed25519PublicKey, { type: MessageType.KeyBinding, networkId }, keyBindingPayload(blsPublicKey), signature);
}
