/**
 * Model sources for the browser (page or Worker): a URL prefix (a model folder served over HTTP),
 * files the user picked (a folder through <input webkitdirectory>, or single files), and the
 * model cache in the Cache API, which a load can fill as it streams (`CachingSource`).
 * Never imports Node modules.
 */
import { LlmError } from './errors.ts';
import { streamChunks, type ModelSource, type OpenedFile } from './source.ts';

const CACHE_NAME = 'sprintnet-models';
const PREFIX = '/__sprintnet_models__/';
const COMPLETE = '.complete.json';

/** A folder served over HTTP: `${base}config.json`, … */
export class UrlSource implements ModelSource {
  readonly base: string;
  constructor(base: string) {
    this.base = base.endsWith('/') ? base : `${base}/`;
  }
  get label(): string {
    return this.base;
  }

  private async get(name: string, init?: RequestInit): Promise<Response | null> {
    let response: Response;
    try {
      response = await fetch(this.base + name, init);
    } catch (cause) {
      if ((cause as Error).name === 'AbortError') throw new LlmError('ABORTED', 'cancelled');
      throw new LlmError('FETCH_FAILED', `${this.base}${name}: ${String(cause)}`, { cause });
    }
    if (response.status === 404) return null;
    if (!response.ok) throw new LlmError('FETCH_FAILED', `${this.base}${name}: HTTP ${response.status}`);
    return response;
  }

  async text(name: string): Promise<string | null> {
    return (await this.get(name))?.text() ?? null;
  }

  async size(name: string): Promise<number | null> {
    const r = await this.get(name, { method: 'HEAD' });
    const length = r?.headers.get('content-length');
    return length ? Number(length) : null;
  }

  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const r = await this.get(name, { signal });
    if (!r || !r.body) throw new LlmError('MISSING_FILE', `${this.base}${name}: not found`);
    const length = r.headers.get('content-length');
    // A compressed transfer reports the compressed length: only trust it for identity encoding.
    const size = length && !r.headers.get('content-encoding') ? Number(length) : null;
    return { size, chunks: streamChunks(r.body, signal) };
  }
}

/** Files the user picked; names match by their last path component (a picked folder gives "folder/config.json"). */
export class FileListSource implements ModelSource {
  private readonly byName = new Map<string, File>();
  readonly label: string;
  constructor(files: Iterable<File>) {
    let folder = '';
    for (const f of files) {
      const path = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
      const parts = path.split('/');
      // Only top-level files of the picked folder (a model folder is flat).
      if (parts.length > 2) continue;
      folder ||= parts.length === 2 ? parts[0] : '';
      this.byName.set(parts[parts.length - 1], f);
    }
    this.label = folder ? `folder ${folder}` : 'picked files';
  }
  get names(): string[] {
    return [...this.byName.keys()];
  }
  async text(name: string): Promise<string | null> {
    return (await this.byName.get(name)?.text()) ?? null;
  }
  async size(name: string): Promise<number | null> {
    return this.byName.get(name)?.size ?? null;
  }
  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const f = this.byName.get(name);
    if (!f) throw new LlmError('MISSING_FILE', `${this.label}: no ${name} among the picked files`);
    return { size: f.size, chunks: streamChunks(f.stream() as ReadableStream<Uint8Array>, signal) };
  }
}

export interface CachedModel {
  readonly id: string;
  readonly files: readonly string[];
  readonly bytes: number;
  readonly savedAt: string;
  readonly isTestModel: boolean;
  readonly label: string;
}

const keyOf = (id: string, name: string): string => `${PREFIX}${encodeURIComponent(id)}/${name}`;

function cacheError(e: unknown, what: string): LlmError {
  const name = (e as Error)?.name;
  if (name === 'QuotaExceededError' || /quota/i.test(String(e))) {
    return new LlmError('CACHE_QUOTA', `the browser's storage quota is full: ${what} was not cached. Delete cached models below or free space, then load again (the model still runs from its source).`, { cause: e });
  }
  return new LlmError('CACHE_FAILED', `${what} could not be cached: ${String(e)}`, { cause: e });
}

async function openCache(): Promise<Cache> {
  if (typeof caches === 'undefined') throw new LlmError('CACHE_FAILED', 'the Cache API is not available here (needs a secure context)');
  return caches.open(CACHE_NAME);
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

/** Lists complete cached models. */
export async function listCachedModels(): Promise<CachedModel[]> {
  const cache = await openCache();
  const out: CachedModel[] = [];
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(PREFIX) || !path.endsWith(`/${COMPLETE}`)) continue;
    const r = await cache.match(request);
    if (r) out.push((await r.json()) as CachedModel);
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Deletes every file of a cached model (complete or not). */
export async function deleteCachedModel(id: string): Promise<number> {
  const cache = await openCache();
  const prefix = keyOf(id, '');
  let n = 0;
  for (const request of await cache.keys()) {
    if (new URL(request.url).pathname.startsWith(prefix) && (await cache.delete(request))) n++;
  }
  return n;
}

/**
 * Wraps a source and saves every file it hands out into the cache under `id`, as it streams (no
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
  ) {}
  get label(): string {
    return this.inner.label;
  }

  private put(name: string, body: BodyInit, size: number | null): Promise<void> {
    const write = (async () => {
      if (this.error) return;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
        if (size !== null) headers['content-length'] = String(size);
        await (await openCache()).put(keyOf(this.id, name), new Response(body, { headers }));
        if (size !== null) this.saved.set(name, size);
      } catch (e) {
        this.error ??= cacheError(e, `model ${this.id}`);
      }
    })();
    this.writes.push(write);
    return write;
  }

  async text(name: string): Promise<string | null> {
    const text = await this.inner.text(name);
    if (text !== null) void this.put(name, text, new TextEncoder().encode(text).byteLength);
    return text;
  }
  size(name: string): Promise<number | null> {
    return this.inner.size(name);
  }
  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const opened = await this.inner.open(name, signal);
    if (this.error) return opened;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    let total = 0;
    const write = this.put(name, body, null).then(() => {
      if (!this.error) this.saved.set(name, total);
    });
    const self = this;
    return {
      size: opened.size,
      chunks: (async function* () {
        try {
          for await (const chunk of opened.chunks) {
            total += chunk.byteLength;
            if (!self.error) controller.enqueue(chunk.slice());
            yield chunk;
          }
          controller.close();
        } catch (e) {
          controller.error(e);
          throw e;
        }
        await write;
      })(),
    };
  }

  /** Waits for the writes and records the model as complete (returns null when caching failed). */
  async complete(files: readonly string[], isTestModel: boolean): Promise<CachedModel | null> {
    await Promise.all(this.writes);
    if (this.error) {
      await deleteCachedModel(this.id).catch(() => undefined);
      return null;
    }
    const missing = files.filter((f) => !this.saved.has(f));
    if (missing.length > 0) {
      this.error = new LlmError('CACHE_FAILED', `model ${this.id}: ${missing.join(', ')} were not saved`);
      return null;
    }
    const entry: CachedModel = {
      id: this.id,
      files: [...files],
      bytes: files.reduce((a, f) => a + (this.saved.get(f) ?? 0), 0),
      savedAt: new Date().toISOString(),
      isTestModel,
      label: this.inner.label,
    };
    try {
      await (await openCache()).put(keyOf(this.id, COMPLETE), new Response(JSON.stringify(entry), { headers: { 'content-type': 'application/json' } }));
    } catch (e) {
      this.error = cacheError(e, `model ${this.id}`);
      return null;
    }
    return entry;
  }
}
