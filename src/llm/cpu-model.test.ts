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
import { loadReference } from './loader.ts';
import { MemorySource } from './source.ts';
import { makeTestModel, type TestModelOptions } from './test-model.ts';
import { LOGIT_TOLERANCE, maxAbs, maxDiff } from './test-support.ts';

async function pair(options: TestModelOptions, cpuOptions: Partial<CpuModelOptions> = {}) {
  const source = new MemorySource(makeTestModel(options).files, 'test model', 4096);
  const { model: ref, manifest } = await loadReference(source);
  const cpu = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, maxTokens: 32, ...cpuOptions });
  return { ref, cpu, manifest, source };
}

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string): number {
  const scale = Math.max(1, maxAbs(ref));
  const diff = maxDiff(got, ref);
  expect(diff, `${what}: max |Δ| ${diff} vs tolerance ${LOGIT_TOLERANCE * scale}`).toBeLessThanOrEqual(LOGIT_TOLERANCE * scale);
  return diff / scale;
}

describe('CPU decoder vs the float64 reference', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype} weights: logits agree at every position, in one pass and token by token`, async () => {
      const { ref, cpu, manifest } = await pair({ dtype });
      try {
        const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Hello there, how are you?' }]);
        expect(prompt.length).toBeGreaterThan(32); // more than one pass (maxTokens 32)
        const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
        const g = await cpu.forward({ tokens: prompt, kvCache: cpu.createKvCache(), logits: 'all' });
        expect(g.logits!.length).toBe(prompt.length * manifest.config.vocabSize);
        const rel = expectClose(g.logits!, r.logits!, `${dtype} prefill`);
        const cache = cpu.createKvCache();
        await cpu.forward({ tokens: prompt.slice(0, 5), kvCache: cache, logits: 'none' });
        const V = manifest.config.vocabSize;
        for (let t = 5; t < 12; t++) {
          const step = await cpu.forward({ tokens: [prompt[t]!], kvCache: cache });
          expectClose(step.logits!, r.logits!.subarray(t * V, (t + 1) * V), `${dtype} decode position ${t}`);
        }
        expect(cache.length).toBe(12);
        expect(rel).toBeLessThan(LOGIT_TOLERANCE);
      } finally {
        cpu.destroy();
      }
    });
  }

  it('Qwen2 form (QKV bias), llama3 RoPE scaling, odd vocabulary, on the calling thread', async () => {
    const { ref, cpu, manifest } = await pair({ dtype: 'F16', modelType: 'qwen2', ropeScaling: 'llama3', layers: 2, vocab: 299 }, { threads: 0 });
    try {
      expect(manifest.config.qkvBias).toBe(true);
      const prompt = manifest.tokenizer!.encode('The children are playing in the garden, the cat is sleeping on the chair.');
      const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
      const g = await cpu.forward({ tokens: prompt, kvCache: cpu.createKvCache(), logits: 'all' });
      expectClose(g.logits!, r.logits!, 'qwen2 / llama3 rope / V = 299');
    } finally {
      cpu.destroy();
    }
  });

  it('greedy generation is identical to the reference, and to the calling-thread model, for 32 tokens', async () => {
    const { ref, cpu, manifest, source } = await pair({ dtype: 'BF16', tieEmbeddings: false, seed: 2 });
    const inline = await CpuLlmModel.load(source, { threads: 0 });
    try {
      const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
      const opts = { maxTokens: 32, eosTokenIds: [] as number[] };
      const a = await generate(cpu, prompt, opts);
      const b = await generate(ref, prompt, opts);
      const c = await generate(inline, prompt, opts);
      expect(a.tokens).toHaveLength(32);
      expect(a.tokens).toEqual(b.tokens);
      expect(c.tokens).toEqual(a.tokens);
      expect(new Set(a.tokens).size).toBeGreaterThan(8);
    } finally {
      cpu.destroy();
      inline.destroy();
    }
  });

  it("layer ranges: [0, k) on one model and [k, L) on another give the full model's logits, with their KV caches", async () => {
    const source = new MemorySource(makeTestModel({ dtype: 'BF16', layers: 3 }).files);
    const { model: ref, manifest } = await loadReference(source);
    const front = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, toLayer: 2 });
    const back = await CpuLlmModel.load(source, { spawner: nodeSpawner, threads: 2, fromLayer: 2 });
    try {
      const prompt = manifest.tokenizer!.encode('Once upon a time there was a small model.');
      const full = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
      const frontCache = front.createKvCache();
      const backCache = back.createKvCache();
      const h = await front.forward({ tokens: prompt, kvCache: frontCache });
      expect(h.logits).toBeUndefined();
      const out = await back.forward({ hidden: h.hidden!, kvCache: backCache, logits: 'all' });
      expectClose(out.logits!, full.logits!, 'CPU [0,2) → CPU [2,3)');
      const next = 65;
      const h2 = await front.forward({ tokens: [next], kvCache: frontCache });
      const o2 = await back.forward({ hidden: h2.hidden!, kvCache: backCache });
      const refNext = await ref.forward({ tokens: [...prompt, next], kvCache: ref.createKvCache() });
      expectClose(o2.logits!, refNext.logits!, 'split decode step');
      const mixed = await ref.forward({ hidden: h.hidden!, fromLayer: 2, kvCache: ref.createKvCache({ fromLayer: 2 }), logits: 'all' });
      expectClose(mixed.logits!, full.logits!, 'CPU [0,2) → reference [2,3)');
      await expect(back.forward({ tokens: [1], kvCache: backCache })).rejects.toThrow(/tokens enter at layer 0/);
      await expect(front.forward({ tokens: [manifest.config.vocabSize], kvCache: front.createKvCache() })).rejects.toThrow(/outside the vocabulary/);
      const small = front.createKvCache({ maxContext: 4 });
      await expect(front.forward({ tokens: [1, 2, 3, 4, 5], kvCache: small })).rejects.toThrow(/holds 4 positions/);
    } finally {
      front.destroy();
      back.destroy();
    }
  });
});
