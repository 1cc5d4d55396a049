/**
 * Gossip validation, shared by every topic: decode → limits → network/version → topic binding →
 * signature → gossipsub origin binding → clock/Sprint window → topic check → authorization → replay. Pure apart
 * from the replay cache, so tests can drive it without a network.
 */
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { DecodeError } from '../codec/binary.ts';
import type { NetworkConfig } from './config.ts';
import { relayPeerIds } from './connections.ts';
import { ENVELOPE_OVERHEAD_BYTES, decodeEnvelope, verifyEnvelope, type Envelope } from './envelope.ts';
import { ReplayCache } from './replay-cache.ts';
import type { TopicRegistry, TopicSpec } from './registry.ts';

export type RejectReason =
  | 'oversize'
  | 'malformed'
  | 'wrong-network'
  | 'wrong-version'
  | 'wrong-topic'
  | 'bad-signature'
  | 'wrong-origin'
  | 'stale'
  | 'wrong-sprint'
  | 'replay'
  /** The sender already has `replayCacheMaxPerSender` envelopes inside the clock window. */
  | 'flood'
  /** The replay cache is full and the envelope is older than what it still remembers. */
  | 'overloaded'
  | 'invalid-payload'
  /** The topic's `authorize` refused it under this node's configuration (e.g. an unknown relay). */
  | 'unauthorized'
  | 'unknown-topic';

export type Verdict<T = unknown> = { ok: true; envelope: Envelope; value: T; spec: TopicSpec<T> } | { ok: false; reason: RejectReason; detail?: string };

/**
 * The key that signed the gossipsub message (its `from`), as gossipsub hands it to a validator.
 * `null`: the message was unsigned. Gossipsub has already checked that the key matches `from` and
 * that the libp2p signature verifies.
 */
export interface GossipOrigin {
  type: string;
  raw: Uint8Array;
}

/** The origin of a gossipsub message, in the shape `validate` takes. */
export function gossipOrigin(msg: { type: 'signed'; key: GossipOrigin } | { type: 'unsigned' }): GossipOrigin | null {
  return msg.type === 'signed' ? msg.key : null;
}

export class EnvelopeValidator {
  private readonly replays: ReplayCache;
  private readonly relayIds: ReadonlySet<string>;

  constructor(
    private readonly config: NetworkConfig,
    private readonly registry: TopicRegistry,
    private readonly now: () => number = Date.now,
  ) {
    // An envelope stamped t passes the clock check until t + skew, so that is how long it is kept.
    this.replays = new ReplayCache({
      windowMs: config.maxClockSkewMs,
      maxEntries: config.replayCacheMaxEntries,
      maxPerSender: config.replayCacheMaxPerSender,
    });
    this.relayIds = new Set(relayPeerIds(config.relays).keys());
  }

  /** Live entries in the replay cache (for tests and status). */
  get replayCacheSize(): number {
    return this.replays.size;
  }

  /**
   * @param topicName short registered name the message arrived on
   * @param data raw gossip data
   * @param origin the key that signed the gossipsub message (`gossipOrigin(msg)`); it must be an
   *   Ed25519 key equal to the envelope's sender, so nobody can re-publish another wallet's envelope
   */
  validate(topicName: string, data: Uint8Array, origin: GossipOrigin | null): Verdict {
    const spec = this.registry.get(topicName);
    if (!spec) return { ok: false, reason: 'unknown-topic', detail: topicName };
    if (data.length > spec.maxPayloadBytes + ENVELOPE_OVERHEAD_BYTES) {
      return { ok: false, reason: 'oversize', detail: `${data.length} bytes` };
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(data, spec.maxPayloadBytes);
    } catch (e) {
      if (e instanceof DecodeError) {
        const oversize = /exceeds limit/.test(e.message);
        return { ok: false, reason: oversize ? 'oversize' : 'malformed', detail: e.message };
      }
      throw e;
    }
    const { config } = this;
    if (envelope.networkId !== config.networkId) return { ok: false, reason: 'wrong-network', detail: envelope.networkId };
    if (envelope.version !== config.protocolVersion) return { ok: false, reason: 'wrong-version', detail: String(envelope.version) };
    if (envelope.topic !== topicName) return { ok: false, reason: 'wrong-topic', detail: envelope.topic };
    if (!verifyEnvelope(envelope)) return { ok: false, reason: 'bad-signature' };
    // Someone re-publishing another wallet's envelope under their own libp2p key is not its origin.
    // Fail closed: no key (unsigned), another key type (secp256k1, RSA) or another Ed25519 key.
    if (!origin) return { ok: false, reason: 'wrong-origin', detail: 'unsigned gossipsub message' };
    if (origin.type !== 'Ed25519') return { ok: false, reason: 'wrong-origin', detail: `${origin.type} gossipsub key` };
    if (!equalBytes(origin.raw, envelope.sender)) return { ok: false, reason: 'wrong-origin', detail: 'gossipsub key is not the envelope sender' };
    const now = this.now();
    if (Math.abs(envelope.timestampMs - now) > config.maxClockSkewMs) {
      return { ok: false, reason: 'stale', detail: `${envelope.timestampMs - now} ms off` };
    }
    const sprint = config.currentSprint();
    if (sprint !== undefined && Math.abs(envelope.sprint - sprint) > config.sprintWindow) {
      return { ok: false, reason: 'wrong-sprint', detail: `${envelope.sprint} vs ${sprint}` };
    }
    let value: unknown;
    try {
      value = spec.codec.decode(envelope.payload);
    } catch (e) {
      if (e instanceof DecodeError) return { ok: false, reason: 'malformed', detail: e.message };
      throw e;
    }
    if (spec.check || spec.authorize) {
      const context = { senderPeerId: peerIdFromPublicKey(publicKeyFromRaw(envelope.sender)).toString(), relayPeerIds: this.relayIds };
      const problem = spec.check?.(value, envelope.sender, context);
      if (problem) return { ok: false, reason: 'invalid-payload', detail: problem };
      const refusal = spec.authorize?.(value, context);
      if (refusal) return { ok: false, reason: 'unauthorized', detail: refusal };
    }
    // Last, so an invalid copy cannot burn the id of a valid message.
    switch (this.replays.check(envelope.sender, envelope.id, envelope.timestampMs, now)) {
      case 'new':
        return { ok: true, envelope, value, spec };
      case 'replay':
        return { ok: false, reason: 'replay' };
      case 'sender-full':
        return { ok: false, reason: 'flood', detail: `more than ${config.replayCacheMaxPerSender} envelopes in the clock window` };
      case 'below-floor':
        return { ok: false, reason: 'overloaded', detail: `replay cache full; stamped below ${this.replays.floorMs}` };
    }
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!; // i < a.length = b.length
  return diff === 0;
}
