/** Shared by the browser split tests: a stand-in for the LLM Worker over the in-process test model. */
import { sha256 } from '@noble/hashes/sha2.js';
import type { ReferenceKvCache } from '../llm/reference.ts';
import type { RangeForwardRequest } from '../llm/worker-client.ts';
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
