import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeEnvelope, encodeEnvelope, randomEnvelopeId, signEnvelope, unsignedEnvelopeBytes, verifyEnvelope, type Envelope } from './envelope.ts';
import { MessageType, signingBytes } from '../wallet/signing.ts';
import { at } from '../sprint/indexing.ts';

const IDENTITY = ed25519.Point.ZERO.toBytes(); // 01 00 … 00
const ORDER_8 = ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', false).toBytes();

/** An envelope "signed" by a small-order sender with R = identity, S = 0, through the wire codec. */
function forge(sender: Uint8Array, i: number): Envelope {
  const signature = new Uint8Array(64);
  signature.set(IDENTITY, 0);
  const env: Envelope = {
    version: 1,
    networkId: 'sprintnet-local',
    topic: at(['presence', 'proofs', 'votes', 'compute', 'lottery'], i % 5, 'topic'),
    sender,
    id: randomEnvelopeId(),
    timestampMs: Date.now() + i,
    sprint: 40 + i,
    payload: new TextEncoder().encode(`forged message ${i}`),
    signature,
  };
  return decodeEnvelope(encodeEnvelope(env));
}

describe('envelopes from small-order senders (issue 9, high)', () => {
  it('5 of 5 forged envelopes that verified under ZIP-215 are now rejected', () => {
    for (const sender of [IDENTITY, ORDER_8]) {
      for (let i = 0; i < 5; i++) {
        const env = forge(sender, i);
        const domain = { type: MessageType.GossipEnvelope, networkId: env.networkId, version: env.version };
        // What the old verifyTyped (noble's ZIP-215 default) said about it:
        expect(ed25519.verify(env.signature, signingBytes(domain, unsignedEnvelopeBytes(env)), sender)).toBe(true);
        expect(verifyEnvelope(env)).toBe(false);
      }
    }
  });

  it('an honest envelope still verifies', () => {
    const seed = new Uint8Array(32).fill(9);
    const env = signEnvelope(seed, { ...forge(IDENTITY, 0), sender: ed25519.getPublicKey(seed) });
    expect(verifyEnvelope(decodeEnvelope(encodeEnvelope(env)))).toBe(true);
  });
});
