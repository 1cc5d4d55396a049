/**
 * The decoder on the CPU backend (src/llm/cpu-model.ts) against the float64 reference: logits at
 * every position and token by token for F32/F16/BF16 weights, the Qwen2 form with biases and llama3
 * RoPE scaling, layer-range splits, greedy generation, threads versus the calling thread.
 */
import { describe, expect, it } from 'vitest';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { CpuLlmModel, type CpuModelOptions } from './cpu-model.ts';
import type { FloatDType } from './dtype.ts';
import { generate } from './generate.ts';
import { expectAllLogitsAgree, expectGreedyAgrees, expectLayerSplitAgrees, expectPrefillAndDecodeAgree, referenceOf } from './engine-test-support.ts';
import type { TestModelOptions } from './test-model.ts';

async function pair(options: TestModelOptions, cpuOptions: Partial<CpuModelOptions> = {}) {
  const { source, ref, manifest } = await referenceOf(options);
  const cpu = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, maxTokens: 32, ...cpuOptions });
  return { ref, cpu, manifest, source };
}

describe('CPU decoder vs the float64 reference', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype} weights: logits agree at every position, in one pass and token by token`, async () => {
      const { ref, cpu, manifest } = await pair({ dtype });
      try {
        await expectPrefillAndDecodeAgree(ref, cpu, manifest, dtype);
      } finally {
        cpu.destroy();
      }
    });
  }

  it('Qwen2 form (QKV bias), llama3 RoPE scaling, odd vocabulary, on the calling thread', async () => {
    const { ref, cpu, manifest } = await pair({ dtype: 'F16', modelType: 'qwen2', ropeScaling: 'llama3', layers: 2, vocab: 299 }, { threads: 0 });
    try {
      expect(manifest.config.qkvBias).toBe(true);
      await expectAllLogitsAgree(ref, cpu, manifest, 'qwen2 / llama3 rope / V = 299');
    } finally {
      cpu.destroy();
    }
  });

  it('greedy generation is identical to the reference, and to the calling-thread model, for 32 tokens', async () => {
    const { ref, cpu, manifest, source } = await pair({ dtype: 'BF16', tieEmbeddings: false, seed: 2 });
    const inline = await CpuLlmModel.load(source, { threads: 0 });
    try {
      const { prompt, opts, result } = await expectGreedyAgrees(ref, cpu, manifest);
      const c = await generate(inline, prompt, opts);
      expect(c.tokens).toEqual(result.tokens);
    } finally {
      cpu.destroy();
      inline.destroy();
    }
  });

  it("layer ranges: [0, k) on one model and [k, L) on another give the full model's logits, with their KV caches", async () => {
    const { source, ref, manifest } = await referenceOf({ dtype: 'BF16', layers: 3 });
    const front = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, toLayer: 2 });
    const back = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, fromLayer: 2 });
    try {
      const { backCache } = await expectLayerSplitAgrees(ref, front, back, manifest, 'CPU');
      await expect(back.forward({ tokens: [1], kvCache: backCache })).rejects.toThrow(/tokens enter at layer 0/);
      await expect(front.forward({ tokens: [manifest.config.vocabSize], kvCache: front.createKvCache() })).rejects.toThrow(/outside the vocabulary/);
      const small = front.createKvCache({ maxContext: 4 });
      await expect(front.forward({ tokens: [1, 2, 3, 4, 5], kvCache: small })).rejects.toThrow(/holds 4 positions/);
      expect(() => front.createKvCache({ fromLayer: 1, toLayer: 3 })).toThrow(/holds layers \[0, 2\), not \[1, 3\)/);
      expect(() => back.createKvCache({ maxContext: 1 << 30 })).toThrow(/exceeds the model's \d+ \(set CpuModelOptions\.maxContext\)/);
      expect(back.createKvCache({ fromLayer: 2, toLayer: 3, maxContext: 8 })).toMatchObject({ fromLayer: 2, toLayer: 3, maxContext: 8 });
    } finally {
      front.destroy();
      back.destroy();
    }
  });
});
