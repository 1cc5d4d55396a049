import { beforeAll, describe, expect, it } from 'vitest';
import type { ForwardResult } from '../llm/model-types.ts';
import type { ReferenceKvCache } from '../llm/reference.ts';
import { generate } from '../llm/generate.ts';
import { decodeAnswer, encodeAnswer, Phase, type SplitAnswer } from './codec.ts';
import type { SplitModel } from './engines.ts';
import { localVolunteer, seedSigner, strictVerifier } from './local.ts';
import {
  checkProof,
  decodeProof,
  encodeProof,
  encodeReceipt,
  NO_GENESIS,
  proofId,
  receiptDomain,
  sampleSteps,
  signProof,
  type ComputeProof,
  type ModelRecord,
} from './proof.ts';
import { lyingModel, NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import { splitGenerate, type Segment } from './user.ts';
import { checkConsistency, deriveCredits, effectiveBits, sessionKey, type CreditOptions } from './verify.ts';
import { bytesToHex } from '@noble/hashes/utils.js';

let rig: TestRig;
let record: ModelRecord;
beforeAll(async () => {
  rig = await testRig();
  record = { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau };
});

const USER = seedOf(7);
const K = 4;
const models = (h: Uint8Array) => (bytesToHex(h) === bytesToHex(record.hash) ? record : undefined);

/** A volunteer whose engine lies at its `target`-th forward only. */
const lying = (target: number, lie: (out: ForwardResult) => void) =>
  lyingModel(rig, (out, n) => {
    if (n === target) lie(out);
  });

async function run(
  opts: {
    model?: SplitModel<ReferenceKvCache>;
    volunteers?: number;
    cutAfter?: number;
    tau?: number;
    prompt?: number;
    genesis?: Uint8Array;
    /** The genesis the user follows (splitGenerate's `genesis`). */
    userGenesis?: Uint8Array;
    /** Rewrites the first volunteer's answers (its link then carries every session message in plaintext calls). */
    answer?: (a: SplitAnswer) => SplitAnswer;
  } = {},
): Promise<{ segments: Segment[]; tokens: number[]; failovers: number }> {
  const vols = Array.from({ length: opts.volunteers ?? 1 }, (_, i) =>
    localVolunteer({
      model: i === 0 && opts.model ? opts.model : rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      networkId: NETWORK,
      userSeed: USER,
      seed: seedOf(40 + i),
      label: `v${i}`,
      genesis: opts.genesis,
      now: () => 999_500,
    }),
  );
  let decodeSteps = 0;
  return splitGenerate(rig.prompts[opts.prompt ?? 3]!, {
    model: rig.model,
    k: K,
    privacy: 'allow-split',
    modelHash: rig.hash,
    volunteers: vols.map((v, i) => {
      const rewrite = opts.answer;
      if (i > 0 || !rewrite) return v.link;
      return {
        volunteerKey: v.link.volunteerKey,
        label: v.link.label,
        call: async (req: Uint8Array) => encodeAnswer(rewrite(decodeAnswer(await v.link.call(req)))),
      };
    }),
    thresholds: { ...rig.calibration, tau: opts.tau ?? rig.calibration.tau },
    signer: seedSigner(USER),
    networkId: NETWORK,
    ...(opts.userGenesis ? { genesis: opts.userGenesis } : {}),
    maxTokens: 24,
    eosTokenIds: [],
    now: () => 1_000_000,
    onStep: (s) => {
      if (s.phase === 'decode' && ++decodeSteps === opts.cutAfter) vols[0]!.link.disconnect();
    },
  });
}

const everyDecode = (p: ComputeProof): number[] => p.receipt.steps.flatMap((s, i) => (s.phase === Phase.decode ? [i] : []));
const credit = (extra: Partial<CreditOptions> = {}): CreditOptions => ({
  networkId: NETWORK,
  models,
  verifier: strictVerifier,
  fromMs: 999_000,
  toMs: 1_001_000,
  credited: new Set(),
  consistent: () => true,
  ...extra,
});

describe('effective-compute proof', () => {
  it('an honest session verifies, re-runs consistently and credits FLOPs / 10^15 CU with AΞ', async () => {
    const { segments } = await run();
    const seg = segments[0]!;
    const proof = seg.proof!;
    const bytes = encodeProof(proof);
    expect(decodeProof(bytes)).toEqual(proof);
    expect(checkProof(bytes, NETWORK, models, strictVerifier).ok).toBe(true);
    const sample = sampleSteps(proof, seedOf(99), 6);
    expect(sample).toHaveLength(6);
    expect(await checkConsistency(proof, seg.evidence, sample, { model: rig.model, normWeight: rig.norm })).toEqual({ ok: true, checked: sample });
    const result = deriveCredits([bytes], credit());
    expect(result.rejected).toEqual([]);
    expect(result.credits).toHaveLength(1);
    const c = result.credits[0]!;
    expect(c.volunteer).toBe(bytesToHex(proof.receipt.volunteer));
    expect(c.flops).toBe(seg.flops);
    expect(c.cu).toBe(Number(seg.flops) / 1e15);
    expect(c.effectiveBits).toBeGreaterThan(0);
    expect(c.aXi).toBeCloseTo(effectiveBits(proof) / (Number(seg.flops) / 1e12), 9);
  });

  it('a volunteer that forges C_t is caught by the consistency check', async () => {
    // 5th forward = the 4th decode step (the prompt is one prefill): its final state is nudged, so the C_t it reports is not the model's.
    const model = lying(5, (out) => {
      const h = out.hidden!;
      const D = rig.model.config.hiddenSize;
      for (let i = h.length - D; i < h.length; i++) h[i] = h[i]! + (i % 2 ? 0.5 : -0.5);
    });
    const seg = (await run({ model })).segments[0]!;
    const proof = seg.proof!;
    expect(checkProof(proof, NETWORK, models, strictVerifier).ok).toBe(true); // signatures are fine: the user signed what it was told
    const verdict = await checkConsistency(proof, seg.evidence, everyDecode(proof), { model: rig.model, normWeight: rig.norm });
    expect(verdict).toMatchObject({ ok: false, step: 4 });
    expect(!verdict.ok && verdict.detail).toMatch(/C_t/);
  });

  it('a volunteer that returns wrong logits is caught by the consistency check', async () => {
    const model = lying(7, (out) => {
      out.logits![3] = out.logits![3]! + 0.25;
    });
    const seg = (await run({ model })).segments[0]!;
    const verdict = await checkConsistency(seg.proof!, seg.evidence, everyDecode(seg.proof!), { model: rig.model, normWeight: rig.norm });
    expect(verdict).toMatchObject({ ok: false, step: 6 });
    expect(!verdict.ok && verdict.detail).toMatch(/logits differ/);
    // Sampled rather than exhaustive: the volunteer is caught when its step is drawn.
    const caught = await checkConsistency(seg.proof!, seg.evidence, [2, 6], { model: rig.model, normWeight: rig.norm });
    expect(caught.ok).toBe(false);
  });

  it('a tampered proof is rejected', async () => {
    const proof = (await run()).segments[0]!.proof!;
    const bytes = encodeProof(proof);
    // Flip one byte of the receipt's FLOPs (the volunteer's signature breaks), then of the timestamp (the user's).
    const flops = bytes.slice();
    const receiptEnd = 1 + 4 + proof.receiptBytes.length;
    flops[receiptEnd - 3]! ^= 1;
    expect(checkProof(flops, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'bad-receipt-signature' });
    const stamp = bytes.slice();
    stamp[receiptEnd + 64]! ^= 1;
    expect(checkProof(stamp, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'bad-user-signature' });
    // Another network's verifier refuses it (domain separation).
    expect(checkProof(bytes, 'another-network', models, strictVerifier)).toMatchObject({ ok: false, reason: 'bad-receipt-signature' });
    expect(checkProof(bytes.subarray(0, bytes.length - 1), NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'malformed' });
    // Signed consistently but with FLOPs that do not follow from the steps: both keys signing a lie still fails.
    const inflated = encodeReceipt({ ...proof.receipt, flops: proof.receipt.flops * 2n });
    const volunteerSig = await seedSigner(seedOf(40)).sign(receiptDomain(NETWORK), inflated);
    const forged = await signProof(seedSigner(USER), NETWORK, inflated, volunteerSig, 1_000_000);
    expect(checkProof(forged, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'bad-flops' });
  });

  it('names the volunteer’s genesis under both signatures: neither party alone can move it to another', async () => {
    const genesis = new Uint8Array(32).fill(0x47);
    const other = new Uint8Array(32).fill(0x48);
    const proof = (await run({ genesis })).segments[0]!.proof!;
    expect(proof.receipt.genesis).toEqual(genesis);
    expect((await run()).segments[0]!.proof!.receipt.genesis).toEqual(NO_GENESIS); // a volunteer that runs no ledger
    const bytes = encodeProof(proof);
    expect(checkProof(bytes, NETWORK, models, strictVerifier).ok).toBe(true);
    expect(checkProof(bytes, NETWORK, models, strictVerifier, genesis).ok).toBe(true);
    expect(checkProof(bytes, NETWORK, models, strictVerifier, other)).toMatchObject({ ok: false, reason: 'wrong-genesis' });
    const moved = encodeReceipt({ ...proof.receipt, genesis: other });
    // The user re-signs a receipt naming another genesis: the volunteer never signed it.
    const byUser = await signProof(seedSigner(USER), NETWORK, moved, proof.receiptSignature, proof.timestampMs);
    expect(checkProof(byUser, NETWORK, models, strictVerifier, other)).toMatchObject({ ok: false, reason: 'bad-receipt-signature' });
    // The volunteer re-signs it and keeps the user's signature: the user never signed that.
    const byVolunteer = {
      ...proof,
      receipt: { ...proof.receipt, genesis: other },
      receiptBytes: moved,
      receiptSignature: await seedSigner(seedOf(40)).sign(receiptDomain(NETWORK), moved),
    };
    expect(checkProof(byVolunteer, NETWORK, models, strictVerifier, other)).toMatchObject({ ok: false, reason: 'bad-user-signature' });
    // A proof of version 1 (whose receipt named no genesis) does not decode.
    const v1 = bytes.slice();
    v1[0] = 1;
    expect(checkProof(v1, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'malformed', detail: expect.stringMatching(/version 1/) });
  });

  it('a user that follows a genesis signs no proof for a volunteer that names another, or none; the tokens are kept', async () => {
    const genesis = new Uint8Array(32).fill(0x47);
    const other = new Uint8Array(32).fill(0x48);
    const same = await run({ genesis, userGenesis: genesis });
    expect(same.segments[0]!.proof!.receipt.genesis).toEqual(genesis);
    for (const volunteerNames of [other, undefined]) {
      const out = await run({ genesis: volunteerNames, userGenesis: genesis });
      expect(out.tokens).toEqual(same.tokens);
      expect(out.segments[0]!.proof).toBeNull();
      expect(out.segments[0]!.unproven).toBe(
        `v0 publishes to ${volunteerNames ? `genesis ${'48'.repeat(8)}…` : 'no ledger'}, not this network's genesis ${'47'.repeat(8)}…: no proof signed, since it would credit the session in a ledger you do not follow`,
      );
    }
  });

  it("a receipt that does not decode (an older volunteer's version 1) yields no proof; the generation still completes", async () => {
    const honest = await run();
    const old = await run({ answer: (a) => (a.kind === 'receipt' ? { ...a, receipt: Uint8Array.of(1, ...a.receipt.subarray(1)) } : a) });
    expect(old.tokens).toEqual(honest.tokens);
    expect(old.segments).toHaveLength(1);
    expect(old.segments[0]!.proof).toBeNull();
    expect(old.segments[0]!.unproven).toMatch(/receipt does not decode.*version 1/);
  });

  it('a replayed proof credits once, never in a later epoch, and two proofs for one session credit nothing', async () => {
    const proof = (await run()).segments[0]!.proof!;
    const bytes = encodeProof(proof);
    const once = deriveCredits([bytes, bytes, bytes.slice()], credit());
    expect(once.credits).toHaveLength(1);
    expect(once.credits[0]!.sessions).toBe(1);
    expect(once.sessions).toEqual([sessionKey(proof)]);
    const later = deriveCredits([bytes], credit({ fromMs: 1_001_000, toMs: 1_002_000, credited: new Set(once.sessions) }));
    expect(later.credits).toEqual([]);
    expect(later.rejected[0]!.reason).toBe('replayed');
    expect(deriveCredits([bytes], credit({ fromMs: 1_001_000, toMs: 1_002_000 })).rejected[0]!.reason).toBe('stale');
    // The user re-signs the same receipt with a new timestamp: a second proof of one session.
    const again = await signProof(seedSigner(USER), NETWORK, proof.receiptBytes, proof.receiptSignature, 1_000_500);
    const both = deriveCredits([bytes, encodeProof(again)], credit());
    expect(both.credits).toEqual([]);
    expect(both.rejected.map((r) => r.reason)).toEqual(['conflicting', 'conflicting']);
    expect(deriveCredits([bytes], credit({ consistent: (id) => id !== bytesToHex(proofId(proof)) })).rejected[0]!.reason).toBe('inconsistent');
  });

  it('a proof for a session that never happened is rejected', async () => {
    const real = (await run()).segments[0]!.proof!;
    // The user invents a session with a volunteer's key but cannot produce that volunteer's receipt signature.
    const invented = encodeReceipt({ ...real.receipt, sessionId: new Uint8Array(16).fill(9) });
    const selfSigned = await seedSigner(USER).sign(receiptDomain(NETWORK), invented);
    const fake = await signProof(seedSigner(USER), NETWORK, invented, selfSigned, 1_000_000);
    expect(checkProof(fake, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'bad-receipt-signature' });
    expect(deriveCredits([encodeProof(fake)], credit()).credits).toEqual([]);
    // Or names itself as the volunteer.
    const self = encodeReceipt({ ...real.receipt, volunteer: seedSigner(USER).publicKey });
    const selfProof = await signProof(seedSigner(USER), NETWORK, self, await seedSigner(USER).sign(receiptDomain(NETWORK), self), 1_000_000);
    expect(checkProof(selfProof, NETWORK, models, strictVerifier)).toMatchObject({ ok: false, reason: 'self-dealing' });
    // A volunteer that co-signs an invented session still needs evidence that re-runs: made-up h_k has none.
    const colluding = encodeReceipt({ ...real.receipt, sessionId: new Uint8Array(16).fill(10), hkRoot: new Uint8Array(32).fill(1) });
    const p = await signProof(seedSigner(USER), NETWORK, colluding, await seedSigner(seedOf(40)).sign(receiptDomain(NETWORK), colluding), 1_000_000);
    expect(checkProof(p, NETWORK, models, strictVerifier).ok).toBe(true);
    const fakeEvidence = {
      hk: real.receipt.steps.map(() => new Uint8Array(4 * rig.model.config.hiddenSize)),
      outLeaves: real.receipt.steps.map(() => new Uint8Array(32)),
      logits: new Map(),
    };
    expect(await checkConsistency(p, fakeEvidence, [real.receipt.steps.length - 1], { model: rig.model, normWeight: rig.norm })).toMatchObject({ ok: false });
  });

  it('a proof with any C_t > τ credits nothing', async () => {
    // The user's monitor is off (τ = 2), so it signs a session whose largest C_t is over the network's τ.
    const seg = (await run({ tau: 2 })).segments[0]!;
    const proof = seg.proof!;
    const largest = Math.max(...proof.receipt.steps.map((s) => s.cost));
    const strict = { ...record, tau: largest * 0.9 };
    const result = deriveCredits([encodeProof(proof)], credit({ models: () => strict }));
    expect(result.credits).toEqual([]);
    expect(result.rejected[0]!.reason).toBe('cost-over-tau');
  });
});

describe('failover', () => {
  it('the volunteer disconnects mid-generation; another rebuilds from the h_k history and the greedy output is unchanged', async () => {
    const unsplit = await generate(rig.model, rig.prompts[3]!, { maxTokens: 24, eosTokenIds: [] });
    const out = await run({ volunteers: 2, cutAfter: 10 });
    expect(out.failovers).toBe(1);
    expect(out.tokens).toEqual(unsplit.tokens);
    const [lost, next] = out.segments as [Segment, Segment];
    expect(lost.proof).toBeNull();
    expect(lost.unproven).toMatch(/gone/);
    expect(lost.steps.filter((s) => s.phase === Phase.decode)).toHaveLength(10);
    // The new session: the history as prefill (prompt + 10 tokens), then the step that failed and the rest.
    const steps = next.proof!.receipt.steps;
    expect(steps[0]).toMatchObject({ phase: Phase.prefill, position: 0, count: rig.prompts[3]!.length + 10 });
    expect(steps.filter((s) => s.phase === Phase.decode)).toHaveLength(24 - 10);
    expect(await checkConsistency(next.proof!, next.evidence, everyDecode(next.proof!), { model: rig.model, normWeight: rig.norm })).toMatchObject({
      ok: true,
    });
  });
});
