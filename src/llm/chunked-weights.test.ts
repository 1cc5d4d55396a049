/**
 * The fused decode kernels (the default on GPUs) with the embedding and the head split over several
 * bindings, as Llama-3.1-8B's 1.05 GB head is on adapters whose maxStorageBufferBindingSize is
 * under it: the chunks end at rows that are not multiples of the greedy pick's 1024-logit chunks,
 * the last one is ragged, and the layer matrices stay whole so the fused GEMVs run. Decode logits
 * against the float64 reference and bit for bit against the same model in single bindings; greedy
 * tokens through generate's GPU-resident blocks and one step per readback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import type { FloatDType } from './dtype.ts';
import { expectClose, referenceOf } from './engine-test-support.ts';
import { generate } from './generate.ts';
import { GpuModel } from './gpu-model.ts';
import { tensorNames } from './config.ts';
import type { TestModelOptions } from './test-model.ts';

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

const HIDDEN = 64;
const INTERMEDIATE = 176; // K % 8 == 0 everywhere: the fused decode GEMVs apply
const VOCAB = 1300; // two 1024-logit pick chunks, the second partial
const LAYERS = 2;

for (const [dtype, modelType, tie] of [
  ['F16', 'qwen2', false],
  ['BF16', 'llama', true],
] as [FloatDType, 'llama' | 'qwen2', boolean][]) {
  describe(`fused decode, ${dtype} ${modelType}, ${tie ? 'tied' : 'untied'} head split over bindings`, () => {
    it('logits equal the single-binding model and the reference; greedy tokens equal the reference in blocks and per step', async () => {
      const options: TestModelOptions = {
        dtype,
        modelType,
        tieEmbeddings: tie,
        hidden: HIDDEN,
        intermediate: INTERMEDIATE,
        vocab: VOCAB,
        layers: LAYERS,
        seed: 5,
      };
      const { source, ref, manifest } = await referenceOf(options);
      // The largest layer matrix (gate, up, down: 176 × 64) fits in one binding; the 1300 × 64 embedding does not.
      const maxBindingBytes = INTERMEDIATE * HIDDEN * 2 + 1024;
      const rowsPerBinding = Math.floor(maxBindingBytes / (HIDDEN * 2));
      const bindings = Math.ceil(VOCAB / rowsPerBinding);
      expect(rowsPerBinding % 1024).not.toBe(0);
      expect(VOCAB % rowsPerBinding).not.toBe(0);
      const chunked = await GpuModel.load(source, { device, maxTokens: 32, maxBindingBytes, decodeKernels: 'fused' });
      const whole = await GpuModel.load(source, { device, maxTokens: 32, decodeKernels: 'fused' });
      try {
        const head = tie ? tensorNames.embed : tensorNames.lmHead;
        expect(chunked.weightChunks(tensorNames.embed).chunks).toHaveLength(bindings);
        expect(chunked.weightChunks(head).chunks).toHaveLength(bindings);
        expect(chunked.weightChunks(head).chunks.at(-1)!.rowCount).toBe(VOCAB - (bindings - 1) * rowsPerBinding);
        expect(whole.weightChunks(head).chunks).toHaveLength(1);
        const n = tensorNames.layer(0);
        for (const w of [n.q, n.k, n.v, n.o, n.gate, n.up, n.down]) expect(chunked.weightChunks(w).chunks, w).toHaveLength(1);

        const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
        const V = VOCAB;
        const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
        const cacheC = chunked.createKvCache();
        const cacheW = whole.createKvCache();
        const pre = prompt.length - 3;
        await chunked.forward({ tokens: prompt.slice(0, pre), kvCache: cacheC, logits: 'none' });
        await whole.forward({ tokens: prompt.slice(0, pre), kvCache: cacheW, logits: 'none' });
        for (let t = pre; t < prompt.length; t++) {
          const c = await chunked.forward({ tokens: prompt.slice(t, t + 1), kvCache: cacheC });
          // Fused: 5 dispatches a layer, and the embedding gather and the head GEMV once per binding.
          expect(chunked.lastDispatches).toBe(5 * LAYERS + 2 * bindings);
          const w = await whole.forward({ tokens: prompt.slice(t, t + 1), kvCache: cacheW });
          expect(whole.lastDispatches).toBe(5 * LAYERS + 2);
          expect(c.logits).toEqual(w.logits);
          expectClose(c.logits!, r.logits!.subarray(t * V, (t + 1) * V), `${dtype} chunked fused decode position ${t}`);
        }

        // Two blocks, the second short: the pick's (value, index) pairs cross the head's binding edges.
        const opts = { maxTokens: 9, eosTokenIds: [] as number[] };
        const reference = await generate(ref, prompt, opts);
        const blocks = await generate(chunked, prompt, { ...opts, greedyBlock: 5 });
        const perStep = await generate(chunked, prompt, { ...opts, greedyBlock: 0 });
        expect(reference.tokens).toHaveLength(9);
        expect(new Set(reference.tokens).size).toBeGreaterThan(2);
        expect(blocks.tokens).toEqual(reference.tokens);
        expect(perStep.tokens).toEqual(reference.tokens);
      } finally {
        chunked.destroy();
        whole.destroy();
      }
    });
  });
}
