/**
 * Shared by the split tests of the browser wiring and the CLI: a stand-in for the LLM Worker over the
 * in-process test model, and a genesis whose epoch 0 is already open for inference proofs.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { ReferenceKvCache } from '../llm/reference.ts';
import type { RangeForwardRequest } from '../llm/worker-client.ts';
import { fastTimings, makeGenesis, type Genesis } from '../protocol/genesis.ts';
import type { TestRig } from '../split/test-support.ts';
import type { RangeWorker } from './split-model.ts';

/** Does what src/llm/worker.ts rangeForward does: caches by id, created on first use, the caller's length applied first. */
export function fakeWorker(r: TestRig): RangeWorker & { caches: Map<number, ReferenceKvCache> } {
  const caches = new Map<number, ReferenceKvCache>();
  return {
    caches,
    async splitModelFacts() {
      const names = ['config.json', ...[...r.files.keys()].filter((n) => n.endsWith('.safetensors')).sort()];
      return { config: r.model.config, files: names.map((name) => ({ name, sha256: sha256(r.files.get(name)!) })), normWeight: r.norm };
    },
    async rangeForward(q: RangeForwardRequest) {
      let c = caches.get(q.cache.id);
      if (!c) caches.set(q.cache.id, (c = r.model.createKvCache({ fromLayer: q.cache.fromLayer, toLayer: q.cache.toLayer, maxContext: q.cache.maxContext })));
      if (q.cache.length > c.length) throw new Error('the caller is ahead of the cache');
      c.length = q.cache.length;
      const out = await r.model.forward({ ...q, kvCache: c });
      return { logits: out.logits, hidden: out.hidden, length: c.length };
    },
    async dropRangeCache(id) {
      caches.delete(id);
    },
    async encodePrompt(p) {
      return r.tokenizer.encode(p);
    },
    async decodeTokens(t) {
      return r.tokenizer.decode(t);
    },
  };
}

/**
 * A tiny genesis whose epoch 0 began a second ago and runs a 120 s Sprint (p = 1/8), with weight 1
 * for each of `weighted`: a proof made now lies inside epoch 0 and those keys can judge it.
 */
export function openEpochGenesis(networkId: string, weighted: readonly Uint8Array[]): Genesis {
  return makeGenesis({
    networkId,
    config: 'tiny',
    startMs: Date.now() - 1000,
    skewMs: 2000,
    timings: fastTimings(120_000, 2000),
    hitRateDenominator: 8,
    initialWeights: weighted.map((publicKey) => ({ publicKey, weight: 1 })),
  });
}
