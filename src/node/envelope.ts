/**
 * The signed gossip envelope. Every gossip message is one envelope; the payload inside is the
 * canonical encoding of a topic's own message type (see registry.ts).
 *
 * Wire format (src/codec/binary.ts primitives, little-endian):
 *   u16 version | string networkId | string topic | fixed(32) sender Ed25519 public key |
 *   fixed(16) message id | u64 timestampMs | u64 sprint | bytes payload | fixed(64) signature
 * The signature is signTyped(GossipEnvelope) over every byte before it, so version, network,
 * topic, sender, id, time and Sprint are all bound to the sender's wallet key.
 */
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { MessageType, signTyped, verifyTyped } from '../wallet/signing.ts';

export const ENVELOPE_ID_BYTES = 16;
export const MAX_NETWORK_ID_BYTES = 64;
export const MAX_TOPIC_BYTES = 128;
/** Fixed overhead around a payload, for topic size budgets. */
export const ENVELOPE_OVERHEAD_BYTES = 2 + 4 + MAX_NETWORK_ID_BYTES + 4 + MAX_TOPIC_BYTES + 32 + 16 + 8 + 8 + 4 + 64;

export interface EnvelopeFields {
  version: number;
  networkId: string;
  topic: string;
  sender: Uint8Array;
  id: Uint8Array;
  timestampMs: number;
  sprint: number;
  payload: Uint8Array;
}

export interface Envelope extends EnvelopeFields {
  signature: Uint8Array;
}

function writeUnsigned(w: BinaryWriter, e: EnvelopeFields): BinaryWriter {
  return w
    .u16(e.version)
    .string(e.networkId)
    .string(e.topic)
    .fixed(e.sender, 32)
    .fixed(e.id, ENVELOPE_ID_BYTES)
    .u64(e.timestampMs)
    .u64(e.sprint)
    .bytes(e.payload);
}

export function unsignedEnvelopeBytes(e: EnvelopeFields): Uint8Array {
  return writeUnsigned(new BinaryWriter(), e).finish();
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  return writeUnsigned(new BinaryWriter(), e).fixed(e.signature, 64).finish();
}

/** Throws DecodeError (only) on malformed input. `maxPayloadBytes` bounds allocation. */
export function decodeEnvelope(bytes: Uint8Array, maxPayloadBytes = bytes.length): Envelope {
  const r = new BinaryReader(bytes);
  const version = r.u16();
  const networkId = r.string(MAX_NETWORK_ID_BYTES);
  const topic = r.string(MAX_TOPIC_BYTES);
  const sender = r.fixed(32);
  const id = r.fixed(ENVELOPE_ID_BYTES);
  const timestampMs = r.u64();
  const sprint = r.u64();
  const payload = r.bytes(maxPayloadBytes);
  const signature = r.fixed(64);
  r.end();
  return { version, networkId, topic, sender, id, timestampMs, sprint, payload, signature };
}

export function signEnvelope(ed25519Seed: Uint8Array, fields: EnvelopeFields): Envelope {
  const signature = signTyped(
    ed25519Seed,
    { type: MessageType.GossipEnvelope, networkId: fields.networkId, version: fields.version },
    unsignedEnvelopeBytes(fields),
  );
  return { ...fields, signature };
}

/**
 * Strict: verifyTyped refuses a sender key that is non-canonical, of small order or outside the
 * prime-order subgroup (checkPublicKey), so the identity-key forgery (R = identity, S = 0) fails.
 */
export function verifyEnvelope(e: Envelope): boolean {
  return verifyTyped(e.sender, { type: MessageType.GossipEnvelope, networkId: e.networkId, version: e.version }, unsignedEnvelopeBytes(e), e.signature);
}

export function randomEnvelopeId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ENVELOPE_ID_BYTES));
}

export { DecodeError };
