import { describe, expect, it } from 'vitest';
import { gpuLock, memoryGpuLock } from './gpu-lock.ts';

describe('GPU lock fallback without navigator.locks', () => {
  it('one holder; a second is refused; steal hands over and tells the old holder; a stale release frees nothing', async () => {
    expect(globalThis.navigator?.locks).toBeUndefined(); // Node: the page falls back to this lock
    expect(await gpuLock().isHeld()).toBe(false);
    const lock = memoryGpuLock();
    const first = await lock.acquire();
    expect(first).not.toBeNull();
    expect(await lock.isHeld()).toBe(true);
    expect(await lock.acquire()).toBeNull();

    let lost = false;
    void first!.lost.then(() => (lost = true));
    const second = await lock.acquire({ steal: true });
    expect(second).not.toBeNull();
    await Promise.resolve();
    expect(lost).toBe(true);
    first!.release(); // the old holder finishing late must not free the new holder's lock
    expect(await lock.isHeld()).toBe(true);
    expect(await lock.acquire()).toBeNull();
    second!.release();
    expect(await lock.isHeld()).toBe(false);
    expect(await lock.acquire()).not.toBeNull();
  });
});
