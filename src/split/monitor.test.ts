import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import { argmax } from '../llm/sampling.ts';
import { decodeAnswer, decodeFloats, decodeRequest, encodeAnswer, encodeFloats, Phase, Precision } from './codec.ts';
import { localVolunteer, seedSigner, strictVerifier } from './local.ts';
import { entropy } from './metrics.ts';
import { checkProof } from './proof.ts';
import { NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import type { SplitTransport } from './transport.ts';
import { splitGenerate } from './user.ts';
import { checkConsistency } from './verify.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const USER = seedOf(7);
const K = 3;

/** Alters the volunteer's answer to decode step `target` on its first attempt only (a noisy or fragmented step). */
function inject(
  link: SplitTransport,
  target: number,
  alter: (a: Extract<ReturnType<typeof decodeAnswer>, { kind: 'stepped' }>) => Parameters<typeof encodeAnswer>[0],
): SplitTransport & { fired: number } {
  const t = {
    fired: 0,
    volunteerKey: link.volunteerKey,
    label: link.label,
    async call(request: Uint8Array) {
      const m = decodeRequest(request);
      const answer = await link.call(request);
      if (m.kind !== 'step' || m.phase !== Phase.decode || m.step !== target || t.fired > 0) return answer;
      const a = decodeAnswer(answer);
      if (a.kind !== 'stepped') return answer;
      t.fired++;
      return encodeAnswer(alter(a));
    },
  };
  return t;
}

function setup(precision: 'f32' | 'f16', target: number, alter: Parameters<typeof inject>[2]) {
  const v = localVolunteer({ model: rig.model, lowestK: 1, modelHash: rig.hash, normWeight: rig.norm, networkId: NETWORK, userSeed: USER, seed: seedOf(30) });
  const link = inject(v.link, target, alter);
  const lengths: [number, number][] = [];
  const prompt = rig.prompts[1]!;
  const run = splitGenerate(prompt, {
    model: rig.model,
    k: K,
    privacy: 'allow-split',
    modelHash: rig.hash,
    volunteers: [link],
    thresholds: rig.calibration,
    signer: seedSigner(USER),
    networkId: NETWORK,
    maxTokens: 16,
    eosTokenIds: [],
    precision,
    onStep: (s) => {
      // After every accepted step the volunteer's cache ends at the step's last position.
      if (s.phase === 'decode') lengths.push([v.volunteer.cacheLengths()[0]!, prompt.length + lengths.length + 1]);
    },
  });
  return { v, link, run, prompt, lengths };
}

describe('monitoring and rewind', () => {
  it('a step with C_t > τ is rewound on both sides and its token resampled (f32)', async () => {
    const { link, run, prompt, lengths, v } = setup('f32', 5, (a) => ({ ...a, cost: rig.calibration.tau * 2 }));
    const out = await run;
    expect(link.fired).toBe(1);
    expect(out.rewinds).toBe(1);
    const decode = out.steps.filter((s) => s.phase === 'decode');
    expect(decode.map((s) => s.rewinds)).toEqual(decode.map((_, i) => (i === 4 ? 1 : 0)));
    // Caches agree at every step: the volunteer's length is the user's accepted positions.
    for (const [volunteer, user] of lengths) expect(volunteer).toBe(user);
    expect(out.userCacheLength).toBe(prompt.length + out.tokens.length);
    // The resampled token is the runner-up of the previous step's logits, not the greedy one.
    const unsplit = await generate(rig.model, prompt, { maxTokens: 16, eosTokenIds: [] });
    expect(out.tokens.slice(0, 4)).toEqual(unsplit.tokens.slice(0, 4));
    const prev = out.logits[4]!;
    const best = argmax(prev);
    expect(out.tokens[4]).not.toBe(best);
    expect(out.tokens[4]).toBe(argmax(prev.map((x, i) => (i === best ? -Infinity : x))));
    // The proof covers the accepted steps only and re-runs consistently: no stale KV entry anywhere.
    const proof = out.segments[0]!.proof!;
    expect(proof.receipt.steps.filter((s) => s.rewinds === 1)).toHaveLength(1);
    const checked = checkProof(proof, NETWORK, () => ({ hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }), strictVerifier);
    expect(checked.ok).toBe(true);
    const all = proof.receipt.steps.flatMap((s, i) => (s.phase === Phase.decode ? [i] : []));
    expect(await checkConsistency(proof, out.segments[0]!.evidence, all, { model: rig.model, normWeight: rig.norm })).toMatchObject({ ok: true });
    expect(v.volunteer.openSessions).toBe(0);
  });

  it('a high-entropy f16 step is recomputed in f32 with the same token', async () => {
    // Flattened logits: H near log V, above θ_H; H is recomputed so the answer stays self-consistent.
    const { link, run, prompt } = setup('f16', 3, (a) => {
      const flat = decodeFloats(a.logits, a.precision, 'logits').map((x) => x * 0.01);
      const logits = encodeFloats(flat, a.precision);
      return { ...a, logits, entropy: entropy(decodeFloats(logits, a.precision, 'logits')) };
    });
    const out = await run;
    expect(link.fired).toBe(1);
    expect(out.rewinds).toBe(1);
    const decode = out.steps.filter((s) => s.phase === 'decode');
    expect(decode[2]).toMatchObject({ rewinds: 1, precision: 'f32' });
    expect(decode.filter((s, i) => i !== 2).every((s) => s.precision === 'f16' && s.rewinds === 0)).toBe(true);
    // Same token as greedy decoding: the retry re-sent it, it was not resampled.
    const unsplit = await generate(rig.model, prompt, { maxTokens: 16, eosTokenIds: [] });
    expect(out.tokens).toEqual(unsplit.tokens);
    expect(out.userCacheLength).toBe(prompt.length + out.tokens.length);
    expect(Precision.f16).toBe(1);
  });

  it('stops as fragmented when every resample crosses too', async () => {
    const v = localVolunteer({ model: rig.model, lowestK: 1, modelHash: rig.hash, normWeight: rig.norm, networkId: NETWORK, userSeed: USER, seed: seedOf(31) });
    const out = await splitGenerate(rig.prompts[2]!, {
      model: rig.model,
      k: K,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [v.link],
      thresholds: { tau: -1, maxEntropy: 100 },
      signer: seedSigner(USER),
      networkId: NETWORK,
      maxTokens: 8,
      eosTokenIds: [],
    });
    expect(out.stoppedBy).toBe('fragmented');
    expect(out.tokens).toEqual([]);
    expect(out.rewinds).toBe(4);
    expect(out.userCacheLength).toBe(rig.prompts[2]!.length);
    // The session closed with only the prompt's prefill, which is all the volunteer is credited for.
    expect(out.segments[0]!.proof!.receipt.steps.map((s) => s.phase)).toEqual([Phase.prefill]);
  });
});
