import { beforeAll, describe, expect, it } from 'vitest';
import { loadReference } from '../llm/loader.ts';
import type { ReferenceModel } from '../llm/reference.ts';
import { MemorySource } from '../llm/source.ts';
import { makeTestModel } from '../llm/test-model.ts';
import { decodeAnswer, decodeRequest, encodeAnswer, EvidencePart, type EvidenceAnswer } from './codec.ts';
import { MAX_RESPONSE_BYTES } from './constants.ts';
import { modelHash } from './digest.ts';
import { loadFinalNorm } from './engines.ts';
import { isSplitError } from './errors.ts';
import { fetchEvidence } from './evidence.ts';
import { seedSigner } from './local.ts';
import type { ComputeProof } from './proof.ts';
import { NETWORK, seedOf, testRig } from './test-support.ts';
import { MemoryLink, type SplitTransport } from './transport.ts';
import { splitGenerate, type Segment } from './user.ts';
import { checkConsistency } from './verify.ts';
import { SplitVolunteer } from './volunteer.ts';

const USER = seedOf(41);
const VOLUNTEER = seedOf(42);
const VALIDATOR = seedOf(43);

interface Served {
  readonly model: ReferenceModel;
  readonly norm: Float64Array;
  readonly volunteer: SplitVolunteer;
  readonly segment: Segment;
  readonly proof: ComputeProof;
  readonly decodeSteps: number[];
  /** The validator's sealed link to the volunteer. */
  readonly validator: MemoryLink;
}

/** A session on `model`, closed and proved, with a volunteer that gives evidence to VALIDATOR only. */
async function serve(
  model: ReferenceModel,
  norm: Float64Array,
  hash: Uint8Array,
  prompt: number[],
  tokens: number,
  limits: { evidenceBytesPerPeer?: number } = {},
): Promise<Served> {
  const validatorKey = seedSigner(VALIDATOR).publicKey;
  const volunteer = new SplitVolunteer({
    model,
    lowestK: 1,
    modelHash: hash,
    normWeight: norm,
    signer: seedSigner(VOLUNTEER),
    networkId: NETWORK,
    mayFetchEvidence: (peer) => peer.every((v, i) => v === validatorKey[i]),
    ...limits,
  });
  const out = await splitGenerate(prompt, {
    model,
    k: 1,
    privacy: 'allow-split',
    modelHash: hash,
    volunteers: [new MemoryLink(volunteer, VOLUNTEER, USER)],
    // Generous thresholds: these tests are about evidence, and a rewind would only add steps.
    thresholds: { tau: 2, maxEntropy: 1e3 },
    signer: seedSigner(USER),
    networkId: NETWORK,
    maxTokens: tokens,
    eosTokenIds: [],
  });
  const segment = out.segments[0]!;
  const proof = segment.proof!;
  expect(proof).not.toBeNull();
  const decodeSteps = proof.receipt.steps.flatMap((s, i) => (s.phase === 1 ? [i] : []));
  return { model, norm, volunteer, segment, proof, decodeSteps, validator: new MemoryLink(volunteer, VOLUNTEER, VALIDATOR) };
}

/** Passes every call through, letting `edit` change a decoded evidence answer (a volunteer that lies in one chunk). */
function tampering(
  inner: SplitTransport,
  edit: (a: EvidenceAnswer, request: ReturnType<typeof decodeRequest>) => EvidenceAnswer,
): SplitTransport & { calls: number } {
  const t = {
    calls: 0,
    volunteerKey: inner.volunteerKey,
    label: 'tampering volunteer',
    async call(request: Uint8Array): Promise<Uint8Array> {
      t.calls++;
      const bytes = await inner.call(request);
      const a = decodeAnswer(bytes);
      return a.kind === 'evidence' ? encodeAnswer(edit(a, decodeRequest(request))) : bytes;
    },
  };
  return t;
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isSplitError(e)) return e.code;
    throw e;
  }
};

