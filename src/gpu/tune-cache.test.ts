import 'fake-indexeddb/auto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { tuneCacheKey } from './autotune.ts';
import type { AdapterDescription } from './device.ts';
import { browserTuneCache } from './gpu-browser.ts';
import { nodeTuneCache } from './gpu-node.ts';

const adapter: AdapterDescription = { vendor: 'nvidia', architecture: 'hopper', device: 'H100', description: 'NVIDIA H100', isFallback: false };
const result = { variant: { tileM: 4, tileN: 4, useWorkgroupMemory: true, workgroupSize: 256, weightFormat: 'u8' }, gflops: 9000 };

describe('autotune cache', () => {
  it('keys by adapter description and config', () => {
    expect(tuneCacheKey(adapter, CONFIGS.canonical)).toBe('v1|nvidia|hopper|H100|NVIDIA H100|canonical');
    expect(tuneCacheKey(adapter, CONFIGS.tiny)).not.toBe(tuneCacheKey(adapter, CONFIGS.canonical));
  });

  it('Node: a JSON file in the cache directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprintnet-cache-'));
    const key = tuneCacheKey(adapter, CONFIGS.canonical);
    await nodeTuneCache(dir).set(key, result);
    expect(await nodeTuneCache(dir).get(key)).toEqual(result);
    expect(JSON.parse(readFileSync(join(dir, 'gpu-autotune.json'), 'utf8'))[key]).toEqual(result);
    expect(await nodeTuneCache(dir).get('other')).toBeUndefined();
  });

  it("browser: IndexedDB database 'sprintnet-gpu'", async () => {
    const key = tuneCacheKey(adapter, CONFIGS.tiny);
    await browserTuneCache().set(key, result);
    expect(await browserTuneCache().get(key)).toEqual(result);
    const names = (await indexedDB.databases()).map((d) => d.name);
    expect(names).toContain('sprintnet-gpu');
  });
});
