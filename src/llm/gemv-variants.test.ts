/**
 * Every decode GEMV shape (shaders/decode.wgsl.ts GEMV_SHAPES: lanes per row × 16-byte loads in
 * flight per lane) through GpuModel's fused decode path, as `bench:llm --gemv-sweep` runs them: one
 * load, the shape switched between forwards.
 *
 * Why this set covers every shape: the shape meets the weights' dtype and the row count only inside
 * the kernel, and decode-kernels.test.ts already holds the kernel of every shape to float64 for every
 * fusion the model runs (o and down: plain and + residual; q|k|v with norm and biases; gate|up with
 * norm and SwiGLU; the head's last row with the final norm), with F32, F16 and BF16 weights among
 * those cases, M = 1…4, K of 259 units (ragged for every lanes · unroll), unroll bit-identical to one
 * load and 64 lanes within 2e-6 of 32, and the RoPE epilogue bit for bit per shape. The default shape
 * runs the model's fused path on F32, F16 and BF16 at 1 and 3 rows in gpu-model.test.ts (and in
 * chunked-weights.test.ts, greedy-blocks.test.ts). What only a model shows is GpuModel's part: the
 * shape reaching every fused GEMV (q|k|v + RoPE, o, gate|up, down, head) with that shape's grid,
 * pipelines, plans and bind groups, and shapes switched on one loaded model keeping their plans
 * apart. So one BF16 Qwen2 model (q|k|v biases, tied head) takes every shape through one-row decode
 * steps, the fused head after a prefill and greedy blocks, and back to the first shape; an F16 Llama
 * model with an untied head takes l64u4, given at load, through passes of 4 and 1 rows (each row
 * count its own pipelines and bind groups; M = 2 and 3 compile for seconds each and add nothing the
 * kernel test and the 4-row pass do not show). The models are small (K of 8 to 22 units, under one
 * lanes · unroll, so the unrolled loop's bit-identity is the kernel test's to show): on SwiftShader a
 * shape's GEMVs compile for 2–10 s per row count and a decode step takes about half a second, and
 * ragged K, row counts and dtypes every shape already passes at kernel level would only multiply that.
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

const QWEN2: TestModelOptions = { dtype: 'BF16', modelType: 'qwen2', intermediate: 176, seed: 3 };

describe('decode GEMV shapes in the fused decode path', () => {
  it("BF16 Qwen2: every shape's decode steps match the reference and it decodes the reference's greedy tokens in blocks; switching back reuses a shape's plans", async () => {
    const { source, ref, manifest } = await referenceOf(QWEN2);
    const gpu = await GpuModel.load(source, { device, maxTokens: 32, decodeKernels: 'fused' });
    try {
      const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]).slice(0, 8);
      const V = manifest.config.vocabSize;
      const L = manifest.config.numLayers;
      const want = (await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' })).logits!;
      const opts = { maxTokens: 8, eosTokenIds: [] as number[], greedyBlock: 4 };
      const reference = await generate(ref, prompt, opts);
      /** 5 rows prefilled (row-parallel kernels, the same for every shape), then 3 one-row steps through this shape's GEMVs. */
      const steps = async (label: string): Promise<Float32Array[]> => {
        const cache = gpu.createKvCache();
        await gpu.forward({ tokens: prompt.slice(0, 5), kvCache: cache, logits: 'none' });
        const out: Float32Array[] = [];
        for (let t = 5; t < 8; t++) {
          const logits = (await gpu.forward({ tokens: [prompt[t]!], kvCache: cache, logits: 'all' })).logits!;
          expectClose(logits, want.subarray(t * V, (t + 1) * V), `${label} step at ${t}`);
          // Embedding, 5 GEMV-path dispatches a layer, the head: the fused path ran.
          expect(gpu.lastDispatches, label).toBe(5 * L + 2);
          out.push(Float32Array.from(logits));
        }
        gpu.destroyKvCache(cache);
        return out;
      };
      const logitsBy = new Map<string, Float32Array[]>();
      for (const shape of GEMV_SHAPES) {
        const label = gemvShapeLabel(shape);
        gpu.decodeGemv = shape;
        logitsBy.set(label, await steps(label));
        // The prompt's last row through the fused head, then greedy steps queued in blocks with the pick on the GPU.
        const blocked = await generate(gpu, prompt, opts);
        expect(blocked.tokens, label).toEqual(reference.tokens);
      }
      for (const shape of GEMV_SHAPES) {
        const oneLoad = logitsBy.get(gemvShapeLabel({ lanes: shape.lanes, unroll: 1 }))!;
        const got = logitsBy.get(gemvShapeLabel(shape))!;
        for (const [i, step] of got.entries()) expect(step, `${gemvShapeLabel(shape)} step ${i} vs one load`).toEqual(oneLoad[i]);
      }
      expect(gpu.decodeGemv).toBe(GEMV_SHAPES.at(-1));
      // Back to the first shape after the others: its own plans and bind groups, the same bits as before.
      const first = GEMV_SHAPES[0]!;
      gpu.decodeGemv = first;
      const again = await steps(`${gemvShapeLabel(first)} again`);
      for (const [i, step] of again.entries()) expect(step, `${gemvShapeLabel(first)} step ${i} again`).toEqual(logitsBy.get(gemvShapeLabel(first))![i]);
    } finally {
      gpu.destroy();
    }
  });

  it('the load option reaches every GEMV (F16, untied head): 4- and 1-row passes match the reference; shapes the template does not build are refused with BAD_ARGUMENT', async () => {
    const options: TestModelOptions = { dtype: 'F16', intermediate: 176, tieEmbeddings: false, seed: 4 };
    const { source, ref, manifest } = await referenceOf(options);
    const shape: DecodeGemvShape = { lanes: 64, unroll: 4 };
    const gpu = await GpuModel.load(source, { device, maxTokens: 32, decodeKernels: 'fused', decodeGemv: shape });
    try {
      expect(gpu.decodeGemv).toEqual(shape);
      const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Once upon a time' }]).slice(0, 6);
      const want = (await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' })).logits!;
      const cache = gpu.createKvCache();
      const V = manifest.config.vocabSize;
      // A pass of 4 rows (DECODE_MAX_ROWS: the largest GEMV this shape compiles) and two of 1, the head over every row.
      for (const [from, to] of [
        [0, 4],
        [4, 5],
        [5, 6],
      ] as const) {
        const out = await gpu.forward({ tokens: prompt.slice(from, to), kvCache: cache, logits: 'all' });
        expectClose(out.logits!, want.subarray(from * V, to * V), `l64u4 from the load option, rows [${from}, ${to})`);
        expect(gpu.lastDispatches).toBe(5 * manifest.config.numLayers + 2);
      }
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
