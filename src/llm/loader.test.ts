import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTestModel } from './test-model-files.ts';
import { isLlmError, type LlmErrorCode } from './errors.ts';
import { loadReference, readManifest } from './loader.ts';
import { DirectorySource } from './node-source.ts';
import { MemorySource } from './source.ts';
import { makeTestModel } from './test-model.ts';
import { maxDiff, tempDir } from './test-support.ts';

async function code(p: Promise<unknown>): Promise<LlmErrorCode | string> {
  try {
    await p;
  } catch (e) {
    return isLlmError(e) ? e.code : String(e);
  }
  return 'no error';
}

describe('model loader', () => {
  it('a sharded folder loads the same model as a single file', async () => {
    const single = tempDir('sprintnet-llm-');
    const sharded = tempDir('sprintnet-llm-');
    writeTestModel(single, { dtype: 'BF16' });
    writeTestModel(sharded, { dtype: 'BF16', shards: 4 });
    const a = await loadReference(new DirectorySource(single));
    const b = await loadReference(new DirectorySource(sharded));
    expect(a.manifest.weightFiles).toHaveLength(1);
    expect(b.manifest.weightFiles).toHaveLength(4);
    expect(b.manifest.isTestModel).toBe(true);
    const prompt = a.manifest.tokenizer!.encode('Hello world');
    const la = await a.model.forward({ tokens: prompt, kvCache: a.model.createKvCache(), logits: 'all' });
    const lb = await b.model.forward({ tokens: prompt, kvCache: b.model.createKvCache(), logits: 'all' });
    expect(maxDiff(la.logits!, lb.logits!)).toBe(0);
  });

  it('loads only the shards a layer range needs', async () => {
    const dir = tempDir('sprintnet-llm-');
    writeTestModel(dir, { layers: 4, shards: 6 });
    const source = new DirectorySource(dir);
    const manifest = await readManifest(source);
    const seen = new Set<string>();
    const { streamWeights } = await import('./loader.ts');
    await streamWeights(source, manifest, { data: (file) => void seen.add(file) }, { fromLayer: 3, toLayer: 4 });
    expect(seen.size).toBeLessThan(6);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('typed errors: truncated shard, missing tensor, wrong shape, missing files, corrupt header', async () => {
    const dir = tempDir('sprintnet-llm-');
    writeTestModel(dir, { shards: 2 });
    const shard = join(dir, 'model-00002-of-00002.safetensors');
    const bytes = readFileSync(shard);
    writeFileSync(shard, bytes.subarray(0, bytes.byteLength - 100));
    expect(await code(loadReference(new DirectorySource(dir)))).toBe('SAFETENSORS_TRUNCATED');
    writeFileSync(shard, bytes.subarray(0, 6));
    expect(await code(loadReference(new DirectorySource(dir)))).toBe('SAFETENSORS_TRUNCATED');
    const corrupt = Buffer.from(bytes);
    corrupt[12] = 0xff; // invalid UTF-8 inside the JSON header
    writeFileSync(shard, corrupt);
    expect(await code(loadReference(new DirectorySource(dir)))).toBe('SAFETENSORS_HEADER');
    rmSync(shard);
    expect(await code(loadReference(new DirectorySource(dir)))).toBe('MISSING_FILE');

    const files = new Map(makeTestModel({}).files);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    const withConfig = (c: object) => new MemorySource(new Map([...files, ['config.json', new TextEncoder().encode(JSON.stringify(c))]]));
    expect(await code(loadReference(withConfig({ ...config, num_hidden_layers: 3 })))).toBe('MISSING_TENSOR');
    expect(await code(loadReference(withConfig({ ...config, intermediate_size: 128 })))).toBe('SHAPE_MISMATCH');
    expect(await code(loadReference(withConfig({ ...config, tie_word_embeddings: false })))).toBe('MISSING_TENSOR');
    const noConfig = new Map(files);
    noConfig.delete('config.json');
    expect(await code(loadReference(new MemorySource(noConfig)))).toBe('MISSING_FILE');
    const noWeights = new Map(files);
    noWeights.delete('model.safetensors');
    expect(await code(loadReference(new MemorySource(noWeights)))).toBe('MISSING_FILE');
  });

  it('cancels a load with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await code(loadReference(new MemorySource(makeTestModel({}).files), { signal: controller.signal }))).toBe('ABORTED');
  });
});
