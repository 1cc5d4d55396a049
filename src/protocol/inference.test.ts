/** Who may judge an inference proof, and how verdicts count (inference.ts), on signed fixture proofs. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { fastTimings, genesisHash, makeGenesis, schedule } from './genesis.ts';
import { deriveInference } from './inference.ts';
import { signInference } from './inference-check.ts';
import { INFERENCE_SAMPLE, InferenceVerdict, type InferenceVerdictCode } from './inference-constants.ts';
import { fixtureProof } from './inference-fixtures.ts';
import { signMessage, type InferenceMessage, type InferenceVerdictMessage } from './messages.ts';
import { simIdentity } from './sim/simulate.ts';
import { decodeProof, NO_GENESIS, proofId } from '../split/proof.ts';

const NET = 'inference-test';
const g = makeGenesis({ networkId: NET, config: 'tiny', startMs: 1_000_000, skewMs: 100, timings: fastTimings(2000, 100), hitRateDenominator: 8 });
const s = schedule(g, 0);
const seed = (n: number) => new Uint8Array(32).fill(n);
const signerOf = (n: number) => {
  const id = simIdentity(n, NET);
  return walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });
};
const USER = seed(50);
const [A, B, C] = [signerOf(1), signerOf(2), signerOf(3)];
let proof: Uint8Array;
let message: InferenceMessage;

beforeAll(async () => {
  // The volunteer is validator A's key: its own verdict must not count.
  proof = await fixtureProof({
    userSeed: USER,
    volunteerSeed: simIdentity(1, NET).seed,
    genesis: g,
    openedAtMs: s.start + 10,
    timestampMs: s.start + 20,
    decodeSteps: 12,
  });
  message = await signMessage(A, g, { kind: 'inference', epoch: 0, sender: A.publicKey, timestampMs: s.start + 30, proof });
});

const verdict = (signer: typeof A, v: InferenceVerdictCode, checked: number) =>
  signMessage(signer, g, {
    kind: 'inferenceVerdict',
    epoch: 0,
    sender: signer.publicKey,
    timestampMs: s.proofEnd,
    proofId: proofId(decodeProof(proof)),
    verdict: v,
    checked,
  });
const weights = (w: [typeof A, number][]) => new Map(w.map(([x, n]) => [hex(x.publicKey), n]));
const run = (
  vs: InferenceVerdictMessage[],
  w = weights([
    [A, 10],
    [B, 3],
    [C, 2],
  ]),
) => deriveInference(g, 0, [message], vs, w, walletVerifier());

describe('inference verdicts', () => {
  it('counts weighted validators other than the parties, and needs more than half of the judging weight', async () => {
    const aOk = await verdict(A, InferenceVerdict.consistent, INFERENCE_SAMPLE);
    expect(run([aOk]).reports[0]!.outcome).toBe('unvalidated'); // the volunteer judging itself
    const bOk = await verdict(B, InferenceVerdict.consistent, INFERENCE_SAMPLE);
    const cBad = await verdict(C, InferenceVerdict.inconsistent, 3);
    const credited = run([aOk, bOk, cBad]);
    expect(credited.reports[0]).toMatchObject({ outcome: 'credited', consistentWeight: 3, verdictWeight: 5 });
    expect(credited.credits.get(hex(A.publicKey))).toEqual({ flops: 123_456_789n, sessions: 1 });
    // Weight decides, not the count: C outweighs B.
    expect(
      run(
        [bOk, cBad],
        weights([
          [B, 2],
          [C, 3],
        ]),
      ).reports[0]!.outcome,
    ).toBe('rejected');
    // A key with no weight is not counted.
    expect(run([bOk], weights([[A, 10]])).reports[0]!.outcome).toBe('unvalidated');
  });

  it('ignores a consistent verdict that re-ran another number of steps, and a validator that signed two verdicts', async () => {
    const short = await verdict(B, InferenceVerdict.consistent, INFERENCE_SAMPLE - 1);
    expect(run([short]).reports[0]!.outcome).toBe('unvalidated');
    const bOk = await verdict(B, InferenceVerdict.consistent, INFERENCE_SAMPLE);
    const bBad = await verdict(B, InferenceVerdict.invalid, 0);
    expect(run([bOk, bBad]).reports[0]!.outcome).toBe('unvalidated');
    expect(run([bBad, bOk, bOk]).reports[0]!.outcome).toBe('unvalidated');
  });

  it('refuses a proof stamped after the proof deadline or a session opened before the epoch', async () => {
    const late = await fixtureProof({ userSeed: USER, volunteerSeed: seed(60), genesis: g, openedAtMs: s.start + 10, timestampMs: s.proofEnd });
    const early = await fixtureProof({
      userSeed: USER,
      volunteerSeed: seed(60),
      genesis: g,
      openedAtMs: s.start - 1,
      timestampMs: s.start + 5,
      sessionId: seed(2).slice(0, 16),
    });
    const userSigner = walletSigner({
      ed25519Seed: USER,
      publicKey: ed25519.getPublicKey(USER),
      blsSecretKey: simIdentity(4, NET).bls,
      keyBinding: simIdentity(4, NET).binding,
    });
    const ok = await Promise.all(
      [late, early].map((p) => signMessage(userSigner, g, { kind: 'inference', epoch: 0, sender: userSigner.publicKey, timestampMs: s.start, proof: p })),
    );
    expect(deriveInference(g, 0, ok, [], weights([[B, 1]]), walletVerifier()).reports.map((r) => r.outcome)).toEqual(['out-of-window', 'out-of-window']);
  });

  it('credits a proof only in the genesis it names: not in another genesis of the network id, and nowhere when it names none', async () => {
    const other = makeGenesis({ networkId: NET, config: 'tiny', startMs: 1_000_000, skewMs: 100, timings: fastTimings(2000, 100), hitRateDenominator: 9 });
    const volunteer = simIdentity(1, NET).seed;
    const [inOther, inNone] = (await Promise.all(
      [genesisHash(other), NO_GENESIS].map((names, i) =>
        fixtureProof({
          userSeed: USER,
          volunteerSeed: volunteer,
          genesis: g,
          names,
          openedAtMs: s.start + 10,
          timestampMs: s.start + 20,
          sessionId: seed(20 + i).slice(0, 16),
        }),
      ),
    )) as [Uint8Array, Uint8Array];
    const judged = async (gen: typeof g, p: Uint8Array) => {
      const m = await signMessage(A, gen, { kind: 'inference', epoch: 0, sender: A.publicKey, timestampMs: s.start + 30, proof: p });
      const v = await signMessage(B, gen, {
        kind: 'inferenceVerdict',
        epoch: 0,
        sender: B.publicKey,
        timestampMs: s.proofEnd,
        proofId: proofId(decodeProof(p)),
        verdict: InferenceVerdict.consistent,
        checked: 3,
      });
      return deriveInference(gen, 0, [m], [v], weights([[B, 1]]), walletVerifier());
    };
    expect((await judged(other, inOther)).reports.map((r) => r.outcome)).toEqual(['credited']);
    const here = await judged(g, inOther);
    expect(here.reports.map((r) => r.outcome)).toEqual(['wrong-genesis']);
    expect(here.credits.size).toBe(0);
    expect((await judged(g, inNone)).reports.map((r) => r.outcome)).toEqual(['wrong-genesis']);
    await expect(signInference(A, g, inOther, s.start + 30)).rejects.toMatchObject({ code: 'BAD_GENESIS' });
    await expect(signInference(A, g, inNone, s.start + 30)).rejects.toThrow(/names no genesis/);
  });
});