describe('chunked evidence (docs/split-inference.md §7a)', () => {
  let small: Served;
  beforeAll(async () => {
    const rig = await testRig();
    small = await serve(rig.model, rig.norm, rig.hash, rig.prompts[1]!, 10);
  });

  it('assembles, from chunks of 1000 bytes, exactly the evidence the user kept, and it re-runs consistent', async () => {
    const s = small;
    const counted = tampering(s.validator, (a) => a);
    const ev = await fetchEvidence(counted, s.proof, s.decodeSteps, { chunkBytes: 1000, hiddenSize: 64 });
    const hkBytes = s.segment.evidence.hk.reduce((n, b) => n + b.length, 0);
    // Every part comes in ceil(part / 1000) chunks: leaves, h_k, and each sampled step's logits (384 f32 values).
    const expected = Math.ceil((s.proof.receipt.steps.length * 32) / 1000) + Math.ceil(hkBytes / 1000) + s.decodeSteps.length * Math.ceil(1536 / 1000);
    expect(counted.calls).toBe(expected);
    expect(ev.hk).toEqual(s.segment.evidence.hk);
    expect(ev.outLeaves).toEqual(s.segment.evidence.outLeaves);
    for (const i of s.decodeSteps) expect(ev.logits.get(i)).toEqual(s.segment.evidence.logits.get(i));
    expect(await checkConsistency(s.proof, ev, s.decodeSteps, { model: s.model, normWeight: s.norm })).toEqual({ ok: true, checked: s.decodeSteps });
    // Without the hidden size, D follows from the h_k part: the same evidence.
    expect((await fetchEvidence(s.validator, s.proof, s.decodeSteps, { chunkBytes: 777 })).hk).toEqual(s.segment.evidence.hk);
  });

  it('finds a volunteer inconsistent that changes one byte of one chunk, or moves a chunk between requests', async () => {
    const s = small;
    const judge = async (t: SplitTransport) =>
      checkConsistency(s.proof, await fetchEvidence(t, s.proof, s.decodeSteps, { chunkBytes: 500 }), s.decodeSteps, { model: s.model, normWeight: s.norm });
    const flip = (part: number, offset: number, step?: number) =>
      tampering(s.validator, (a) => {
        if (a.part !== part || a.offset !== offset || (step !== undefined && a.step !== step)) return a;
        const bytes = a.bytes.slice();
        bytes[3]! ^= 1;
        return { ...a, bytes };
      });
    expect(await judge(flip(EvidencePart.hk, 1000))).toMatchObject({ ok: false, step: -1, detail: expect.stringMatching(/h_k root/) });
    expect(await judge(flip(EvidencePart.leaves, 0))).toMatchObject({ ok: false, step: -1, detail: expect.stringMatching(/output root/) });
    const victim = s.decodeSteps[2]!;
    expect(await judge(flip(EvidencePart.logits, 500, victim))).toMatchObject({
      ok: false,
      step: victim,
      detail: expect.stringMatching(/not the ones returned/),
    });
    // The logits of another step, served under this step's request: each step's leaf hashes its index.
    const other = s.decodeSteps[3]!;
    const kept = s.segment.evidence.logits.get(other)!;
    const swapped = tampering(s.validator, (a) =>
      a.part === EvidencePart.logits && a.step === victim ? { ...a, bytes: kept.subarray(a.offset, a.offset + a.bytes.length) } : a,
    );
    expect(await judge(swapped)).toMatchObject({ ok: false, step: victim });
    // The untouched volunteer, for contrast.
    expect(await judge(s.validator)).toMatchObject({ ok: true });
  });

  it('refuses with a typed error chunks that do not echo the request, change a part’s length, are short, or a plan over the cap', async () => {
    const s = small;
    const fetch = (t: SplitTransport, o = {}) => codeOf(fetchEvidence(t, s.proof, s.decodeSteps, { chunkBytes: 600, ...o }));
    expect(await fetch(tampering(s.validator, (a) => (a.offset > 0 ? { ...a, offset: a.offset - 600 } : a)))).toBe('BAD_RESPONSE');
    expect(await fetch(tampering(s.validator, (a) => (a.part === EvidencePart.logits ? { ...a, step: a.step + 1 } : a)))).toBe('BAD_RESPONSE');
    expect(await fetch(tampering(s.validator, (a) => (a.offset > 0 ? { ...a, total: a.total + 4 } : a)))).toBe('BAD_RESPONSE');
    expect(await fetch(tampering(s.validator, (a) => ({ ...a, total: a.total + 32 })))).toBe('BAD_RESPONSE');
    expect(await fetch(tampering(s.validator, (a) => (a.bytes.length > 1 ? { ...a, bytes: a.bytes.subarray(1) } : a)))).toBe('BAD_RESPONSE');
    // h_k of a hidden size the validator's model does not have.
    expect(await fetch(s.validator, { hiddenSize: 32 })).toBe('BAD_RESPONSE');
    // The plan (leaves + h_k + sampled logits) exceeds the cap: refused before a single request.
    const counted = tampering(s.validator, (a) => a);
    expect(await fetch(counted, { hiddenSize: 64, maxBytes: 10_000 })).toBe('LIMIT');
    expect(counted.calls).toBe(0);
    // Without the hidden size the cap is checked when the h_k part announces its length.
    const leaves = s.proof.receipt.steps.length * 32;
    const logits = s.decodeSteps.length * 384 * 4;
    const hk = s.segment.evidence.hk.reduce((n, b) => n + b.length, 0);
    expect(await fetch(counted, { maxBytes: leaves + logits + hk / 2 })).toBe('LIMIT');
    // The leaves (one chunk), then the first h_k chunk, whose total is over the cap.
    expect(counted.calls).toBe(2);
    expect(await fetch(s.validator, { maxBytes: leaves + logits + hk })).toBe('ok');
    expect(await fetch(s.validator, { chunkBytes: 0 })).toBe('BAD_ARGUMENT');
    expect(await codeOf(fetchEvidence(s.validator, s.proof, [s.proof.receipt.steps.length]))).toBe('BAD_ARGUMENT');
  });

  it('serves evidence to validators only, within each peer’s byte budget per window', async () => {
    const s = small;
    expect(await codeOf(fetchEvidence(new MemoryLink(s.volunteer, VOLUNTEER, USER), s.proof, s.decodeSteps))).toBe('FORBIDDEN');
    const rig = await testRig();
    const tight = await serve(rig.model, rig.norm, rig.hash, rig.prompts[1]!, 4, { evidenceBytesPerPeer: 4000 });
    expect(await codeOf(fetchEvidence(tight.validator, tight.proof, tight.decodeSteps))).toBe('LIMIT');
  });
});

describe('a session whose evidence exceeds one answer', () => {
  it('is fetched in chunks and re-runs consistent (vocabulary of 40 000: 8 sampled logits are 1.28 MB)', async () => {
    const { files } = makeTestModel({ layers: 3, vocab: 40_000, seed: 5 });
    const source = new MemorySource(files);
    const { model, manifest } = await loadReference(source);
    const norm = await loadFinalNorm(source, manifest);
    const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'a long vocabulary' }]);
    const s = await serve(model, norm, await modelHash(source, manifest), prompt, 9);
    const sample = s.decodeSteps.slice(0, 8);
    expect(sample.length * 40_000 * 4).toBeGreaterThan(MAX_RESPONSE_BYTES);
    const counted = tampering(s.validator, (a) => a);
    const ev = await fetchEvidence(counted, s.proof, sample, { hiddenSize: model.config.hiddenSize });
    // One chunk per part at the default size: leaves, h_k, and each logits.
    expect(counted.calls).toBe(2 + sample.length);
    expect(await checkConsistency(s.proof, ev, sample, { model, normWeight: norm })).toEqual({ ok: true, checked: sample });
  }, 120_000);
});
