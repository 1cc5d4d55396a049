import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeNonceList, encodeNonceList, nonceListRoot } from './claims.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { isProtocolError, ProtocolError } from './errors.ts';
import { decodeGenesis, encodeGenesis, fastTimings, genesisHash, makeGenesis, schedule } from './genesis.ts';
import { decodeState, encodeState, stateHash, type EpochState } from './ledger.ts';
import { decodeMessage, entryProblem, MAX_MESSAGE_BYTES, signMessage, Verdict, verifyMessage, type Unsigned, type ValidationBody } from './messages.ts';
import { decodeCertificate, encodeCertificate } from './certificate.ts';
import { decodeMessages, decodeRequest, encodeMessages, encodeRequest, type SyncRequest } from './sync.ts';
import { simIdentity } from './sim/simulate.ts';
import { inWindow, liveProblem } from './windows.ts';
import { fixtureProof } from './inference-fixtures.ts';
import { InferenceVerdict } from './inference-constants.ts';

const NET = 'codec-test';
const id = simIdentity(0, NET);
/** The genesis every message here is signed for (the signature covers its hash, docs/protocol.md §5). */
const G = makeGenesis({ networkId: NET, config: 'tiny', startMs: 1000, skewMs: 100, timings: fastTimings(2000, 100), hitRateDenominator: 8 });
const signer = walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });
const verifier = walletVerifier();
const key = (i: number) => ed25519.getPublicKey(new Uint8Array(32).fill(i + 1));
const h = (b: number) => new Uint8Array(32).fill(b);

/** Only typed protocol errors may come out of a decoder. */
function onlyProtocolErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}

