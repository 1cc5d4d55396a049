/** Inference reputation (inference-reputation.ts) on signed fixture proofs and signed verdicts. */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { walletSigner, walletVerifier, type Signer } from './crypto.ts';
import { fastTimings, makeGenesis, schedule } from './genesis.ts';
import { InferenceVerdict, type InferenceVerdictCode } from './inference-constants.ts';
import { fixtureProof } from './inference-fixtures.ts';
import { inferenceReputation, inferenceScore, type InferenceRecord } from './inference-reputation.ts';
import { signMessage, type Message } from './messages.ts';
import { simIdentity } from './sim/simulate.ts';
import { decodeProof, encodeProof, proofId, signProof } from '../split/proof.ts';
import { seedSigner } from '../split/local.ts';

const NET = 'inference-reputation-test';
const g = makeGenesis({ networkId: NET, config: 'tiny', startMs: 1_000_000, skewMs: 100, timings: fastTimings(2000, 100), hitRateDenominator: 8 });
const s = schedule(g, 0);
const id = (n: number) => simIdentity(n, NET);
const signerOf = (n: number): Signer =>
  walletSigner({ ed25519Seed: id(n).seed, publicKey: id(n).publicKey, blsSecretKey: id(n).bls, keyBinding: id(n).binding });
const keyHex = (n: number) => hex(id(n).publicKey);
const USER = 50;
const [VOL_A, VOL_B] = [1, 2];
/** Validators 10 and 11 weigh 1, 12 weighs 2, 13 has no weight; the user (50) has weight too, but is a party. */
const WEIGHTS = new Map([
  [keyHex(10), 1],
  [keyHex(11), 1],
  [keyHex(12), 2],
  [keyHex(USER), 5],
]);
const weightsIn = () => WEIGHTS;

async function proof(volunteer: number, session: number, o: { timestampMs?: number; userSeedOf?: number } = {}): Promise<Uint8Array> {
  return fixtureProof({
    userSeed: id(o.userSeedOf ?? USER).seed,
    volunteerSeed: id(volunteer).seed,
    genesis: g,
    sessionId: new Uint8Array(16).fill(session),
    openedAtMs: s.start + 10,
    timestampMs: o.timestampMs ?? s.start + 20,
  });
}

const published = (p: Uint8Array, by: number) =>
  signMessage(signerOf(by), g, { kind: 'inference', epoch: 0, sender: signerOf(by).publicKey, timestampMs: s.start + 30, proof: p });
const verdict = (p: Uint8Array, by: number, v: InferenceVerdictCode, checked = 3) =>
  signMessage(signerOf(by), g, {
    kind: 'inferenceVerdict',
    epoch: 0,
    sender: signerOf(by).publicKey,
    timestampMs: s.start + 40,
    proofId: proofId(decodeProof(p)),
    verdict: v,
    checked,
  });
const { consistent: OK, inconsistent: BAD, invalid: INVALID } = InferenceVerdict;
const reputation = (messages: Iterable<Message>) => inferenceReputation({ genesis: g, messages, weightsIn, verifier: walletVerifier() });
const record = (volunteer: number, r: Omit<InferenceRecord, 'volunteer'>): [string, InferenceRecord] => [
  keyHex(volunteer),
  { volunteer: keyHex(volunteer), ...r },
];

describe('inferenceReputation', () => {
  it('counts per volunteer the sessions its weighted validators found consistent, inconsistent, invalid, or did not judge', async () => {
    const [a1, a2, a3, a4, b1] = await Promise.all([proof(VOL_A, 1), proof(VOL_A, 2), proof(VOL_A, 3), proof(VOL_A, 4), proof(VOL_B, 5)]);
    const messages = await Promise.all([
      ...[a1, a2, a3, a4].map((p) => published(p, VOL_A)),
      published(b1, USER),
      // a1: two weighted validators agree.
      verdict(a1, 10, OK),
      verdict(a1, 11, OK),
      // a2: weight 2 says inconsistent against weight 1 consistent.
      verdict(a2, 12, BAD),
      verdict(a2, 10, OK, 3),
      // a3: invalid (checkProof failed) by one validator.
      verdict(a3, 11, INVALID, 0),
      // b1: consistent by the heaviest validator; the unweighted key's and the user's votes do not count.
      verdict(b1, 12, OK),
      verdict(b1, 13, BAD),
      verdict(b1, USER, BAD),
    ]);
    expect([...reputation(messages)]).toEqual(
      [
        record(VOL_A, { consistent: 1, inconsistent: 1, invalid: 1, unjudged: 1 }),
        record(VOL_B, { consistent: 1, inconsistent: 0, invalid: 0, unjudged: 0 }),
      ].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    );
  });

  it('is the same for any order and repeated copies of the messages', async () => {
    const [a1, a2] = await Promise.all([proof(VOL_A, 1), proof(VOL_A, 2)]);
    const messages = await Promise.all([
      published(a1, VOL_A),
      published(a2, USER),
      verdict(a1, 10, OK),
      verdict(a2, 10, BAD),
      verdict(a2, 12, OK),
      verdict(a2, 11, BAD),
    ]);
    const expected = [...reputation(messages)];
    expect(expected).toEqual([record(VOL_A, { consistent: 1, inconsistent: 1, invalid: 0, unjudged: 0 })]);
    for (let i = 0; i < 5; i++) {
      const shuffled = [...messages, ...messages]
        .map((m) => [Math.random(), m] as const)
        .sort((x, y) => x[0] - y[0])
        .map(([, m]) => m);
      expect([...reputation(shuffled)]).toEqual(expected);
    }
  });

  it('does not count an equivocating validator, a forged proof, or a session twice', async () => {
    const real = await proof(VOL_A, 1);
    // The same receipt re-signed by the user later: a second proof of the same session, judged worse.
    const p = decodeProof(real);
    const resigned = encodeProof(await signProof(seedSigner(id(USER).seed), NET, p.receiptBytes, p.receiptSignature, s.start + 25));
    // A "proof" naming volunteer B that B never signed (the receipt signed by someone else), judged invalid.
    const forged = await fixtureProof({
      userSeed: id(USER).seed,
      volunteerSeed: id(VOL_B).seed,
      genesis: g,
      sessionId: new Uint8Array(16).fill(7),
      openedAtMs: s.start + 10,
      timestampMs: s.start + 20,
    });
    const fp = decodeProof(forged);
    const badSig = encodeProof({ ...fp, receiptSignature: fp.receiptSignature.map((b, i) => (i === 0 ? b ^ 1 : b)) });
    const messages = await Promise.all([
      published(real, VOL_A),
      published(resigned, USER),
      published(badSig, USER),
      verdict(real, 10, OK),
      // Validator 12 says consistent and inconsistent on `real`: not counted there.
      verdict(real, 12, OK),
      verdict(real, 12, BAD),
      verdict(resigned, 11, BAD),
      verdict(resigned, 10, BAD),
      verdict(badSig, 12, INVALID, 0),
    ]);
    expect([...reputation(messages)]).toEqual([record(VOL_A, { consistent: 0, inconsistent: 1, invalid: 0, unjudged: 0 })]);
  });

  it('inferenceScore: a caught session costs twice what a consistent one earns; never judged is 0', () => {
    expect(inferenceScore(undefined)).toBe(0);
    expect(inferenceScore({ volunteer: 'x', consistent: 5, inconsistent: 1, invalid: 1, unjudged: 9 })).toBe(1);
    expect(inferenceScore({ volunteer: 'x', consistent: 0, inconsistent: 0, invalid: 0, unjudged: 3 })).toBe(0);
  });
});
