/**
 * Gossip validation, shared by every topic: decode → limits → network/version → topic binding →
 * signature → gossipsub origin binding → clock/Sprint window → replay → topic check. Pure apart
 * from the replay cache, so tests can drive it without a network.
 */
import { DecodeError } from '../codec/binary.ts';
import type { NetworkConfig } from './config.ts';
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
  | 'invalid-payload'
  | 'unknown-topic';

export type Verdict<T = unknown> =
  | { ok: true; envelope: Envelope; value: T; spec: TopicSpec<T> }
  | { ok: false; reason: RejectReason; detail?: string };

export class EnvelopeValidator {
  private readonly replays: ReplayCache;

  constructor(
    private readonly config: NetworkConfig,
    private readonly registry: TopicRegistry,
    private readonly now: () => number = Date.now,
  ) {
    // An id older than twice the skew fails the clock check, so it need not be remembered longer.
    this.replays = new ReplayCache(2 * config.maxClockSkewMs);
  }

  /**
   * @param topicName short registered name the message arrived on
   * @param data raw gossip data
   * @param originPublicKey the gossipsub `from` key (Ed25519 raw), when the message was signed by libp2p
   */
  validate(topicName: string, data: Uint8Array, originPublicKey?: Uint8Array): Verdict {
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
    if (originPublicKey && !equalBytes(originPublicKey, envelope.sender)) return { ok: false, reason: 'wrong-origin' };
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
    const problem = spec.check?.(value, envelope.sender);
    if (problem) return { ok: false, reason: 'invalid-payload', detail: problem };
    // Last, so an invalid copy cannot burn the id of a valid message.
    if (!this.replays.remember(envelope.id, now)) return { ok: false, reason: 'replay' };
    return { ok: true, envelope, value, spec };
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
