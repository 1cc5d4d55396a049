import { describe, expect, it } from 'vitest';
import type { NonceClaim } from '../sprint/claims.ts';
import { encodeNonceList } from './claims.ts';
import { PROGRESS_CHUNK, ProgressWriter, readProgress, type Progress } from './progress.ts';
import { epochKey, MemoryStore } from './store.ts';

const seedA = new Uint8Array(32).fill(0xa1);
const seedB = new Uint8Array(32).fill(0xb2);
const claim = (i: number): NonceClaim => ({ nonce: 3 * i + 1, distance: 0.25 + i / 1e6 });
const header = `progress/${epochKey(4)}`;

/** A store that counts the bytes of each save's puts. */
class MeteredStore extends MemoryStore {
  puts: { key: string; bytes: number }[] = [];
  override async put(key: string, value: Uint8Array): Promise<void> {
    this.puts.push({ key, bytes: value.length });
    await super.put(key, value);
  }
}

describe('search progress in the store', () => {
  it('reads back every find in order, and each report writes one or two chunks, however long the list', async () => {
    const store = new MeteredStore();
    const w = new ProgressWriter(store, 4, seedA, 0);
    const found: NonceClaim[] = [];
    let maxSave = 0;
    for (let report = 1; report <= 700; report++) {
      for (let i = 0; i < 7; i++) found.push(claim(found.length));
      const before = store.puts.length;
      await w.save({ nextNonce: 1000 * report, tried: 990 * report, found });
      maxSave = Math.max(
        maxSave,
        store.puts.slice(before).reduce((s, p) => s + p.bytes, 0),
      );
    }
    expect(await readProgress(store, 4, seedA)).toEqual({ nextNonce: 700_000, tried: 693_000, found });
    // Bounded by two chunks and a header; re-encoding the whole list, as before, wrote 78 404 bytes in the last report alone.
    expect(maxSave).toBeLessThanOrEqual(2 * 16 * PROGRESS_CHUNK + 52);
    expect(encodeNonceList(found).length).toBeGreaterThan(10 * maxSave);
  });

  it("a crash between a report's chunk and its header leaves the previous report readable, exactly", async () => {
    const store = new MemoryStore();
    const w = new ProgressWriter(store, 4, seedA, 0);
    const first = Array.from({ length: PROGRESS_CHUNK - 3 }, (_, i) => claim(i));
    await w.save({ nextNonce: 500, tried: 480, found: first });
    const oldHeader = (await store.get(header))!;
    const second = [...first, ...Array.from({ length: 10 }, (_, i) => claim(first.length + i))];
    await w.save({ nextNonce: 600, tried: 580, found: second });
    await store.put(header, oldHeader); // the second header never reached the disk
    expect(await readProgress(store, 4, seedA)).toEqual({ nextNonce: 500, tried: 480, found: first });
  });

  it("keeps each seed's finds apart, resumes appending to a loaded record, and refuses what it cannot read", async () => {
    const store = new MemoryStore();
    const a = Array.from({ length: 300 }, (_, i) => claim(i));
    await new ProgressWriter(store, 4, seedA, 0).save({ nextNonce: 900, tried: 900, found: a });
    const b = [{ nonce: 7, distance: 0.5 }];
    await new ProgressWriter(store, 4, seedB, 0).save({ nextNonce: 10, tried: 10, found: b });
    expect(await readProgress(store, 4, seedA)).toBeNull(); // the header is seed B's now: A's search starts over
    expect(await readProgress(store, 4, seedB)).toEqual({ nextNonce: 10, tried: 10, found: b });
    expect(await readProgress(store, 5, seedB)).toBeNull();

    // A reloaded search on seed B appends to the finds it loaded.
    const loaded = await readProgress(store, 4, seedB);
    const more = [...(loaded as Progress).found, { nonce: 11, distance: 0.125 }];
    await new ProgressWriter(store, 4, seedB, 1).save({ nextNonce: 20, tried: 20, found: more });
    expect(await readProgress(store, 4, seedB)).toEqual({ nextNonce: 20, tried: 20, found: more });

    const chunk0 = `${header}/${'b2'.repeat(8)}/000000`;
    const good = (await store.get(chunk0))!;
    await store.put(chunk0, good.slice(0, 16));
    expect(await readProgress(store, 4, seedB)).toBe('unreadable'); // short chunk
    await store.put(chunk0, new Uint8Array([...good.slice(0, 16), ...good.slice(0, 16)]));
    expect(await readProgress(store, 4, seedB)).toBe('unreadable'); // a nonce twice
    await store.delete(chunk0);
    expect(await readProgress(store, 4, seedB)).toBe('unreadable'); // missing chunk
    await store.put(header, new Uint8Array([...seedB, ...new Uint8Array(8), ...new Uint8Array(8), ...encodeNonceList(b)]));
    expect(await readProgress(store, 4, seedB)).toBe('unreadable'); // the record of the version before
  });

  it('runs saves one at a time and folds the ones asked meanwhile into the last', async () => {
    let release: () => void = () => {};
    class SlowStore extends MeteredStore {
      override async put(key: string, value: Uint8Array): Promise<void> {
        await new Promise<void>((r) => (release = r));
        await super.put(key, value);
      }
    }
    const store = new SlowStore();
    const w = new ProgressWriter(store, 4, seedA, 0);
    const found: NonceClaim[] = [];
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      found.push(claim(i));
      saves.push(w.save({ nextNonce: i + 1, tried: i + 1, found })); // the live list, as the host passes it
    }
    found.push(claim(50)); // found after the last report asked: not part of it
    const all = Promise.all(saves);
    for (let i = 0; i < 10; i++) {
      release();
      await new Promise((r) => setTimeout(r, 0));
    }
    await all;
    // The first save (chunk, header) and one more with everything asked since: not 50.
    expect(store.puts.filter((p) => p.key === header)).toHaveLength(2);
    expect(await readProgress(store, 4, seedA)).toEqual({ nextNonce: 50, tried: 50, found: found.slice(0, 50) });
  });

  it("once stopped (its search aborted for a new seed), writes no header over the new search's", async () => {
    let release: () => void = () => {};
    class SlowStore extends MemoryStore {
      override async put(key: string, value: Uint8Array): Promise<void> {
        if (key.includes('/a1a1')) await new Promise<void>((r) => (release = r)); // the old search's chunk write hangs
        await super.put(key, value);
      }
    }
    const store = new SlowStore();
    const old = new ProgressWriter(store, 4, seedA, 0);
    const pending = old.save({ nextNonce: 5, tried: 5, found: [claim(0)] });
    old.stop();
    await new ProgressWriter(store, 4, seedB, 0).save({ nextNonce: 9, tried: 9, found: [claim(1)] });
    release();
    await pending;
    expect(await readProgress(store, 4, seedB)).toEqual({ nextNonce: 9, tried: 9, found: [claim(1)] });
  });
});
