/**
 * The browser's model cache, in two stores: the Origin Private File System (OPFS, preferred: files
 * written as they stream, read back as File streams, no Response wrapping) and the Cache API (where
 * OPFS is missing). A model is one folder / key prefix per id holding its files, and counts as
 * cached only once its `.complete.json` entry is written. A quota error becomes CACHE_QUOTA with a
 * message that says what to do; partial files are removed. Never imports Node modules.
 */
import { LlmError } from './errors.ts';
import { streamChunks, type ModelSource, type OpenedFile } from './source.ts';

export type StoreKind = 'opfs' | 'cache-api';

export interface CachedModel {
  readonly id: string;
  readonly files: readonly string[];
  readonly bytes: number;
  readonly savedAt: string;
  readonly isTestModel: boolean;
  readonly label: string;
  /** Which store holds it (entries written before OPFS support have none: the Cache API). */
  readonly store?: StoreKind;
}

export interface ModelStore {
  readonly kind: StoreKind;
  /** Saves `body` as file `name` of model `id`; resolves with the bytes written. */
  write(id: string, name: string, body: ReadableStream<Uint8Array>): Promise<number>;
  /** Writes the entry that makes the model count as cached. */
  markComplete(entry: CachedModel): Promise<void>;
  source(id: string): ModelSource;
  list(): Promise<CachedModel[]>;
  /** Removes every file of the model (complete or not); returns how many. */
  delete(id: string): Promise<number>;
}

const COMPLETE = '.complete.json';
const STORE_NAME = 'sprintnet-models';

export function cacheError(e: unknown, what: string): LlmError {
  if (e instanceof LlmError) return e;
  const name = (e as Error)?.name;
  if (name === 'QuotaExceededError' || /quota/i.test(String(e))) {
    return new LlmError(
      'CACHE_QUOTA',
      `the browser's storage quota is full: ${what} was not cached. Delete cached models below or free space, then load again (the model still runs from its source).`,
      { cause: e },
    );
  }
  return new LlmError('CACHE_FAILED', `${what} could not be cached: ${String(e)}`, { cause: e });
}

const textStream = (text: string): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });

// ---------------------------------------------------------------- Cache API

const PREFIX = '/__sprintnet_models__/';
const keyOf = (id: string, name: string): string => `${PREFIX}${encodeURIComponent(id)}/${name}`;

async function openCache(): Promise<Cache> {
  if (typeof caches === 'undefined') throw new LlmError('CACHE_FAILED', 'the Cache API is not available here (needs a secure context)');
  return caches.open(STORE_NAME);
}

export class CacheApiStore implements ModelStore {
  readonly kind = 'cache-api' as const;

  async write(id: string, name: string, body: ReadableStream<Uint8Array>): Promise<number> {
    let bytes = 0;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({ transform: (chunk, c) => void ((bytes += chunk.byteLength), c.enqueue(chunk)) }),
    );
    await (await openCache()).put(keyOf(id, name), new Response(counted, { headers: { 'content-type': 'application/octet-stream' } }));
    return bytes;
  }

  async markComplete(entry: CachedModel): Promise<void> {
    await (await openCache()).put(keyOf(entry.id, COMPLETE), new Response(JSON.stringify(entry), { headers: { 'content-type': 'application/json' } }));
  }

  source(id: string): ModelSource {
    return new CacheSource(id);
  }

  async list(): Promise<CachedModel[]> {
    const cache = await openCache();
    const out: CachedModel[] = [];
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (!path.startsWith(PREFIX) || !path.endsWith(`/${COMPLETE}`)) continue;
      const r = await cache.match(request);
      if (r) out.push({ ...((await r.json()) as CachedModel), store: 'cache-api' });
    }
    return out;
  }

  async delete(id: string): Promise<number> {
    const cache = await openCache();
    const prefix = keyOf(id, '');
    let n = 0;
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname.startsWith(prefix) && (await cache.delete(request))) n++;
    }
    return n;
  }
}

/** A model saved in the Cache API. */
export class CacheSource implements ModelSource {
  readonly label: string;
  constructor(readonly id: string) {
    this.label = `cache: ${id}`;
  }
  private async match(name: string): Promise<Response | null> {
    return (await (await openCache()).match(keyOf(this.id, name))) ?? null;
  }
  async text(name: string): Promise<string | null> {
    return (await this.match(name))?.text() ?? null;
  }
  async size(name: string): Promise<number | null> {
    const r = await this.match(name);
    const length = r?.headers.get('content-length');
    return length ? Number(length) : null;
  }
  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const r = await this.match(name);
    if (!r?.body) throw new LlmError('MISSING_FILE', `${this.label}: no ${name} (delete and re-download this model)`);
    const length = r.headers.get('content-length');
    return { size: length ? Number(length) : null, chunks: streamChunks(r.body, signal) };
  }
}

