import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import { LOGIT_TOLERANCE, maxAbs, maxDiff } from '../llm/test-support.ts';
import { decodeRequest } from './codec.ts';
import { seedSigner } from './local.ts';
import { LAYERS, NETWORK, rigVolunteer, seedOf, testRig, type TestRig } from './test-support.ts';
import { splitGenerate } from './user.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const USER = seedOf(7);

function session(k: number, extra: { volunteers?: number; onRequest?: (b: Uint8Array) => void } = {}) {
  const vols = Array.from({ length: extra.volunteers ?? 1 }, (_, i) =>
    rigVolunteer(rig, USER, { seed: seedOf(20 + i), label: `volunteer ${i}`, onRequest: extra.onRequest }),
  );
  return {
    vols,
    base: {
      model: rig.model,
      k,
      privacy: 'allow-split' as const,
      modelHash: rig.hash,
      volunteers: vols.map((v) => v.link),
      thresholds: rig.calibration,
      signer: seedSigner(USER),
      networkId: NETWORK,
      tokenizer: rig.tokenizer,
    },
  };
}

describe('split equivalence', () => {
  for (const k of [1, LAYERS / 2, LAYERS - 1]) {
    it(`k = ${k}: logits agree with the unsplit model and 32 greedy tokens are identical`, async () => {
      const prompt = rig.prompts[0]!;
      const unsplit = await generate(rig.model, prompt, { maxTokens: 32, eosTokenIds: [] });
      const { base } = session(k);
      const split = await splitGenerate(prompt, { ...base, maxTokens: 32, eosTokenIds: [] });
      expect(split.rewinds).toBe(0);
      expect(split.tokens).toHaveLength(32);
      expect(split.tokens).toEqual(unsplit.tokens);
      // Logits of every step against the unsplit model over the same tokens.
      const cache = rig.model.createKvCache({ maxContext: 256 });
      const ids = [...prompt, ...split.tokens];
      const all = rig.model.forwardSync({ tokens: ids, kvCache: cache, logits: 'all' }).logits!;
      const V = rig.model.config.vocabSize;
      split.logits.forEach((l, i) => {
        const row = all.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
        expect(maxDiff(l, row)).toBeLessThanOrEqual(LOGIT_TOLERANCE * Math.max(1, maxAbs(row)));
      });
      expect(split.segments).toHaveLength(1);
      expect(split.segments[0]!.proof).not.toBeNull();
    });
  }

  it('sends only h_k: no request carries the prompt text or token ids', async () => {
    const sent: Uint8Array[] = [];
    const { base } = session(2, { onRequest: (b) => sent.push(b.slice()) });
    const text = 'The quick brown fox';
    const prompt = rig.tokenizer.encodeChat([{ role: 'user', content: text }]);
    const out = await splitGenerate(prompt, { ...base, maxTokens: 8, eosTokenIds: [] });
    const D = rig.model.config.hiddenSize;
    const needle = new TextEncoder().encode('quick');
    for (const bytes of sent) {
      const m = decodeRequest(bytes);
      // Every field of every request kind is session bookkeeping or h_k; h_k rows are D floats each.
      expect(['open', 'step', 'close', 'rewind']).toContain(m.kind);
      if (m.kind === 'step') expect(m.hidden.length).toBe(m.count * D * 4);
      expect(indexOf(bytes, needle)).toBe(-1);
      for (const ids of [prompt, out.tokens]) expect(indexOf(bytes, new Uint8Array(new Uint32Array(ids.slice(0, 4)).buffer))).toBe(-1);
    }
    expect(sent.filter((b) => decodeRequest(b).kind === 'step')).toHaveLength(1 + out.tokens.length);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
