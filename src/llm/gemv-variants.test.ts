/**
 * Every decode GEMV shape (shaders/decode.wgsl.ts GEMV_SHAPES: lanes per row × 16-byte loads in
 * flight per lane) through the whole fused decode path of GpuModel (q|k|v with norm, biases and
 * RoPE; o + residual; gate|up with norm and SwiGLU; down + residual; the head with the final norm):
 * logits of 1-, 3- and 4-row passes within LOGIT_TOLERANCE of the float64 reference, the reference's
 * greedy tokens in GPU-resident blocks, unroll bit-identical to one load a lane (same sums in the same
 * order), on F32/F16/BF16 models whose K are ragged against lanes · unroll · 8. One load a model; the
 * shape is switched between forwards, as `bench:llm --gemv-sweep` does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { expectClose, referenceOf } from './engine-test-support.ts';
import { LlmError } from './errors.ts';
import { generate } from './generate.ts';
import { GpuModel } from './gpu-model.ts';
import { DEFAULT_GEMV_SHAPE, GEMV_SHAPES, gemvShapeLabel, type DecodeGemvShape } from './shaders/decode.wgsl.ts';
import type { TestModelOptions } from './test-model.ts';

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

/**
 * K / 8 per GEMV: A's down_proj 129 and B's 65 / 130 leave a rest after lanes · unroll (32…128;
 * decode-kernels.test.ts covers 259 units against 256); A's q|k|v and gate|up (16 units) and C's
 * (8) leave most lanes idle.
 */
const MODELS: [string, TestModelOptions][] = [
  ['F32, intermediate 1032', { dtype: 'F32', layers: 1, hidden: 128, heads: 4, kvHeads: 2, intermediate: 1032, tieEmbeddings: false, seed: 5 }],
  ['F16, hidden 520, intermediate 1040', { dtype: 'F16', layers: 1, hidden: 520, heads: 10, kvHeads: 2, intermediate: 1040, seed: 6 }],
  ['BF16 Qwen2 (QKV biases)', { dtype: 'BF16', modelType: 'qwen2', intermediate: 176, seed: 3 }],
];

describe('decode GEMV shapes in the fused decode path', () => {
  for (const [what, options] of MODELS) {
    it(`${what}: every shape's 1-, 3- and 4-row logits match the reference and it decodes the reference's greedy tokens`, async () => {
      const { source, ref, manifest } = await referenceOf(options);
      const gpu = await GpuModel.load(source, { device, maxTokens: 32, decodeKernels: 'fused' });
      try {
        const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
        const V = manifest.config.vocabSize;
        const L = manifest.config.numLayers;
        const head = prompt.slice(0, 8);
        const want = (await ref.forward({ tokens: head, kvCache: ref.createKvCache(), logits: 'all' })).logits!;
        const opts = { maxTokens: 8, eosTokenIds: [] as number[], greedyBlock: 4 };
        const reference = await generate(ref, prompt, opts);
        const logitsBy = new Map<string, ArrayLike<number>[]>();
        for (const shape of GEMV_SHAPES) {
          const label = gemvShapeLabel(shape);
          gpu.decodeGemv = shape;
          const cache = gpu.createKvCache();
          // Passes of 3, 4 and 1 rows: the GEMVs at M = 3, 4, 1, the head over every row.
          const passes: ArrayLike<number>[] = [];
          for (const [from, to] of [
            [0, 3],
            [3, 7],
            [7, 8],
          ] as const) {
            const out = await gpu.forward({ tokens: head.slice(from, to), kvCache: cache, logits: 'all' });
            expectClose(out.logits!, want.subarray(from * V, to * V), `${label} rows [${from}, ${to})`);
            passes.push(out.logits!);
          }
          // Embedding, 5 GEMV-path dispatches a layer, the head: the fused path ran.
          expect(gpu.lastDispatches, label).toBe(5 * L + 2);
          gpu.destroyKvCache(cache);
          logitsBy.set(label, passes);
          const blocked = await generate(gpu, prompt, opts);
          expect(blocked.tokens, label).toEqual(reference.tokens);
        }
        for (const shape of GEMV_SHAPES) {
          const oneLoad = logitsBy.get(gemvShapeLabel({ lanes: shape.lanes, unroll: 1 }))!;
          const got = logitsBy.get(gemvShapeLabel(shape))!;
          for (const [i, pass] of got.entries()) expect(pass, `${gemvShapeLabel(shape)} pass ${i} vs one load`).toEqual(oneLoad[i]);
        }
        expect(gpu.decodeGemv).toBe(GEMV_SHAPES.at(-1));
      } finally {
        gpu.destroy();
      }
    });
  }

  it('the load option reaches every GEMV; shapes the template does not build are refused with BAD_ARGUMENT', async () => {
    const options: TestModelOptions = { dtype: 'BF16', intermediate: 176, seed: 4 };
    const { source, ref, manifest } = await referenceOf(options);
    const shape: DecodeGemvShape = { lanes: 64, unroll: 4 };
    const gpu = await GpuModel.load(source, { device, maxTokens: 32, decodeKernels: 'fused', decodeGemv: shape });
    try {
      expect(gpu.decodeGemv).toEqual(shape);
      const prompt = manifest.tokenizer!.encode('Once upon a time');
      const want = (await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' })).logits!;
      const cache = gpu.createKvCache();
      const V = manifest.config.vocabSize;
      await gpu.forward({ tokens: prompt.slice(0, -1), kvCache: cache, logits: 'none' });
      const last = await gpu.forward({ tokens: prompt.slice(-1), kvCache: cache });
      expectClose(last.logits!, want.subarray((prompt.length - 1) * V), 'lanes 64, unroll 4 from the load option');
      const bad = [{ lanes: 16, unroll: 1 }, { lanes: 32, unroll: 3 }, {}] as unknown as DecodeGemvShape[];
      for (const b of bad) {
        expect(() => (gpu.decodeGemv = b)).toThrow(LlmError);
        await expect(GpuModel.load(source, { device, decodeGemv: b })).rejects.toSatisfy((e) => e instanceof LlmError && e.code === 'BAD_ARGUMENT');
      }
      expect(gpu.decodeGemv).toEqual(shape);
      gpu.decodeGemv = DEFAULT_GEMV_SHAPE;
      expect(gpu.decodeGemv).toBe(DEFAULT_GEMV_SHAPE);
    } finally {
      gpu.destroy();
    }
  });
});
