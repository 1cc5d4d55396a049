import { describe, expect, it } from 'vitest';
import { loadReference } from './loader.ts';
import { CachingSource, OpfsStore, type DirectoryHandle, type FileHandle } from './model-store.ts';
import { MemorySource } from './source.ts';
import { makeTestModel } from './test-model.ts';

/** An in-memory OPFS (the File System API subset the store uses) with a byte quota. */
class Quota {
  used = 0;
  constructor(readonly limit = Infinity) {}
}
const notFound = (name: string) => new DOMException(`${name} not found`, 'NotFoundError');

class MemFile implements FileHandle {
  readonly kind = 'file';
  bytes = new Uint8Array(0);
  constructor(
    readonly name: string,
    private readonly quota: Quota,
  ) {}
  async getFile(): Promise<File> {
    return new File([this.bytes], this.name);
  }
  async createWritable() {
    const parts: Uint8Array[] = [];
    let size = 0;
    return {
      write: async (data: Uint8Array) => {
        if (this.quota.used + data.byteLength > this.quota.limit) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        this.quota.used += data.byteLength;
        parts.push(data.slice());
        size += data.byteLength;
      },
      close: async () => {
        this.quota.used -= this.bytes.byteLength;
        const all = new Uint8Array(size);
        let o = 0;
        for (const p of parts) (all.set(p, o), (o += p.byteLength));
        this.bytes = all;
      },
      abort: async () => void (this.quota.used -= size),
    };
  }
}

class MemDir implements DirectoryHandle {
  readonly kind = 'directory';
  readonly children = new Map<string, MemDir | MemFile>();
  constructor(private readonly quota: Quota) {}
  async getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<MemDir> {
    const c = this.children.get(name);
    if (c instanceof MemDir) return c;
    if (c || !options?.create) throw notFound(name);
    const d = new MemDir(this.quota);
    this.children.set(name, d);
    return d;
  }
  async getFileHandle(name: string, options?: { create?: boolean }): Promise<MemFile> {
    const c = this.children.get(name);
    if (c instanceof MemFile) return c;
    if (c || !options?.create) throw notFound(name);
    const f = new MemFile(name, this.quota);
    this.children.set(name, f);
    return f;
  }
  async removeEntry(name: string, options?: { recursive?: boolean }): Promise<void> {
    const c = this.children.get(name);
    if (!c) throw notFound(name);
    if (c instanceof MemDir && c.children.size > 0 && !options?.recursive) throw new DOMException('not empty', 'InvalidModificationError');
    const release = (e: MemDir | MemFile): void => (e instanceof MemFile ? void (this.quota.used -= e.bytes.byteLength) : e.children.forEach(release));
    release(c);
    this.children.delete(name);
  }
  async *entries(): AsyncIterable<[string, MemDir | MemFile]> {
    yield* this.children.entries();
  }
}

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('model cache in OPFS', () => {
  it('saves a model while it loads, lists it, serves the same bytes, and deletes it', async () => {
    const files = makeTestModel({ shards: 2 }).files;
    const root = new MemDir(new Quota());
    const store = new OpfsStore(async () => root);
    const caching = new CachingSource(new MemorySource(files, 'folder tiny'), 'tiny/model', store);
    const { model, manifest } = await loadReference(caching);
    const entry = await caching.complete(manifest.files, manifest.isTestModel);
    expect(caching.error).toBeNull();
    expect(entry?.store).toBe('opfs');
    const expectedBytes = manifest.files.reduce((a, f) => a + files.get(f)!.byteLength, 0);
    expect(entry?.bytes).toBe(expectedBytes);
    expect(manifest.files.some((f) => f.endsWith('.safetensors'))).toBe(true);

    const listed = await store.list();
    expect(listed.map((m) => [m.id, m.store, m.bytes, m.isTestModel])).toEqual([['tiny/model', 'opfs', expectedBytes, true]]);
    const cached = store.source('tiny/model');
    for (const name of manifest.files) {
      expect(await cached.size(name)).toBe(files.get(name)!.byteLength);
      expect(await readAll((await cached.open(name)).chunks)).toEqual(files.get(name));
    }
    // The cached copy runs: same logits as the model loaded from the original.
    const again = await loadReference(cached);
    const tokens = [5, 9, 2];
    const a = await model.forward({ tokens, kvCache: model.createKvCache() });
    const b = await again.model.forward({ tokens, kvCache: again.model.createKvCache() });
    expect(Array.from(b.logits!)).toEqual(Array.from(a.logits!));

    expect(await store.delete('tiny/model')).toBe(manifest.files.length + 1); // files + .complete.json
    expect(await store.list()).toEqual([]);
    expect((await root.getDirectoryHandle('sprintnet-models')).children.size).toBe(0);
    await expect(cached.open('config.json')).rejects.toMatchObject({ code: 'MISSING_FILE' });
    expect(await store.delete('tiny/model')).toBe(0);
  });

  it('a full quota gives CACHE_QUOTA with what to do, keeps the load working, and leaves no partial files', async () => {
    const files = makeTestModel({ layers: 3 }).files;
    const weights = files.get('model.safetensors')!.byteLength;
    const quota = new Quota(Math.floor(weights / 2));
    const root = new MemDir(quota);
    const store = new OpfsStore(async () => root);
    const caching = new CachingSource(new MemorySource(files, 'folder tiny'), 'big', store);
    const { model, manifest } = await loadReference(caching);
    const out = await model.forward({ tokens: [1, 2], kvCache: model.createKvCache() });
    expect(out.logits!.length).toBe(manifest.config.vocabSize);
    expect(await caching.complete(manifest.files, manifest.isTestModel)).toBeNull();
    expect(caching.error?.code).toBe('CACHE_QUOTA');
    expect(caching.error?.message).toMatch(/quota is full.*Delete cached models/);
    expect(await store.list()).toEqual([]);
    expect(quota.used).toBe(0);
    expect(await store.folder('big')).toBeNull();
  });
});
