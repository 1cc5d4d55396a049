import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { deleteSiteData, RESET_PENDING_KEY } from './reset.ts';

class MemoryStorage {
  readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

const names = async () => (await indexedDB.databases()).map((d) => d.name).sort();

describe('data reset', () => {
  it('deletes every sprintnet database, cache and setting, and nothing else', async () => {
    for (const name of ['sprintnet', 'sprintnet-protocol', 'sprintnet-gpu', 'sprintnet-extra', 'other-site-db']) {
      (await openDB(name, 1, { upgrade: (d) => void d.createObjectStore('kv') })).close();
    }
    const cacheNames = new Set(['sprintnet-models', 'workbox-precache-v2-http://x/']);
    const caches = { keys: async () => [...cacheNames], delete: async (n: string) => cacheNames.delete(n) };
    const storage = new MemoryStorage();
    for (const k of ['sprintnet.consent', 'sprintnet-backend', 'sprintnet.settings', RESET_PENDING_KEY, 'unrelated']) storage.map.set(k, '1');

    const result = await deleteSiteData({ indexedDB, caches, storage });

    expect(result.databases.sort()).toEqual(['sprintnet', 'sprintnet-extra', 'sprintnet-gpu', 'sprintnet-protocol']);
    expect(result.blocked).toEqual([]);
    expect(await names()).toEqual(['other-site-db']);
    expect(result.caches).toEqual(['sprintnet-models']);
    expect([...cacheNames]).toEqual(['workbox-precache-v2-http://x/']);
    expect(result.settings.sort()).toEqual(['sprintnet-backend', 'sprintnet.consent', 'sprintnet.settings']);
    // The pending flag is cleared by runPendingReset only when nothing was blocked.
    expect([...storage.map.keys()].sort()).toEqual([RESET_PENDING_KEY, 'unrelated']);
  });

  it('a database held open by another page is reported as blocked, not as deleted', async () => {
    const held = await openDB('sprintnet', 1, { upgrade: (d) => void d.createObjectStore('kv') });
    // Like a tab that ignores the version change: the connection stays open.
    const result = await deleteSiteData({ indexedDB });
    expect(result.blocked).toEqual(['sprintnet']);
    expect(result.databases).not.toContain('sprintnet');
    held.close();
  }, 15_000);
});
