/**
 * Gossip envelopes: decodeEnvelope, verifyEnvelope and the whole EnvelopeValidator (network, version,
 * topic, signature, origin, clock, Sprint, presence payload check, replay) on signed envelopes that
 * are byte-mutated, or re-encoded with one field changed and re-signed so they get past the
 * signature to the later checks.
 */
import fc from 'fast-check';
import { DecodeError } from '../../codec/binary.ts';
import { networkConfig } from '../../node/config.ts';
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope, type EnvelopeFields } from '../../node/envelope.ts';
import { defaultRegistry } from '../../node/topics/index.ts';
import { presenceCodec, presenceTopic, type Presence } from '../../node/topics/presence.ts';
import { EnvelopeValidator, type GossipOrigin } from '../../node/validator.ts';
import { hex, mutatedBytes, type FuzzTarget } from '../harness.ts';
import { SMALL_ORDER_ED25519, key, multiaddrText } from './samples.ts';
import { at } from '../../sprint/indexing.ts';

type OriginKind = 'sender' | 'other' | 'none' | 'secp256k1';

interface Input {
  bytes: Uint8Array;
  origin: OriginKind;
}

export const envelopeTarget: FuzzTarget<Input> = {
  name: 'envelope',
  covers: 'decodeEnvelope, verifyEnvelope, EnvelopeValidator.validate on the presence topic (src/node/envelope.ts, validator.ts)',
  async setup() {
    const keys = [1, 2, 3, 4].map(key);
    const config = networkConfig();
    const t0 = Date.now();
    const validator = new EnvelopeValidator(config, defaultRegistry(), () => t0);
    const peerIds = keys.map((k) => k.peerId);
    const base = (k: (typeof keys)[number], payload: Uint8Array, i: number): EnvelopeFields => ({
      version: config.protocolVersion,
      networkId: config.networkId,
      topic: 'presence',
      sender: k.pub,
      id: Uint8Array.of(i, ...new Uint8Array(15)),
      timestampMs: t0 - 1000 + i,
      sprint: 0,
      payload,
    });
    const presence = (k: (typeof keys)[number], i: number): Presence => ({
      role: i % 3 === 0 ? 'browser' : 'host',
      label: `peer-${i}`,
      multiaddrs: [`/ip4/127.0.0.1/tcp/${9000 + i}/ws/p2p/${peerIds[0]}/p2p-circuit/webrtc/p2p/${k.peerId}`],
    });
    const samples: Uint8Array[] = [];
    keys.forEach((k, i) => {
      for (let j = 0; j < 4; j++) samples.push(encodeEnvelope(signEnvelope(k.seed, base(k, presenceCodec.encode(presence(k, i * 4 + j)), i * 4 + j))));
    });
    // One field changed, then signed by the sender (or by another key: a forgery).
    const payloadArb = fc.oneof(
      fc
        .record({
          role: fc.constantFrom('browser', 'host', 'relay' as const),
          label: fc.string({ unit: 'binary', maxLength: 70 }),
          multiaddrs: fc.array(multiaddrText(peerIds), { maxLength: 17 }),
        })
        .map((p) => presenceCodec.encode(p)),
      mutatedBytes(
        samples.map((s) => decodeEnvelope(s).payload),
        { maxMutations: 3 },
      ),
    );
    const resigned = fc
      .record({
        k: fc.nat({ max: keys.length - 1 }),
        signer: fc.option(fc.nat({ max: keys.length - 1 }), { freq: 8 }),
        change: fc.oneof(
          fc.record({ networkId: fc.oneof(fc.constant(config.networkId), fc.string({ unit: 'binary', maxLength: 70 })) }),
          fc.record({ topic: fc.constantFrom('presence', 'sprint-proof', '', 'presence\u0000', 'x'.repeat(129)) }),
          fc.record({ version: fc.oneof(fc.constant(config.protocolVersion), fc.nat({ max: 0xffff })) }),
          fc.record({ timestampMs: fc.oneof(fc.integer({ min: t0 - 600_000, max: t0 + 600_000 }), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)) }),
          fc.record({ sprint: fc.oneof(fc.nat({ max: 3 }), fc.constant(Number.MAX_SAFE_INTEGER)) }),
          fc.record({ payload: payloadArb }),
          fc.record({ id: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
        ),
        i: fc.nat({ max: 255 }),
      })
      .map(({ k, signer, change, i }) => {
        const key = at(keys, k, 'key');
        const fields = { ...base(key, presenceCodec.encode(presence(key, i)), i), id: Uint8Array.of(i, k, ...new Uint8Array(14)), ...change };
        const seed = at(keys, signer ?? k, 'signer key').seed;
        try {
          return encodeEnvelope(signEnvelope(seed, fields));
        } catch {
          return encodeEnvelope(signEnvelope(seed, base(key, fields.payload.slice(0, presenceTopic.maxPayloadBytes), i)));
        }
      });
    // A small-order sender with the (R = identity, S = 0) signature that verifies everything under ZIP-215.
    const forged = fc.tuple(fc.constantFrom(...SMALL_ORDER_ED25519), fc.nat({ max: 15 })).map(([sender, i]) => {
      const first = at(keys, 0, 'key');
      const fields = { ...base(first, presenceCodec.encode(presence(first, i)), i), sender };
      const sig = new Uint8Array(64);
      sig[0] = 1;
      return encodeEnvelope({ ...fields, signature: sig });
    });
    const arbitrary = fc.record({
      bytes: fc.oneof(
        { weight: 5, arbitrary: mutatedBytes(samples, { maxRandomLength: 600 }) },
        { weight: 4, arbitrary: resigned },
        { weight: 1, arbitrary: forged },
      ),
      origin: fc.constantFrom<OriginKind>('sender', 'sender', 'sender', 'other', 'none', 'secp256k1'),
    });
    const originFor = (input: Input): GossipOrigin | null => {
      if (input.origin === 'none') return null;
      if (input.origin === 'secp256k1') return { type: 'secp256k1', raw: new Uint8Array(33).fill(2) };
      if (input.origin === 'other') return { type: 'Ed25519', raw: at(keys, 3, 'key').pub };
      // The sender's key as gossipsub would report it: read it off the bytes where it sits.
      try {
        return { type: 'Ed25519', raw: decodeEnvelope(input.bytes).sender };
      } catch {
        return { type: 'Ed25519', raw: at(keys, 0, 'key').pub };
      }
    };
    return {
      arbitrary,
      run(input) {
        try {
          const envelope = decodeEnvelope(input.bytes, presenceTopic.maxPayloadBytes);
          verifyEnvelope(envelope);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
        const verdict = validator.validate('presence', input.bytes, originFor(input));
        return verdict.ok ? 'accepted' : { rejected: verdict.reason };
      },
      describe: (input) => `origin=${input.origin} ${hex(input.bytes)}`,
    };
  },
};
