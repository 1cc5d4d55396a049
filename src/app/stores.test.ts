import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPRINT_TOPICS } from '../node/topics/index.ts';
import { MAX_MESSAGE_BYTES, type KindName } from '../protocol/messages.ts';
import { MemoryStore } from '../protocol/store.ts';
import type { ProtocolStore } from '../protocol/interfaces.ts';
import { fileStore } from './file-store.ts';
import { idbStore } from './idb-store.ts';

async function exercise(store: ProtocolStore): Promise<void> {
  expect(await store.get('state/000000000001')).toBeUndefined();
  await store.put('state/000000000001', Uint8Array.of(1, 2, 3));
  await store.put('state/000000000000', Uint8Array.of(9));
  await store.put('msg/000000000001/ab', Uint8Array.of(4));
  await store.put('state/000000000001', Uint8Array.of(5, 6)); // overwrite
  expect(await store.get('state/000000000001')).toEqual(Uint8Array.of(5, 6));
  expect(await store.keys('state/')).toEqual(['state/000000000000', 'state/000000000001']);
  expect(await store.keys('msg/')).toEqual(['msg/000000000001/ab']);
  await store.delete('state/000000000000');
  await store.delete('state/000000000000'); // absent: no error
  expect(await store.keys('state/')).toEqual(['state/000000000001']);
  // A returned value is a copy: writing into it does not change the store.
  const v = (await store.get('state/000000000001'))!;
  v[0] = 99;
  expect(await store.get('state/000000000001')).toEqual(Uint8Array.of(5, 6));
}

describe('protocol stores', () => {
  it('memory store', () => exercise(new MemoryStore()));

  it('file store: same behaviour, atomic writes, refuses unsafe keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sprintnet-store-'));
    try {
      const store = await fileStore(dir);
      await exercise(store);
      expect((await readdir(dir)).some((n) => n.includes('.tmp-'))).toBe(false);
      await expect(store.put('../escape', Uint8Array.of(1))).rejects.toThrow(/not \[a-z0-9/);
      // A second store over the same directory sees the same data (a restart).
      expect(await (await fileStore(dir)).get('msg/000000000001/ab')).toEqual(Uint8Array.of(4));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('IndexedDB store, in its own database', async () => {
    const store = await idbStore('sprintnet-protocol-test');
    await exercise(store);
    store.close();
    const again = await idbStore('sprintnet-protocol-test');
    expect(await again.get('msg/000000000001/ab')).toEqual(Uint8Array.of(4));
    again.close();
  });
});

describe('node topics', () => {
  it('carry every protocol message of their kinds', () => {
    const kinds: Record<string, KindName[]> = {
      'sprint-seed': ['commit', 'reveal'],
      'sprint-proof': ['proof'],
      'sprint-validation': ['validation', 'inferenceVerdict'],
      'sprint-vote': ['vote'],
      'inference-proof': ['inference'],
    };
    for (const t of SPRINT_TOPICS) {
      expect(t.maxPayloadBytes).toBe(Math.max(...kinds[t.name]!.map((k) => MAX_MESSAGE_BYTES[k])));
    }
  });
});
