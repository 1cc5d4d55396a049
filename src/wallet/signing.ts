/**
 * Domain-separated Ed25519 signatures. The signed bytes are
 *   "sprintnet/sig" ‖ u16 type ‖ u16 protocolVersion ‖ lp(networkId) ‖ lp(payload)
 * (lp = u32 little-endian length prefix), so a signature made for one message type,
 * protocol version or network never verifies as another. Payloads are canonical
 * encodings from src/codec/binary.ts, never JSON.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { BinaryWriter } from '../codec/binary.ts';

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
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface SigningDomain {
  type: MessageType;
  networkId: string;
  version?: number;
}

const SIGNATURE_TAG = new TextEncoder().encode('sprintnet/sig');

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

/** Never throws on malformed input: anything that is not a valid signature is `false`. */
export function verifyTyped(
  publicKey: Uint8Array,
  domain: SigningDomain,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, signingBytes(domain, payload), publicKey);
  } catch {
    return false;
  }
}
