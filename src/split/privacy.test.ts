import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../llm/loader.ts';
import { loadEmbedding } from './engines.ts';
import { defaultPrivacyKs, privacyMeter } from './privacy.ts';
import { CALIBRATION_PROMPTS, testRig, type TestRig } from './test-support.ts';

let rig: TestRig;
let embedding: Float64Array;
beforeAll(async () => {
  rig = await testRig();
  embedding = await loadEmbedding(rig.source, await readManifest(rig.source));
});

describe('privacy meter', () => {
  it('k = 1, 2, L/4, L/2 for an 8-layer model', () => {
    expect(defaultPrivacyKs(8)).toEqual([1, 2, 4]);
    expect(defaultPrivacyKs(32)).toEqual([1, 2, 8, 16]);
    expect(defaultPrivacyKs(2)).toEqual([1]);
  });

  it('greedy search inverts exact h_k at any k; noise lowers recovery and costs output quality', async () => {
    const prompt = rig.tokenizer.encode(CALIBRATION_PROMPTS[3]!);
    const rows = await privacyMeter(rig.model, embedding, [prompt], { ks: [1, 2], noise: [0, 1] });
    expect(rows.map((r) => [r.k, r.noise])).toEqual([
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    for (const r of rows) expect(r.positions).toBe(prompt.length);
    const [exact1, noisy1, exact2, noisy2] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    // Without noise the volunteer, knowing the weights, reads the whole prompt: h_k is not anonymous.
    expect(exact1.searchRecovery).toBe(1);
    expect(exact2.searchRecovery).toBe(1);
    expect(exact1.meanKl).toBe(0);
    expect(exact1.greedyAgreement).toBe(1);
    // Noise of σ = RMS(row) hides some tokens, at a large cost in output quality.
    expect(noisy1.searchRecovery).toBeLessThan(1);
    expect(noisy2.searchRecovery).toBeLessThan(1);
    expect(noisy1.meanKl).toBeGreaterThan(0.5);
    expect(noisy1.greedyAgreement).toBeLessThan(1);
    // The embedding attack is weak on this model (its layers outweigh the embedding by design).
    expect(exact1.embeddingRecovery).toBeLessThan(exact1.searchRecovery);
  });
});
