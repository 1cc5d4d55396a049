/**
 * GPU-resident greedy decoding in blocks (GpuModel.greedySteps, generate's blocked loop): the same
 * tokens as one step per readback and as the float64 reference, the same KV cache after a stop
 * inside a block (EOS, cancellation), a forward and a second generation continuing that cache, and
 * the block API's refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import type { FloatDType } from './dtype.ts';
import { LlmError } from './errors.ts';
import { DEFAULT_GREEDY_BLOCK, generate } from './generate.ts';
import { GpuModel, type GpuModelOptions } from './gpu-model.ts';
import { loadReference } from './loader.ts';
import { MemorySource } from './source.ts';
import { makeTestModel, type TestModelOptions } from './test-model.ts';
import { LOGIT_TOLERANCE, maxAbs, maxDiff } from './test-support.ts';

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

async function pair(options: TestModelOptions, gpuOptions: Partial<GpuModelOptions> = {}) {
  const source = new MemorySource(makeTestModel(options).files, 'test model', 4096);
  const { model: ref, manifest } = await loadReference(source);
  const gpu = await GpuModel.load(source, { device, maxTokens: 32, ...gpuOptions });
  const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
  return { ref, gpu, manifest, prompt };
}

/** The first index ≥ from whose id does not occur earlier and does not end a block of `block` decode steps. */
function midBlockStop(tokens: number[], from: number, block: number): number {
  for (let k = from; k < tokens.length; k++) if (!tokens.slice(0, k).includes(tokens[k]!) && k % block !== 0) return k;
  throw new Error('no token usable as a mid-block stop');
}

