/**
 * Two tabs of the Sprint view in one process: each is its own copy of the store modules (as a
 * tab would be), sharing IndexedDB (fake-indexeddb), a BroadcastChannel and navigator.locks.
 * The engine Worker is replaced by a fake that "finds" every nonce divisible by 97, so the test
 * can check that the saved finds cover every appropriate nonce below the saved resume point.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openDB } from 'idb';
import { DB_VERSION } from '../../wallet/index.ts';
import type { PracticeSprint } from './practice.ts';

const engines = { created: 0 };
const APPROPRIATE = 97;
const PASS = 64;

vi.mock('../../gpu/engine-client.ts', () => ({
  EngineClient: class {
    private aborted = false;
    async create(options: { config: string }) {
      engines.created++;
      return { config: options.config, batch: PASS, adapter: 'fake', isFallbackAdapter: false, weightBytes: 1, variant: 'fake' };
    }
    runSprint(options: { startNonce?: number }, onProgress: (p: unknown) => void) {
      this.aborted = false;
      const start = options.startNonce ?? 0;
      let next = start;
      const found: { nonce: number; distance: number }[] = [];
      return new Promise((resolve) => {
        const pass = () => {
          if (this.aborted) {
            resolve({ found, noncesTried: next - start, nextNonce: next, elapsedMs: 1, noncesPerSecond: 1, stoppedBy: 'abort' });
            return;
          }
          const newlyFound = [];
          for (let n = next; n < next + PASS; n++) if (n % APPROPRIATE === 0) newlyFound.push({ nonce: n, distance: n / 1e6 });
          found.push(...newlyFound);
          next += PASS;
          onProgress({ noncesTried: next - start, noncesPerSecond: 1000, elapsedMs: 1, nextNonce: next, newlyFound });
          setTimeout(pass, 2);
        };
        setTimeout(pass, 2);
      });
    }
    async abort() {
      this.aborted = true;
    }
    async terminate() {}
    async loseDeviceForTesting() {}
  },
}));

/** navigator.locks for one lock, as Chromium behaves: ifAvailable gets null, steal aborts the holder. */
class FakeLockManager {
  private holder: { name: string; abort(e: unknown): void } | null = null;
  request(name: string, options: { ifAvailable?: boolean; steal?: boolean }, callback: (lock: { name: string } | null) => unknown): Promise<unknown> {
    if (this.holder && !options.steal) {
      if (!options.ifAvailable) throw new Error('this fake only supports ifAvailable and steal');
      return Promise.resolve(callback(null));
    }
    this.holder?.abort(new DOMException('the lock was stolen', 'AbortError'));
    return new Promise((resolve, reject) => {
      const me = { name, abort: reject };
      this.holder = me;
      void Promise.resolve(callback({ name })).then((v) => {
        if (this.holder === me) this.holder = null;
        resolve(v);
      });
    });
  }
  async query() {
    return { held: this.holder ? [{ name: this.holder.name, mode: 'exclusive' }] : [], pending: [] };
  }
}

vi.stubGlobal('navigator', { locks: new FakeLockManager() });
afterAll(() => void vi.unstubAllGlobals());

/** A fresh copy of the page's modules: one browser tab. */
async function openTab() {
  vi.resetModules();
  const { useSprintStore } = await import('./store.ts');
  const { useStorageStore } = await import('../storage/store.ts');
  await useSprintStore.getState().init();
  return { s: () => useSprintStore.getState(), storage: () => useStorageStore.getState() };
}

/** Every appropriate nonce below the resume point must be among the finds. */
function expectComplete(sprint: PracticeSprint) {
  const want = [];
  for (let n = 0; n < sprint.nextNonce; n++) if (n % APPROPRIATE === 0) want.push(n);
  expect(sprint.found.map((f) => f.nonce)).toEqual(want);
}

describe('two tabs on one GPU and one Sprint (issue 9)', () => {
  it('one tab runs the GPU; the other takes over; a newer tab upgrading the database gets the last finds saved', async () => {
    const a = await openTab();
    expect(a.s()).toMatchObject({ status: 'idle', gpuElsewhere: false });
    const runA = a.s().start();
    await vi.waitFor(() => expect(a.s().sprint?.found.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    expect(a.s().status).toBe('running');

    // Tab B sees that A holds the GPU, and Start does not start a second engine.
    const b = await openTab();
    expect(b.s().gpuElsewhere).toBe(true);
    const created = engines.created;
    await b.s().start();
    expect(b.s()).toMatchObject({ status: 'idle', gpuElsewhere: true });
    expect(engines.created).toBe(created);

    // B takes over: A stops and saves, B continues the same Sprint from the saved point.
    const runB = b.s().takeOver();
    await runA;
    expect(a.s()).toMatchObject({ status: 'idle', takenOver: true, gpuElsewhere: true });
    await vi.waitFor(() => expect(b.s().status).toBe('running'), { timeout: 10_000 });
    expect(b.s().sprint?.sprintId).toBe(a.s().sprint?.sprintId);
    const aFound = a.s().sprint!.found.length;
    await vi.waitFor(() => expect(b.s().sprint!.found.length).toBeGreaterThan(aFound + 2), { timeout: 10_000 });

    // A newer build opens the database: B stops, saves its last finds, closes and says so.
    const newer = await openDB('sprintnet', DB_VERSION + 1);
    await runB;
    expect(b.s().status).toBe('idle');
    expect(b.storage().closed).toBe('versionchange');
    expect(a.storage().closed).toBe('versionchange');
    const stored = (await newer.get('sprintState', b.s().sprint!.sprintId))!.state as PracticeSprint;
    expect(stored.nextNonce).toBe(b.s().sprint!.nextNonce);
    expectComplete(stored); // nothing lost in the hand-over or at the upgrade
    expect(stored.found.length).toBe(b.s().sprint!.found.length);
    for (const f of a.s().sprint!.found) expect(stored.found).toContainEqual(f);

    // After the upgrade the old tab refuses to start rather than search without saving.
    await b.s().start();
    expect(b.s()).toMatchObject({ status: 'error', error: { code: 'UPGRADED_ELSEWHERE' } });
    expect(engines.created).toBe(created + 1);
    newer.close();
  });
});