describe('messages', () => {
  const header = { epoch: 3, sender: id.publicKey, timestampMs: 1_700_000_000_000 };
  const bodies: Unsigned[] = [
    { ...header, kind: 'commit', commitment: h(1) },
    { ...header, kind: 'reveal', secret: h(2) },
    { ...header, kind: 'proof', seed: h(3), count: 17, root: h(4), noncesTried: 1234 },
    {
      ...header,
      kind: 'validation',
      binding: id.binding,
      lottery: new Uint8Array(96).fill(5),
      entries: [
        { host: key(0), proofId: h(6), verdict: Verdict.ok, checked: 17, mismatches: 1 },
        { host: key(1), proofId: h(7), verdict: Verdict.unavailable, checked: 0, mismatches: 0 },
      ].sort((a, b) => Buffer.compare(a.host, b.host)),
    },
    { ...header, kind: 'vote', stateHash: h(8) },
  ];

  beforeAll(async () => {
    const proof = await fixtureProof({ userSeed: id.seed, volunteerSeed: new Uint8Array(32).fill(77), genesis: G, openedAtMs: 1, timestampMs: 2 });
    bodies.push(
      { ...header, kind: 'inference', proof },
      { ...header, kind: 'inferenceVerdict', proofId: h(9), verdict: InferenceVerdict.consistent, checked: 3 },
    );
  });

  it('round-trips every kind, verifies, and refuses another network, another genesis or a flipped byte', async () => {
    expect(new Set(bodies.map((b) => b.kind)).size).toBe(7);
    for (const u of bodies) {
      const m = await signMessage(signer, G, u);
      expect(m.bytes.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES[u.kind]);
      const back = decodeMessage(m.bytes);
      expect(back.id).toBe(m.id);
      expect(back.kind).toBe(u.kind);
      expect(verifyMessage(verifier, G, back)).toBe(true);
      expect(verifyMessage(verifier, { ...G, networkId: 'other-net' }, back)).toBe(false);
      // Same network id, another genesis (another start time): the signature covers the genesis hash.
      expect(verifyMessage(verifier, { ...G, startMs: G.startMs + 1 }, back)).toBe(false);
      const flipped = m.bytes.slice();
      flipped[20]! ^= 1;
      let ok = false;
      try {
        ok = verifyMessage(verifier, G, decodeMessage(flipped));
      } catch (e) {
        expect(isProtocolError(e)).toBe(true);
      }
      expect(ok).toBe(false);
    }
  });

  it('refuses truncation, trailing bytes, oversize and unknown kinds with typed errors', async () => {
    const m = await signMessage(signer, G, bodies[2]!);
    expect(() => decodeMessage(m.bytes.subarray(0, m.bytes.length - 1))).toThrow(ProtocolError);
    expect(() => decodeMessage(new Uint8Array([...m.bytes, 0]))).toThrow(/OVERSIZE|trailing|exceeds/);
    const unknown = m.bytes.slice();
    unknown[0] = 9;
    expect(() => decodeMessage(unknown)).toThrow(/unknown message kind/);
    expect(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES.validation + 1).fill(4))).toThrow(/exceeds/);
  });

  it('refuses validation entries whose verdict contradicts their counts, or unsorted entries', async () => {
    expect(entryProblem({ host: key(0), proofId: h(1), verdict: Verdict.ok, checked: 10, mismatches: 2 })).toMatch(/contradicts/);
    expect(entryProblem({ host: key(0), proofId: h(1), verdict: Verdict.mismatch, checked: 10, mismatches: 1 })).toMatch(/contradicts/);
    expect(entryProblem({ host: key(0), proofId: h(1), verdict: Verdict.mismatch, checked: 10, mismatches: 2 })).toBeNull();
    expect(entryProblem({ host: key(0), proofId: h(1), verdict: Verdict.duplicate, checked: 3, mismatches: 0 })).toMatch(/unsampled/);
    const v = bodies[3] as Unsigned<ValidationBody>;
    await expect(signMessage(signer, G, { ...v, entries: [...v.entries].reverse() })).rejects.toThrow(/sorted/);
    // A validation whose lottery binding names someone else is refused.
    const other = simIdentity(1, NET);
    await expect(signMessage(signer, G, { ...v, binding: other.binding })).rejects.toThrow(/binding names another key/);
  });

  it('refuses an inference proof that does not decode, from a third key, or a verdict whose counts contradict it', async () => {
    const inference = bodies.find((b) => b.kind === 'inference')!;
    const stranger = await fixtureProof({
      userSeed: new Uint8Array(32).fill(78),
      volunteerSeed: new Uint8Array(32).fill(77),
      genesis: G,
      openedAtMs: 1,
      timestampMs: 2,
    });
    await expect(signMessage(signer, G, { ...inference, proof: stranger })).rejects.toThrow(/neither the user nor the volunteer/);
    await expect(signMessage(signer, G, { ...inference, proof: new Uint8Array(40).fill(1) })).rejects.toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    await expect(signMessage(signer, G, { ...inference, proof: new Uint8Array(70_000) })).rejects.toThrow(expect.objectContaining({ code: 'OVERSIZE' }));
    const verdict = { ...header, kind: 'inferenceVerdict' as const, proofId: h(9) };
    await expect(signMessage(signer, G, { ...verdict, verdict: InferenceVerdict.invalid, checked: 2 })).rejects.toThrow(/invalid verdict re-runs nothing/);
    await expect(signMessage(signer, G, { ...verdict, verdict: InferenceVerdict.consistent, checked: 0 })).rejects.toThrow(/re-run at least one/);
    // Bytes on the wire are checked the same way: a verdict code out of range is MALFORMED.
    const ok = await signMessage(signer, G, { ...verdict, verdict: InferenceVerdict.consistent, checked: 2 });
    const bad = ok.bytes.slice();
    bad[49 + 32] = 7;
    expect(() => decodeMessage(bad)).toThrow(/unknown verdict 7/);
  });

  it('decoding hostile bytes throws only ProtocolError (fuzz)', async () => {
    const valid = await Promise.all(bodies.map((u) => signMessage(signer, G, u)));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }),
        fc.nat(400),
        (which, edits, cut) => {
          const b = valid[which]!.bytes.slice(0, Math.max(1, valid[which]!.bytes.length - (cut % 40)));
          for (const [at, v] of edits) b[at % b.length] = v;
          onlyProtocolErrors(() => decodeMessage(b));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyProtocolErrors(() => decodeMessage(b))),
      { numRuns: 1000 },
    );
  });
});

describe('nonce lists', () => {
  it('are canonical: sorted, root over the bytes; repeats are DUPLICATE_NONCE', () => {
    const list = encodeNonceList([
      { nonce: 9, distance: 1.2 },
      { nonce: 2, distance: 1.1 },
    ]);
    expect(decodeNonceList(list).map((c) => c.nonce)).toEqual([2, 9]);
    expect(nonceListRoot(list)).toEqual(
      nonceListRoot(
        encodeNonceList([
          { nonce: 2, distance: 1.1 },
          { nonce: 9, distance: 1.2 },
        ]),
      ),
    );
    expect(() =>
      encodeNonceList([
        { nonce: 2, distance: 1 },
        { nonce: 2, distance: 1 },
      ]),
    ).toThrow(expect.objectContaining({ code: 'DUPLICATE_NONCE' }));
    // A hand-made list that repeats a nonce decodes to the typed DUPLICATE_NONCE rejection.
    const dup = new Uint8Array(4 + 32);
    const dv = new DataView(dup.buffer);
    dv.setUint32(0, 2, true);
    dv.setBigUint64(4, 5n, true);
    dv.setFloat64(12, 1.1, true);
    dv.setBigUint64(20, 5n, true);
    dv.setFloat64(28, 1.1, true);
    expect(() => decodeNonceList(dup)).toThrow(expect.objectContaining({ code: 'DUPLICATE_NONCE' }));
    dv.setBigUint64(20, 4n, true); // descending
    expect(() => decodeNonceList(dup)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyProtocolErrors(() => decodeNonceList(b))),
      { numRuns: 1000 },
    );
  });
});