describe('greedy decoding in GPU-resident blocks', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype}: 32 tokens equal one step per readback and the reference, in blocks of 8 and 5`, async () => {
      const { ref, gpu, prompt } = await pair({ dtype, tieEmbeddings: false, seed: 2 });
      try {
        const opts = { maxTokens: 32, eosTokenIds: [] as number[] };
        const reference = await generate(ref, prompt, opts);
        const blocked = await generate(gpu, prompt, opts);
        const odd = await generate(gpu, prompt, { ...opts, greedyBlock: 5 });
        const perStep = await generate(gpu, prompt, { ...opts, greedyBlock: 0 });
        expect(blocked.tokens).toHaveLength(32);
        expect(new Set(blocked.tokens).size).toBeGreaterThan(8);
        expect(blocked.tokens).toEqual(reference.tokens);
        expect(odd.tokens).toEqual(reference.tokens);
        expect(perStep.tokens).toEqual(reference.tokens);
        expect(blocked.stoppedBy).toBe('max-tokens');
      } finally {
        gpu.destroy();
      }
    });
  }

  it('fused decode kernels with RoPE in the q|k|v GEMV (BF16, Qwen2 biases): the same 12 tokens as the reference, 5 dispatches a layer', async () => {
    const { ref, gpu, manifest, prompt } = await pair({ dtype: 'BF16', modelType: 'qwen2', intermediate: 176, seed: 3 }, { decodeKernels: 'fused' });
    try {
      const opts = { maxTokens: 12, eosTokenIds: [] as number[] };
      const reference = await generate(ref, prompt, opts);
      const blocked = await generate(gpu, prompt, { ...opts, greedyBlock: 4 });
      expect(blocked.tokens).toEqual(reference.tokens);
      // 5 per layer, the embedding, the head (one binding here) and the pick's two passes.
      expect(gpu.lastDispatches).toBe(5 * manifest.config.numLayers + 1 + 1 + 2);
    } finally {
      gpu.destroy();
    }
  });

  it('an EOS inside a block: the same tokens and KV cache as one step at a time, and the cache continues correctly', async () => {
    const { ref, gpu, manifest, prompt } = await pair({ dtype: 'BF16', tieEmbeddings: false, seed: 2 });
    try {
      const free = await generate(ref, prompt, { maxTokens: 32, eosTokenIds: [] });
      const k = midBlockStop(free.tokens, DEFAULT_GREEDY_BLOCK + 1, DEFAULT_GREEDY_BLOCK);
      const stopId = free.tokens[k]!;
      const caches = { blocked: gpu.createKvCache(), perStep: gpu.createKvCache() };
      const blocked = await generate(gpu, prompt, { maxTokens: 32, eosTokenIds: [stopId], kvCache: caches.blocked });
      const perStep = await generate(gpu, prompt, { maxTokens: 32, eosTokenIds: [stopId], kvCache: caches.perStep, greedyBlock: 0 });
      expect(blocked.stoppedBy).toBe('eos');
      expect(blocked.tokens).toEqual(free.tokens.slice(0, k));
      expect(perStep.tokens).toEqual(blocked.tokens);
      // Prompt and every kept token fed; the EOS and the block's later ids are not.
      expect(caches.blocked.length).toBe(prompt.length + k);
      expect(caches.perStep.length).toBe(caches.blocked.length);
      // A forward after the stop sits at the EOS position and sees exactly prompt + kept tokens.
      const next = 97;
      const after = await gpu.forward({ tokens: [next], kvCache: caches.blocked });
      const expected = await ref.forward({ tokens: [...prompt, ...blocked.tokens, next], kvCache: ref.createKvCache() });
      const scale = Math.max(1, maxAbs(expected.logits!));
      expect(maxDiff(after.logits!, expected.logits!)).toBeLessThanOrEqual(LOGIT_TOLERANCE * scale);
      // A second turn on the same cache, blocked, equals the reference's continuation.
      const turn = [65, 66, 67];
      const refCache = ref.createKvCache();
      await ref.forward({ tokens: [...prompt, ...blocked.tokens, next], kvCache: refCache, logits: 'none' });
      const refTurn = await generate(ref, turn, { maxTokens: 12, eosTokenIds: [], kvCache: refCache });
      const gpuTurn = await generate(gpu, turn, { maxTokens: 12, eosTokenIds: [], kvCache: caches.blocked });
      expect(gpuTurn.tokens).toEqual(refTurn.tokens);
      expect(caches.blocked.length).toBe(refCache.length);
      expect(manifest.config.vocabSize).toBeGreaterThan(next);
    } finally {
      gpu.destroy();
    }
  });

  it('cancellation mid-block stops at the same token and cache length as one step at a time; an aborted signal runs nothing', async () => {
    const { ref, gpu, prompt } = await pair({ dtype: 'F16', seed: 4 });
    try {
      const free = await generate(ref, prompt, { maxTokens: 24, eosTokenIds: [] });
      const run = async (greedyBlock: number, stopAt: number) => {
        const controller = new AbortController();
        const cache = gpu.createKvCache();
        const streamed: number[] = [];
        const r = await generate(gpu, prompt, {
          maxTokens: 24,
          eosTokenIds: [],
          greedyBlock,
          kvCache: cache,
          signal: controller.signal,
          onToken: (t) => {
            streamed.push(t.id);
            if (t.index === stopAt) controller.abort();
          },
        });
        return { r, streamed, length: cache.length };
      };
      for (const stopAt of [3, 8, 13]) {
        const blocked = await run(DEFAULT_GREEDY_BLOCK, stopAt);
        const perStep = await run(0, stopAt);
        expect(blocked.r.stoppedBy).toBe('abort');
        expect(blocked.r.tokens).toEqual(free.tokens.slice(0, stopAt + 1));
        expect(blocked.streamed).toEqual(blocked.r.tokens);
        expect(perStep.r.tokens).toEqual(blocked.r.tokens);
        expect(blocked.length).toBe(prompt.length + stopAt);
        expect(perStep.length).toBe(blocked.length);
      }
      const aborted = new AbortController();
      aborted.abort();
      const none = await generate(gpu, prompt, { maxTokens: 8, signal: aborted.signal });
      expect(none.stoppedBy).toBe('abort');
      expect(none.tokens).toEqual([]);
    } finally {
      gpu.destroy();
    }
  });

  it('a full context stops where one step at a time stops; the block API refuses what it cannot run', async () => {
    const { gpu, prompt } = await pair({ dtype: 'BF16', seed: 2 });
    try {
      // Pipelined: block 2 is queued before block 1's ids are read, and so on.
      const events: string[] = [];
      const queue = gpu.greedySteps.bind(gpu);
      gpu.greedySteps = (args) => {
        events.push(`queue ${args.steps}${args.token === undefined ? '' : ' from token'}`);
        return queue(args).then((b) => (events.push(`read ${b.pos0 - prompt.length}`), b));
      };
      const piped = await generate(gpu, prompt, { maxTokens: 20, eosTokenIds: [] });
      delete (gpu as { greedySteps?: unknown }).greedySteps; // back to the class's method
      expect(piped.tokens).toHaveLength(20);
      // 19 steps after the prefill's token: 8 + 8 + 3, each queued before the previous block is read.
      expect(events).toEqual(['queue 8 from token', 'queue 8', 'read 0', 'queue 3', 'read 8', 'read 16']);
      const maxContext = prompt.length + 11;
      const blocked = await generate(gpu, prompt, { maxTokens: 32, eosTokenIds: [], maxContext });
      const perStep = await generate(gpu, prompt, { maxTokens: 32, eosTokenIds: [], maxContext, greedyBlock: 0 });
      expect(blocked.stoppedBy).toBe('context-full');
      expect(blocked.tokens).toEqual(perStep.tokens);
      expect(blocked.tokens).toHaveLength(12);
      const cache = gpu.createKvCache({ maxContext: 8 });
      const refusal = (p: Promise<unknown>, code: string) => expect(p).rejects.toSatisfy((e) => e instanceof LlmError && e.code === code);
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 2 }), 'BAD_ARGUMENT'); // no pick on the GPU yet
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 0, token: 1 }), 'BAD_ARGUMENT');
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 65, token: 1 }), 'BAD_ARGUMENT');
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 2, token: -1 }), 'BAD_ARGUMENT');
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 9, token: 1 }), 'CONTEXT_FULL');
      const first = await gpu.greedySteps({ kvCache: cache, steps: 3, token: 1 });
      const second = await gpu.greedySteps({ kvCache: cache, steps: 2 });
      expect([first.pos0, second.pos0, cache.length]).toEqual([0, 3, 5]);
      await gpu.forward({ tokens: [2], kvCache: cache, logits: 'none' });
      await refusal(gpu.greedySteps({ kvCache: cache, steps: 1 }), 'BAD_ARGUMENT'); // the forward replaced the pick
      await expect(generate(gpu, prompt, { maxTokens: 4, greedyBlock: 65 })).rejects.toThrow(/greedyBlock/);
    } finally {
      gpu.destroy();
    }
  });
});
