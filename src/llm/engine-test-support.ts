/**
 * Shared by the CPU and GPU model tests: the checks that hold any engine to the float64 reference.
 * Apart from test-support.ts because it imports vitest, and that file also serves scripts.
 */
import { expect } from 'vitest';
import { generate } from './generate.ts';
import { loadReference, type ModelManifest } from './loader.ts';
import type { CausalLM, KvCache } from './model-types.ts';
import type { ReferenceModel } from './reference.ts';
import { MemorySource } from './source.ts';
import { makeTestModel, type TestModelOptions } from './test-model.ts';
import { LOGIT_TOLERANCE, maxAbs, maxDiff } from './test-support.ts';

/** A test model in memory (4 KiB reads) and the reference loaded from it, for an engine to load beside. */
export async function referenceOf(options: TestModelOptions): Promise<{ source: MemorySource; ref: ReferenceModel; manifest: ModelManifest }> {
  const source = new MemorySource(makeTestModel(options).files, 'test model', 4096);
  const { model: ref, manifest } = await loadReference(source);
  return { source, ref, manifest };
}

/** Asserts got is within LOGIT_TOLERANCE of ref, relative to ref's largest |value| (at least 1); returns that relative difference. */
export function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string): number {
  const scale = Math.max(1, maxAbs(ref));
  const diff = maxDiff(got, ref);
  expect(diff, `${what}: max |Δ| ${diff} vs tolerance ${LOGIT_TOLERANCE * scale}`).toBeLessThanOrEqual(LOGIT_TOLERANCE * scale);
  return diff / scale;
}

/** A chat prompt longer than one pass of maxTokens 32: the logits of every position, then the decode path (5 tokens prefilled, one position per forward). */
export async function expectPrefillAndDecodeAgree(ref: CausalLM, model: CausalLM, manifest: ModelManifest, label: string): Promise<void> {
  const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Hello there, how are you?' }]);
  expect(prompt.length).toBeGreaterThan(32);
  const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
  const g = await model.forward({ tokens: prompt, kvCache: model.createKvCache(), logits: 'all' });
  expect(g.logits!.length).toBe(prompt.length * manifest.config.vocabSize);
  const rel = expectClose(g.logits!, r.logits!, `${label} prefill`);
  const cache = model.createKvCache();
  await model.forward({ tokens: prompt.slice(0, 5), kvCache: cache, logits: 'none' });
  const V = manifest.config.vocabSize;
  for (let t = 5; t < 12; t++) {
    const step = await model.forward({ tokens: prompt.slice(t, t + 1), kvCache: cache });
    expectClose(step.logits!, r.logits!.subarray(t * V, (t + 1) * V), `${label} decode position ${t}`);
  }
  expect(cache.length).toBe(12);
  expect(rel).toBeLessThan(LOGIT_TOLERANCE);
}

/** A plain prompt's logits at every position, in one forward. */
export async function expectAllLogitsAgree(ref: CausalLM, model: CausalLM, manifest: ModelManifest, label: string): Promise<void> {
  const prompt = manifest.tokenizer!.encode('The children are playing in the garden, the cat is sleeping on the chair.');
  const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
  const g = await model.forward({ tokens: prompt, kvCache: model.createKvCache(), logits: 'all' });
  expectClose(g.logits!, r.logits!, label);
}

/** 32 greedy tokens (no EOS) for a chat prompt equal the reference's and are a real sequence, not one token repeated. */
export async function expectGreedyAgrees(ref: CausalLM, model: CausalLM, manifest: ModelManifest) {
  const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
  const opts = { maxTokens: 32, eosTokenIds: [] as number[] };
  const a = await generate(model, prompt, opts);
  const b = await generate(ref, prompt, opts);
  expect(a.tokens).toHaveLength(32);
  expect(a.tokens).toEqual(b.tokens);
  expect(new Set(a.tokens).size).toBeGreaterThan(8);
  return { prompt, opts, result: a };
}

/**
 * front holds layers [0, 2) and back [2, 3) of a 3-layer model: front's hidden states into back
 * (a prefill, then a decode step with both KV caches) and into the reference's [2, 3) give the
 * full model's logits. Returns the caches for the caller's own refusals.
 */
export async function expectLayerSplitAgrees<K extends KvCache>(
  ref: ReferenceModel,
  front: CausalLM<K>,
  back: CausalLM<K>,
  manifest: ModelManifest,
  engine: string,
) {
  const prompt = manifest.tokenizer!.encode('Once upon a time there was a small model.');
  const full = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
  const frontCache = front.createKvCache();
  const backCache = back.createKvCache();
  const h = await front.forward({ tokens: prompt, kvCache: frontCache });
  expect(h.logits).toBeUndefined();
  expect(h.hidden!.length).toBe(prompt.length * manifest.config.hiddenSize);
  const out = await back.forward({ hidden: h.hidden!, kvCache: backCache, logits: 'all' });
  expectClose(out.logits!, full.logits!, `${engine} [0,2) → ${engine} [2,3)`);
  const next = 65;
  const h2 = await front.forward({ tokens: [next], kvCache: frontCache });
  const o2 = await back.forward({ hidden: h2.hidden!, kvCache: backCache });
  const refNext = await ref.forward({ tokens: [...prompt, next], kvCache: ref.createKvCache() });
  expectClose(o2.logits!, refNext.logits!, 'split decode step');
  const mixed = await ref.forward({ hidden: h.hidden!, fromLayer: 2, kvCache: ref.createKvCache({ fromLayer: 2 }), logits: 'all' });
  expectClose(mixed.logits!, full.logits!, `${engine} [0,2) → reference [2,3)`);
  return { frontCache, backCache };
}