// ---------------------------------------------------------------- OPFS

/** The parts of the File System API the store uses (OPFS in Chromium, Firefox and Safari). */
export interface DirectoryHandle {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, DirectoryHandle | FileHandle]>;
}
export interface FileHandle {
  readonly kind: 'file';
  getFile(): Promise<File>;
  createWritable?(): Promise<{ write(data: Uint8Array): Promise<void>; close(): Promise<void>; abort(reason?: unknown): Promise<void> }>;
  /** Workers only; Safari has this where it lacks createWritable. */
  createSyncAccessHandle?(): Promise<{ write(data: Uint8Array, options: { at: number }): number; truncate(size: number): void; flush(): void; close(): void }>;
}

const isMissing = (e: unknown): boolean => (e as Error)?.name === 'NotFoundError';

/** True where this context can use OPFS (`navigator.storage.getDirectory`). */
export const hasOpfs = (): boolean => typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';

export class OpfsStore implements ModelStore {
  readonly kind = 'opfs' as const;
  /** `root`: the OPFS root (tests pass an in-memory one). */
  constructor(private readonly root: () => Promise<DirectoryHandle> = () => navigator.storage.getDirectory() as unknown as Promise<DirectoryHandle>) {}

  private async models(create: boolean): Promise<DirectoryHandle | null> {
    try {
      return await (await this.root()).getDirectoryHandle(STORE_NAME, { create });
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  /** The folder of model `id`, or null when it does not exist (and `create` is false). */
  async folder(id: string, create = false): Promise<DirectoryHandle | null> {
    const models = await this.models(create);
    if (!models) return null;
    try {
      return await models.getDirectoryHandle(encodeURIComponent(id), { create });
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async write(id: string, name: string, body: ReadableStream<Uint8Array>): Promise<number> {
    const handle = await (await this.folder(id, true))!.getFileHandle(name, { create: true });
    const reader = body.getReader();
    let bytes = 0;
    if (handle.createWritable) {
      const writable = await handle.createWritable();
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
          await writable.write(r.value);
          bytes += r.value.byteLength;
        }
        await writable.close();
      } catch (e) {
        await writable.abort(e).catch(() => undefined);
        await reader.cancel(e).catch(() => undefined);
        throw e;
      }
      return bytes;
    }
    if (!handle.createSyncAccessHandle) throw new LlmError('CACHE_FAILED', 'this browser cannot write files in its private file system');
    const sync = await handle.createSyncAccessHandle();
    try {
      sync.truncate(0);
      for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += sync.write(r.value, { at: bytes });
      sync.flush();
    } catch (e) {
      await reader.cancel(e).catch(() => undefined);
      throw e;
    } finally {
      sync.close();
    }
    return bytes;
  }

  async markComplete(entry: CachedModel): Promise<void> {
    await this.write(entry.id, COMPLETE, textStream(JSON.stringify(entry)));
  }

  source(id: string): ModelSource {
    return new OpfsSource(this, id);
  }

  async list(): Promise<CachedModel[]> {
    const models = await this.models(false);
    if (!models) return [];
    const out: CachedModel[] = [];
    for await (const [, dir] of models.entries()) {
      if ((dir as FileHandle).kind === 'file') continue;
      try {
        const file = await (await (dir as DirectoryHandle).getFileHandle(COMPLETE)).getFile();
        out.push({ ...(JSON.parse(await file.text()) as CachedModel), store: 'opfs' });
      } catch (e) {
        if (!isMissing(e)) throw e; // an incomplete model: listed nowhere, removed by delete()
      }
    }
    return out;
  }

  async delete(id: string): Promise<number> {
    const dir = await this.folder(id);
    if (!dir) return 0;
    let n = 0;
    for await (const _ of dir.entries()) n++;
    await (await this.models(false))!.removeEntry(encodeURIComponent(id), { recursive: true });
    return n;
  }
}

/** A model saved in OPFS. */
export class OpfsSource implements ModelSource {
  readonly label: string;
  constructor(
    private readonly store: OpfsStore,
    readonly id: string,
  ) {
    this.label = `cache: ${id}`;
  }
  private async file(name: string): Promise<File | null> {
    const dir = await this.store.folder(this.id);
    if (!dir) return null;
    try {
      return await (await dir.getFileHandle(name)).getFile();
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }
  async text(name: string): Promise<string | null> {
    return (await this.file(name))?.text() ?? null;
  }
  async size(name: string): Promise<number | null> {
    return (await this.file(name))?.size ?? null;
  }
  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const f = await this.file(name);
    if (!f) throw new LlmError('MISSING_FILE', `${this.label}: no ${name} (delete and re-download this model)`);
    return { size: f.size, chunks: streamChunks(f.stream() as ReadableStream<Uint8Array>, signal) };
  }
}

// ---------------------------------------------------------------- both

/** OPFS where the context has it, else the Cache API. */
export function defaultStore(): ModelStore {
  return hasOpfs() ? new OpfsStore() : new CacheApiStore();
}

export function storeOf(kind: StoreKind | undefined): ModelStore {
  return kind === 'opfs' ? new OpfsStore() : kind === 'cache-api' ? new CacheApiStore() : defaultStore();
}

/** Complete cached models in every store this context has, by id. */
export async function listCachedModels(): Promise<CachedModel[]> {
  const stores: ModelStore[] = [new CacheApiStore()];
  if (hasOpfs()) stores.unshift(new OpfsStore());
  const out: CachedModel[] = [];
  let failure: unknown = null;
  for (const s of stores) {
    try {
      out.push(...(await s.list()));
    } catch (e) {
      failure ??= e;
    }
  }
  if (out.length === 0 && failure) throw failure;
  return out.sort((a, b) => a.id.localeCompare(b.id) || (a.store ?? '').localeCompare(b.store ?? ''));
}

/** Deletes a model from one store, or from every store when none is named. */
export async function deleteCachedModel(id: string, kind?: StoreKind): Promise<number> {
  const stores = kind ? [storeOf(kind)] : hasOpfs() ? [new OpfsStore(), new CacheApiStore()] : [new CacheApiStore()];
  let n = 0;
  for (const s of stores) n += await s.delete(id);
  return n;
}

/** The source of a cached model in `kind` (default: OPFS where the model is there, else the Cache API). */
export function cachedSource(id: string, kind?: StoreKind): ModelSource {
  return storeOf(kind ?? (hasOpfs() ? 'opfs' : 'cache-api')).source(id);
}

/**
 * Wraps a source and saves every file it hands out into `store` under `id`, as it streams (no
 * second read). `complete()` marks the model usable from the cache once the load succeeded.
 * A cache failure (quota) never fails the load: it is kept in `error` and the model runs anyway.
 */
export class CachingSource implements ModelSource {
  error: LlmError | null = null;
  private readonly saved = new Map<string, number>();
  private readonly writes: Promise<void>[] = [];
  constructor(
    private readonly inner: ModelSource,
    readonly id: string,
    readonly store: ModelStore = defaultStore(),
  ) {}
  get label(): string {
    return this.inner.label;
  }

  private put(name: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const write = (async () => {
      if (this.error) {
        await body.cancel().catch(() => undefined);
        return;
      }
      try {
        this.saved.set(name, await this.store.write(this.id, name, body));
      } catch (e) {
        this.error ??= cacheError(e, `model ${this.id}`);
      }
    })();
    this.writes.push(write);
    return write;
  }

  async text(name: string): Promise<string | null> {
    const text = await this.inner.text(name);
    if (text !== null) void this.put(name, textStream(text));
    return text;
  }
  size(name: string): Promise<number | null> {
    return this.inner.size(name);
  }
  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const opened = await this.inner.open(name, signal);
    if (this.error) return opened;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c), cancel: () => void (cancelled = true) });
    const write = this.put(name, body);
    const self = this;
    return {
      size: opened.size,
      chunks: (async function* () {
        try {
          for await (const chunk of opened.chunks) {
            if (!self.error && !cancelled) controller.enqueue(chunk.slice());
            yield chunk;
          }
          if (!cancelled) controller.close();
        } catch (e) {
          if (!cancelled) controller.error(e);
          throw e;
        }
        await write;
      })(),
    };
  }

  /** Waits for the writes and records the model as complete (returns null when caching failed). */
  async complete(files: readonly string[], isTestModel: boolean): Promise<CachedModel | null> {
    await Promise.all(this.writes);
    if (!this.error) {
      const missing = files.filter((f) => !this.saved.has(f));
      if (missing.length > 0) this.error = new LlmError('CACHE_FAILED', `model ${this.id}: ${missing.join(', ')} were not saved`);
    }
    if (!this.error) {
      const entry: CachedModel = {
        id: this.id,
        files: [...files],
        bytes: files.reduce((a, f) => a + (this.saved.get(f) ?? 0), 0),
        savedAt: new Date().toISOString(),
        isTestModel,
        label: this.inner.label,
        store: this.store.kind,
      };
      try {
        await this.store.markComplete(entry);
        return entry;
      } catch (e) {
        this.error = cacheError(e, `model ${this.id}`);
      }
    }
    // Partial files only take quota: remove them.
    await this.store.delete(this.id).catch(() => undefined);
    return null;
  }
}
