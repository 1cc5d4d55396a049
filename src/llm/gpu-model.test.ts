import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { at } from '../sprint/indexing.ts';
import { writeTestModel } from './test-model-files.ts';
import type { FloatDType } from './dtype.ts';
import { generate } from './generate.ts';
import { argmax } from './sampling.ts';
import { GpuModel, type GpuModelOptions } from './gpu-model.ts';
import { loadReference, type LoadProgress } from './loader.ts';
import { DirectorySource } from './node-source.ts';
import {
  expectAllLogitsAgree,
  expectClose,
  expectGreedyAgrees,
  expectLayerSplitAgrees,
  expectPrefillAndDecodeAgree,
  referenceOf,
} from './engine-test-support.ts';
import type { TestModelOptions } from './test-model.ts';
import { tempDir } from './test-support.ts';

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

async function pair(options: TestModelOptions, gpuOptions: Partial<GpuModelOptions> = {}) {
  const { source, ref, manifest } = await referenceOf(options);
  const gpu = await GpuModel.load(source, { device, maxTokens: 32, ...gpuOptions });
  return { ref, gpu, manifest };
}

describe('WebGPU decoder vs the float64 reference', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype} weights: logits agree at every position, in one pass and token by token`, async () => {
      const { ref, gpu, manifest } = await pair({ dtype });
      try {
        await expectPrefillAndDecodeAgree(ref, gpu, manifest, dtype);
      } finally {
        gpu.destroy();
      }
    });
  }

  it('greedy generation is identical to the reference for 32 tokens', async () => {
    const { ref, gpu, manifest } = await pair({ dtype: 'BF16', tieEmbeddings: false, seed: 2 });
    try {
      const { prompt, opts, result } = await expectGreedyAgrees(ref, gpu, manifest);
      expect(result.stoppedBy).toBe('max-tokens');
      // The same run reading every step's logits back and picking on the CPU.
      const c = await generate(gpu, prompt, { ...opts, pickOnModel: false });
      expect(c.tokens).toEqual(result.tokens);
    } finally {
      gpu.destroy();
    }
  });

  it('Qwen2 form (QKV bias), llama3 RoPE scaling, workgroup kernels and weights split across 1 KiB bindings agree too', async () => {
    const { ref, gpu, manifest } = await pair(
      { dtype: 'F16', modelType: 'qwen2', ropeScaling: 'llama3', layers: 2, vocab: 300 },
      { linear: 'gemv', normThreads: 64, maxBindingBytes: 1024 },
    );
    try {
      expect(manifest.config.qkvBias).toBe(true);
      await expectAllLogitsAgree(ref, gpu, manifest, 'qwen2 / gemv / split bindings');
    } finally {
      gpu.destroy();
    }
  });

  // intermediate 176: K % 8 == 0 everywhere, so the fused decode kernels run (the default 172 falls back).
  for (const [dtype, modelType] of [
    ['F32', 'llama'],
    ['F16', 'qwen2'],
    ['BF16', 'llama'],
  ] as const) {
    it(`fused decode kernels (${dtype}, ${modelType}): steps of 1 and 3 rows, the head split over bindings, legacy kernels agree`, async () => {
      const matrixBytes = 176 * 64 * (dtype === 'F32' ? 4 : 2);
      const { ref, gpu, manifest } = await pair(
        { dtype, modelType, intermediate: 176, layers: 2, tieEmbeddings: dtype !== 'F16' },
        { maxBindingBytes: matrixBytes + 1024, decodeKernels: 'fused' },
      );
      try {
        const c = manifest.config;
        const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Hello there, how are you?' }]).slice(0, 14);
        const V = c.vocabSize;
        const vocabBindings = Math.ceil(V / Math.floor((matrixBytes + 1024) / (c.hiddenSize * (dtype === 'F32' ? 4 : 2))));
        const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
        const cache = gpu.createKvCache();
        await gpu.forward({ tokens: prompt.slice(0, 6), kvCache: cache, logits: 'none' });
        // The same steps with RoPE as its own dispatch, on a second cache: bit-identical logits.
        const ropeApart = gpu.createKvCache();
        gpu.ropeInGemv = false;
        await gpu.forward({ tokens: prompt.slice(0, 6), kvCache: ropeApart, logits: 'none' });
        gpu.ropeInGemv = true;
        for (let t = 6; t < 9; t++) {
          const step = await gpu.forward({ tokens: prompt.slice(t, t + 1), kvCache: cache });
          // 5 per layer (RoPE in the q|k|v GEMV), plus embedding and head: one dispatch per binding of their (split) matrices
          expect(vocabBindings).toBeGreaterThan(1);
          expect(gpu.lastDispatches).toBe(5 * c.numLayers + 2 * vocabBindings);
          expectClose(step.logits!, r.logits!.subarray(t * V, (t + 1) * V), `${dtype} fused decode position ${t}`);
          gpu.ropeInGemv = false;
          const apart = await gpu.forward({ tokens: prompt.slice(t, t + 1), kvCache: ropeApart });
          expect(gpu.lastDispatches).toBe(6 * c.numLayers + 2 * vocabBindings);
          gpu.ropeInGemv = true;
          expect(apart.logits).toEqual(step.logits);
        }
        gpu.destroyKvCache(ropeApart);
        const three = await gpu.forward({ tokens: prompt.slice(9, 12), kvCache: cache, logits: 'all' });
        expectClose(three.logits!, r.logits!.subarray(9 * V, 12 * V), `${dtype} fused 3-row step`);
        gpu.decodeKernels = 'legacy';
        const old = await gpu.forward({ tokens: prompt.slice(12, 13), kvCache: cache });
        expect(gpu.lastDispatches).toBeGreaterThan(10 * c.numLayers);
        expectClose(old.logits!, r.logits!.subarray(12 * V, 13 * V), `${dtype} legacy decode`);
        gpu.decodeKernels = 'fused';
        const last = await gpu.forward({ tokens: prompt.slice(13, 14), kvCache: cache });
        expectClose(last.logits!, r.logits!.subarray(13 * V, 14 * V), `${dtype} fused after legacy`);
        // The GPU's greedy pick over the head's split bindings: the argmax of the logits the same steps give.
        const picks = gpu.createKvCache();
        const logitsRun = gpu.createKvCache();
        for (const input of [prompt.slice(0, 5), [prompt[5]!], [prompt[6]!], prompt.slice(7, 9)]) {
          const id = await gpu.forwardGreedy({ tokens: input, kvCache: picks });
          if (input.length === 1) expect(gpu.lastDispatches).toBe(5 * c.numLayers + 2 * vocabBindings + 2); // + the pick's two passes
          const l = (await gpu.forward({ tokens: input, kvCache: logitsRun })).logits!;
          expect(id).toBe(argmax(l));
          expect(picks.length).toBe(logitsRun.length);
        }
      } finally {
        gpu.destroy();
      }
    });
  }

  it("layer ranges: [0, k) on one model and [k, L) on another (GPU or CPU) give the full model's logits", async () => {
    const { source, ref, manifest } = await referenceOf({ dtype: 'BF16', layers: 3 });
    const front = await GpuModel.load(source, { device, toLayer: 2 });
    const back = await GpuModel.load(source, { device, fromLayer: 2 });
    try {
      expect(front.weightBytes).toBeGreaterThan(back.weightBytes - 1); // back holds one layer + head
      const { backCache } = await expectLayerSplitAgrees(ref, front, back, manifest, 'GPU');
      await expect(back.forward({ tokens: [1], kvCache: backCache })).rejects.toThrow(/tokens enter at layer 0/);
    } finally {
      front.destroy();
      back.destroy();
    }
  });

  it('loads a sharded F16 model from a folder with byte progress, and generation streams, stops on EOS and cancels', async () => {
    const dir = tempDir('sprintnet-llm-');
    writeTestModel(dir, { dtype: 'F16', shards: 3, tieEmbeddings: false, seed: 2 });
    const progress: LoadProgress[] = [];
    const source = new DirectorySource(dir);
    const gpu = await GpuModel.load(source, { device, onProgress: (p) => progress.push(p), maxTokens: 16 });
    const { model: ref, manifest } = await loadReference(source);
    try {
      expect(manifest.weightFiles.map((f) => f.name)).toEqual([
        'model-00001-of-00003.safetensors',
        'model-00002-of-00003.safetensors',
        'model-00003-of-00003.safetensors',
      ]);
      const last = progress.at(-1)!;
      expect(last.loadedBytes).toBe(manifest.totalWeightBytes);
      expect(last.totalBytes).toBe(manifest.totalWeightBytes);
      expect(last.etaMs).toBe(0);
      expect(new Set(progress.map((p) => p.file)).size).toBe(3);
      const tok = manifest.tokenizer!;
      const prompt = tok.encodeChat([{ role: 'user', content: 'Hi' }]);
      const streamed: string[] = [];
      const full = await generate(gpu, prompt, { maxTokens: 12, tokenizer: tok, eosTokenIds: [], onToken: (t) => streamed.push(t.text) });
      const refRun = await generate(ref, prompt, { maxTokens: 12, eosTokenIds: [] });
      expect(full.tokens).toEqual(refRun.tokens);
      expect(streamed.join('') + '').toBe(full.text);
      expect(full.text).toBe(tok.decode(full.tokens, true));
      // EOS: make the 4th greedy token a stop id.
      const stopId = at(full.tokens, 3, 'greedy token');
      const stop = await generate(gpu, prompt, { maxTokens: 12, eosTokenIds: [stopId] });
      expect(stop.stoppedBy).toBe('eos');
      expect(stop.tokens).toEqual(full.tokens.slice(0, full.tokens.indexOf(stopId)));
      // Cancel after the second token.
      const controller = new AbortController();
      const cancelled = await generate(gpu, prompt, {
        maxTokens: 12,
        eosTokenIds: [],
        signal: controller.signal,
        onToken: (t) => t.index === 1 && controller.abort(),
      });
      expect(cancelled.stoppedBy).toBe('abort');
      expect(cancelled.tokens).toEqual(full.tokens.slice(0, 2));
      // Sampling runs and is reproducible from its seed.
      const s1 = await generate(gpu, prompt, { maxTokens: 8, eosTokenIds: [], temperature: 0.9, topP: 0.9, seed: 5 });
      const s2 = await generate(gpu, prompt, { maxTokens: 8, eosTokenIds: [], temperature: 0.9, topP: 0.9, seed: 5 });
      expect(s1.tokens).toEqual(s2.tokens);
    } finally {
      gpu.destroy();
    }
  });
});
