import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { networkConfig, type NetworkConfig } from './config.ts';
import { peerIdFromPublicKeyBytes } from './node.ts';
import { encodeEnvelope, randomEnvelopeId, signEnvelope, type EnvelopeFields } from './envelope.ts';
import { TopicRegistry } from './registry.ts';
import { PeerScores } from './scores.ts';
import { presenceCodec, presenceTopic } from './topics/presence.ts';
import { EnvelopeValidator, type GossipOrigin } from './validator.ts';

const NOW = 1_700_000_000_000;
const seed = new Uint8Array(32).fill(9);
const registry = new TopicRegistry();
registry.register(presenceTopic);
const payload = presenceCodec.encode({ role: 'host', label: 't', multiaddrs: [] });

function envelope(overrides: Partial<EnvelopeFields> = {}, signer: Uint8Array = seed): Uint8Array {
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

function validator(sprint?: number, config: Partial<NetworkConfig> = {}, now: () => number = () => NOW) {
  return new EnvelopeValidator(networkConfig({ currentSprint: () => sprint, ...config }), registry, now);
}

/** The gossipsub origin of a message published by the libp2p node of `signer`. */
const originOf = (signer: Uint8Array): GossipOrigin => ({ type: 'Ed25519', raw: ed25519.getPublicKey(signer) });
const ORIGIN = originOf(seed);

describe('envelope validation', () => {
  it('accepts a well-formed message and rejects its replay', () => {
    const v = validator(10);
    const bytes = envelope();
    expect(v.validate('presence', bytes, ORIGIN).ok).toBe(true);
    expect(v.validate('presence', bytes, ORIGIN)).toMatchObject({ ok: false, reason: 'replay' });
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
    expect(validator(10).validate('presence', make(), ORIGIN)).toMatchObject({ ok: false, reason });
  });

  it('rejects an envelope re-published by another libp2p key', () => {
    const other = ed25519.getPublicKey(new Uint8Array(32).fill(2));
    expect(validator().validate('presence', envelope(), { type: 'Ed25519', raw: other })).toMatchObject({ ok: false, reason: 'wrong-origin' });
  });

  it('fails closed on a secp256k1 (or any non-Ed25519) gossipsub key and on an unsigned message', async () => {
    // The old check skipped the binding for any key that was not Ed25519, so a secp256k1 peer could
    // re-publish another host's envelope as its own.
    const secp = (await generateKeyPair('secp256k1')).publicKey;
    expect(secp.type).toBe('secp256k1');
    expect(validator().validate('presence', envelope(), secp)).toMatchObject({ ok: false, reason: 'wrong-origin', detail: 'secp256k1 gossipsub key' });
    const rsaLike: GossipOrigin = { type: 'RSA', raw: ed25519.getPublicKey(seed) };
    expect(validator().validate('presence', envelope(), rsaLike)).toMatchObject({ ok: false, reason: 'wrong-origin' });
    expect(validator().validate('presence', envelope(), null)).toMatchObject({ ok: false, reason: 'wrong-origin' });
    expect(validator().validate('presence', envelope(), ORIGIN).ok).toBe(true);
  });

  it('skips the Sprint check when the Sprint is unknown', () => {
    expect(validator(undefined).validate('presence', envelope({ sprint: 999 }), ORIGIN).ok).toBe(true);
  });
});

describe('replay protection', () => {
  const attackerSeed = new Uint8Array(32).fill(66);
  const signedBy = (signer: Uint8Array, overrides: Partial<EnvelopeFields> = {}) => envelope({ sender: ed25519.getPublicKey(signer), ...overrides }, signer);

  it("an envelope published first under a victim's id does not burn the victim's message", () => {
    const v = validator();
    const id = randomEnvelopeId();
    // The attacker saw the victim's id on the wire and raced its own envelope with that id.
    expect(v.validate('presence', signedBy(attackerSeed, { id }), originOf(attackerSeed)).ok).toBe(true);
    expect(v.validate('presence', signedBy(seed, { id }), ORIGIN).ok).toBe(true);
    // Each sender's own repeat is still a replay.
    expect(v.validate('presence', signedBy(seed, { id }), ORIGIN)).toMatchObject({ ok: false, reason: 'replay' });
  });

  it("remembers an envelope for its whole clock window, beyond gossipsub's 2-minute seen-cache", () => {
    let now = NOW;
    const v = validator(undefined, {}, () => now);
    const bytes = envelope();
    expect(v.validate('presence', bytes, ORIGIN).ok).toBe(true);
    now = NOW + 2 * 60_000 + 1; // gossipsub has forgotten the message id
    expect(v.validate('presence', bytes, ORIGIN)).toMatchObject({ ok: false, reason: 'replay' });
    now = NOW + 5 * 60_000; // the last instant the clock check lets it through
    expect(v.validate('presence', bytes, ORIGIN)).toMatchObject({ ok: false, reason: 'replay' });
    now = NOW + 5 * 60_000 + 1;
    expect(v.validate('presence', bytes, ORIGIN)).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('bounds each sender: past its quota a sender is refused as a flood, others are not', () => {
    const v = validator(undefined, { replayCacheMaxPerSender: 3 });
    for (let i = 0; i < 3; i++) expect(v.validate('presence', envelope(), ORIGIN).ok).toBe(true);
    expect(v.validate('presence', envelope(), ORIGIN)).toMatchObject({ ok: false, reason: 'flood' });
    expect(v.validate('presence', signedBy(attackerSeed), originOf(attackerSeed)).ok).toBe(true);
  });

  it('a full cache never forgets an id that could still be accepted', () => {
    let now = NOW;
    const v = validator(undefined, { replayCacheMaxEntries: 8 }, () => now);
    const victim = envelope({ timestampMs: NOW });
    expect(v.validate('presence', victim, ORIGIN).ok).toBe(true);
    // Other senders, one a second: the cache fills and drops its oldest entries.
    for (let i = 1; i <= 20; i++) {
      now = NOW + i * 1_000;
      const signer = new Uint8Array(32).fill(100 + i);
      expect(v.validate('presence', signedBy(signer, { timestampMs: now }), originOf(signer)).ok).toBe(true);
    }
    expect(v.replayCacheSize).toBe(8);
    // The victim's envelope is no longer remembered, and still not accepted again.
    expect(v.validate('presence', victim, ORIGIN)).toMatchObject({ ok: false, reason: 'overloaded' });
    // Nor is anything stamped no later than the oldest entry still held, while the cache is full.
    const signer = new Uint8Array(32).fill(99);
    expect(v.validate('presence', signedBy(signer, { timestampMs: NOW + 13_000 }), originOf(signer))).toMatchObject({ ok: false, reason: 'overloaded' });
    expect(v.validate('presence', signedBy(signer, { timestampMs: now }), originOf(signer)).ok).toBe(true);
  });
});

describe('presence content', () => {
  const hostSeed = new Uint8Array(32).fill(7);
  const hostKey = ed25519.getPublicKey(hostSeed);
  const hostId = peerIdFromPublicKeyBytes(hostKey);
  const relayAddr = `/ip4/10.0.0.1/tcp/9090/ws/p2p/${hostId}`;
  const presenceFrom = (signer: Uint8Array, p: Parameters<typeof presenceCodec.encode>[0]) =>
    envelope({ sender: ed25519.getPublicKey(signer), payload: presenceCodec.encode(p) }, signer);

  it('accepts addresses that end with the sender and rejects unparseable or foreign ones', () => {
    const v = validator();
    const own = `/ip4/10.0.0.1/tcp/9090/ws/p2p/${peerIdFromPublicKeyBytes(hostKey)}`;
    expect(v.validate('presence', presenceFrom(hostSeed, { role: 'host', label: 'h', multiaddrs: [own] }), originOf(hostSeed)).ok).toBe(true);
    expect(v.validate('presence', presenceFrom(hostSeed, { role: 'host', label: 'h', multiaddrs: ['/not-a/multiaddr'] }), originOf(hostSeed))).toMatchObject({
      ok: false,
      reason: 'invalid-payload',
    });
    const other = peerIdFromPublicKeyBytes(ed25519.getPublicKey(seed));
    for (const a of [`/ip4/192.168.1.20/tcp/22/ws/p2p/${other}`, '/ip4/192.168.1.20/tcp/22/ws']) {
      expect(v.validate('presence', presenceFrom(hostSeed, { role: 'host', label: 'h', multiaddrs: [a] }), originOf(hostSeed))).toMatchObject({
        ok: false,
        reason: 'invalid-payload',
      });
    }
  });

  it('grants the relay role only to configured relay peer ids', () => {
    const withRelay = validator(undefined, { relays: [relayAddr] });
    expect(withRelay.validate('presence', presenceFrom(hostSeed, { role: 'relay', label: 'r', multiaddrs: [] }), originOf(hostSeed)).ok).toBe(true);
    expect(validator().validate('presence', presenceFrom(hostSeed, { role: 'relay', label: 'r', multiaddrs: [] }), originOf(hostSeed))).toMatchObject({
      ok: false,
      reason: 'unauthorized',
    });
  });

  it('rejects an unknown role byte', () => {
    const payload = presenceCodec.encode({ role: 'host', label: '', multiaddrs: [] });
    payload[0] = 3;
    expect(validator().validate('presence', envelope({ payload }), ORIGIN)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('keeps labels up to the 64 bytes the decoder allows, cutting at a character boundary', () => {
    const long = 'sprintnet-host-in-the-basement-rack-7'; // 37 characters: the old encoder kept 16
    expect(presenceCodec.decode(presenceCodec.encode({ role: 'host', label: long, multiaddrs: [] })).label).toBe(long);
    const accents = 'é'.repeat(40); // 80 bytes
    const label = presenceCodec.decode(presenceCodec.encode({ role: 'host', label: accents, multiaddrs: [] })).label;
    expect(label).toBe('é'.repeat(32));
    expect(new TextEncoder().encode(label).length).toBe(64);
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
    expect(scores.score('p')).toBeCloseTo(-35 + (61 / 60) * 5);
  });

  it('stays bounded when many peer ids misbehave once: recovered scores and ended bans are forgotten', () => {
    let now = 0;
    const scores = new PeerScores(-30, 60_000, {}, 5, () => now);
    for (let i = 0; i < 5_000; i++) {
      now = i * 100; // one new peer id every 100 ms, each losing 10 points (recovered in 2 minutes)
      scores.penalize(`sybil-${i}`, 'malformed');
    }
    // Only the last 2 minutes' peers (1 200) still have a score; the table holds at most twice that.
    expect(scores.size).toBeLessThanOrEqual(2 * 1_200);
    expect(scores.score('sybil-4999')).toBe(-10);
  });
});
