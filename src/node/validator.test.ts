import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { networkConfig } from './config.ts';
import { encodeEnvelope, randomEnvelopeId, signEnvelope, type EnvelopeFields } from './envelope.ts';
import { TopicRegistry } from './registry.ts';
import { PeerScores } from './scores.ts';
import { presenceCodec, presenceTopic } from './topics/presence.ts';
import { EnvelopeValidator } from './validator.ts';

const NOW = 1_700_000_000_000;
const seed = new Uint8Array(32).fill(9);
const registry = new TopicRegistry();
registry.register(presenceTopic);
const payload = presenceCodec.encode({ role: 'host', label: 't', multiaddrs: [] });

function envelope(overrides: Partial<EnvelopeFields> = {}, signer = seed): Uint8Array {
  return encodeEnvelope(
    signEnvelope(signer, {
      version: 1,
      networkId: 'sprintnet-local',
      topic: 'presence',
      sender: ed25519.getPublicKey(seed),
      id: randomEnvelopeId(),
      timestampMs: NOW,
      sprint: 10,
      payload,
      ...overrides,
    }),
  );
}

function validator(sprint?: number) {
  return new EnvelopeValidator(networkConfig({ currentSprint: () => sprint }), registry, () => NOW);
}

describe('envelope validation', () => {
  it('accepts a well-formed message and rejects its replay', () => {
    const v = validator(10);
    const bytes = envelope();
    expect(v.validate('presence', bytes).ok).toBe(true);
    expect(v.validate('presence', bytes)).toMatchObject({ ok: false, reason: 'replay' });
  });

  it.each([
    ['wrong-network', () => envelope({ networkId: 'evil-net' })],
    ['wrong-version', () => envelope({ version: 9 })],
    ['wrong-topic', () => envelope({ topic: 'other' })],
    ['bad-signature', () => envelope({}, new Uint8Array(32).fill(1))],
    ['stale', () => envelope({ timestampMs: NOW - 3_600_000 })],
    ['wrong-sprint', () => envelope({ sprint: 20 })],
    ['oversize', () => envelope({ payload: new Uint8Array(presenceTopic.maxPayloadBytes + 1) })],
    ['malformed', () => envelope({ payload: Uint8Array.of(9, 9) })],
    ['malformed', () => Uint8Array.of(1, 2, 3)],
  ])('rejects %s', (reason, make) => {
    expect(validator(10).validate('presence', make())).toMatchObject({ ok: false, reason });
  });

  it('rejects an envelope re-published by another libp2p key', () => {
    const other = ed25519.getPublicKey(new Uint8Array(32).fill(2));
    expect(validator().validate('presence', envelope(), other)).toMatchObject({ ok: false, reason: 'wrong-origin' });
  });

  it('skips the Sprint check when the Sprint is unknown', () => {
    expect(validator(undefined).validate('presence', envelope({ sprint: 999 })).ok).toBe(true);
  });
});

describe('peer scores', () => {
  it('scores down, disconnects below the threshold, bans, and recovers', () => {
    let now = 0;
    const disconnected: string[] = [];
    const scores = new PeerScores(-30, 60_000, { onDisconnect: (p) => disconnected.push(p) }, 5, () => now);
    expect(scores.penalize('p', 'bad-signature')).toBe(false);
    expect(scores.score('p')).toBe(-20);
    expect(scores.penalize('p', 'oversize')).toBe(false);
    expect(scores.penalize('p', 'replay')).toBe(true);
    expect(disconnected).toEqual(['p']);
    expect(scores.isBanned('p')).toBe(true);
    now = 61_000;
    expect(scores.isBanned('p')).toBe(false);
    expect(scores.score('p')).toBeCloseTo(-35 + 61 / 60 * 5);
  });
});