describe('genesis and schedule', () => {
  const g = makeGenesis({
    networkId: NET,
    config: 'tiny',
    startMs: 1000,
    skewMs: 100,
    timings: fastTimings(2000, 100),
    hitRateDenominator: 8,
    initialWeights: [
      { publicKey: key(1), weight: 5 },
      { publicKey: key(0), weight: 3 },
    ],
  });

  it('round-trips, hashes stably and checks its fields', () => {
    expect(decodeGenesis(encodeGenesis(g))).toEqual(g);
    expect(genesisHash(decodeGenesis(encodeGenesis(g)))).toEqual(genesisHash(g));
    expect(() => makeGenesis({ networkId: '', startMs: 0 })).toThrow(/network id/);
    expect(() => makeGenesis({ networkId: NET, startMs: 0, skewMs: 10_000, timings: fastTimings(2000, 100) })).toThrow(/twice the skew/);
    expect(() => makeGenesis({ networkId: NET, startMs: 0, initialWeights: [{ publicKey: new Uint8Array(32), weight: 1 }] })).toThrow(/strict Ed25519/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyProtocolErrors(() => decodeGenesis(b))),
      { numRuns: 500 },
    );
  });

  it('lays out the phases in order and widens message windows by the skew only', () => {
    const s = schedule(g, 2);
    const order = [s.start, s.commitEnd, s.revealEnd, s.sprintStart, s.sprintEnd, s.proofEnd, s.validationEnd, s.close, s.certifyEnd, s.end];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(s.end - s.start).toBe(g.timings.epochMs);
    expect(inWindow(g, 'proof', 2, s.proofEnd + 100)).toBe(true);
    expect(inWindow(g, 'proof', 2, s.proofEnd + 101)).toBe(false);
    expect(inWindow(g, 'proof', 1, s.sprintEnd)).toBe(false); // signed for another epoch's window
    expect(liveProblem(g, 5000, 5100)).toBeNull();
    expect(liveProblem(g, 5000, 5101)).toMatch(/tolerance 100/);
  });
});

describe('state, certificate and sync codecs', () => {
  const state: EpochState = {
    epoch: 4,
    prevHash: h(1),
    seed: h(2),
    hosts: [key(0), key(1)].sort(Buffer.compare).map((publicKey, i) => ({
      publicKey,
      votingWeight: 3 + i,
      weight: 7,
      reputation: 2,
      flags: 1,
      claimed: 7,
      accepted: 7,
      epochFlops: 2n ** 70n + BigInt(i),
      totalFlops: 2n ** 90n,
      reward: 100,
      vested: 5,
      forfeited: 0,
      pending: [
        { epoch: 3, amount: 11 },
        { epoch: 4, amount: 100 },
      ],
      inferenceFlops: 2n ** 100n + BigInt(i),
      totalInferenceFlops: 2n ** 110n,
      inferenceSessions: 3 + i,
    })),
  };

  it('state round-trips byte for byte, with 128-bit FLOP counters', () => {
    const bytes = encodeState(state);
    const back = decodeState(bytes);
    expect(back).toEqual(state);
    expect(stateHash(back)).toEqual(stateHash(state));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => onlyProtocolErrors(() => decodeState(b))),
      { numRuns: 500 },
    );
  });

  it('certificates and sync requests round-trip and refuse junk with typed errors', async () => {
    const vote = await signMessage(signer, G, { kind: 'vote', epoch: 4, sender: id.publicKey, timestampMs: 1, stateHash: stateHash(state) });
    const cert = { epoch: 4, stateHash: stateHash(state), votes: [vote] };
    expect(decodeCertificate(encodeCertificate(cert)).votes[0]!.id).toBe(vote.id);
    const requests: SyncRequest[] = [
      { op: 'summary', epoch: 2 },
      { op: 'ids', epoch: 2, mask: 0x8001 },
      { op: 'get', epoch: 1, ids: [vote.id] },
      { op: 'list', root: h(3) },
      { op: 'state', epoch: 9 },
      { op: 'head' },
    ];
    for (const r of requests) {
      expect(decodeRequest(encodeRequest(r))).toEqual(r);
    }
    // A get answer stops before the byte budget instead of growing past the request/response limit.
    const big = [new Uint8Array(600).fill(1), new Uint8Array(600).fill(2), new Uint8Array(600).fill(3)];
    expect(decodeMessages(encodeMessages(big, 1300))).toEqual(big.slice(0, 2));
    expect(decodeMessages(encodeMessages(big))).toEqual(big);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => onlyProtocolErrors(() => decodeRequest(b))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyProtocolErrors(() => decodeCertificate(b))),
      { numRuns: 500 },
    );
  });
});
