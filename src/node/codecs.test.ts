import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../codec/binary.ts';
import { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope, type EnvelopeFields } from './envelope.ts';
import { presenceCodec, type Presence } from './topics/presence.ts';
import { ed25519 } from '@noble/curves/ed25519.js';

const seed = new Uint8Array(32).fill(7);
const fields: EnvelopeFields = {
  version: 1,
  networkId: 'sprintnet-local',
  topic: 'presence',
  sender: ed25519.getPublicKey(seed),
  id: new Uint8Array(16).fill(1),
  timestampMs: 1_700_000_000_000,
  sprint: 42,
  payload: Uint8Array.of(1, 2, 3),
};

/** Decoding arbitrary bytes may fail, but only with DecodeError. */
function onlyDecodeErrors(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

function mutate(bytes: Uint8Array, edits: Array<[number, number]>, cut: number): Uint8Array {
  const out = bytes.slice(0, Math.max(0, bytes.length - cut));
  for (const [at, v] of edits) if (out.length) out[at % out.length] = v;
  return out;
}

describe('envelope codec', () => {
  it('round-trips and verifies', () => {
    const env = signEnvelope(seed, fields);
    const back = decodeEnvelope(encodeEnvelope(env));
    expect(back).toEqual(env);
    expect(verifyEnvelope(back)).toBe(true);
  });

  it('round-trips arbitrary field values', () => {
    fc.assert(
      fc.property(
        fc.record({
          networkId: fc.string({ maxLength: 16 }),
          topic: fc.string({ maxLength: 32 }),
          timestampMs: fc.nat(),
          sprint: fc.nat(),
          payload: fc.uint8Array({ maxLength: 256 }),
          id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        }),
        (f) => {
          const env = signEnvelope(seed, { ...fields, ...f });
          expect(decodeEnvelope(encodeEnvelope(env))).toEqual(env);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('any single-field change breaks the signature', () => {
    const env = signEnvelope(seed, fields);
    for (const change of [{ networkId: 'other' }, { version: 2 }, { topic: 'x' }, { sprint: 43 }, { timestampMs: 1 }]) {
      expect(verifyEnvelope({ ...env, ...change })).toBe(false);
    }
  });

  it('mutated or random bytes fail only with DecodeError', () => {
    const good = encodeEnvelope(signEnvelope(seed, fields));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat({ max: 40 }), (edits, cut) => {
        onlyDecodeErrors((b) => decodeEnvelope(b, 1024), mutate(good, edits, cut));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyDecodeErrors((b) => decodeEnvelope(b, 1024), bytes)),
      { numRuns: 500 },
    );
  });
});

describe('presence codec', () => {
  const p: Presence = { role: 'browser', label: 'chromium', multiaddrs: ['/ip4/127.0.0.1/tcp/1/ws/p2p-circuit/webrtc'] };

  it('round-trips', () => {
    expect(presenceCodec.decode(presenceCodec.encode(p))).toEqual(p);
    fc.assert(
      fc.property(
        fc.constantFrom('browser', 'host', 'relay' as const),
        fc.string({ maxLength: 16 }),
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 16 }),
        (role, label, multiaddrs) => {
          const v: Presence = { role, label, multiaddrs };
          expect(presenceCodec.decode(presenceCodec.encode(v))).toEqual(v);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('mutated or random bytes fail only with DecodeError', () => {
    const good = presenceCodec.encode(p);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat({ max: 10 }), (edits, cut) => {
        onlyDecodeErrors(presenceCodec.decode, mutate(good, edits, cut));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyDecodeErrors(presenceCodec.decode, b)),
      { numRuns: 500 },
    );
  });
});

describe('request/response framing', () => {
  it('hostile frame streams fail only with typed request errors', async () => {
    const { FrameReader } = await import('./framing.ts');
    const { RequestError } = await import('./errors.ts');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), fc.nat({ max: 100_000 }), async (chunks, length) => {
        const reader = new FrameReader(
          (async function* () {
            yield* chunks;
          })(),
        );
        try {
          await reader.next();
          await reader.body(length, 50_000);
        } catch (e) {
          if (!(e instanceof RequestError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
