/**
 * Model sources for the browser (page or Worker): a URL prefix (a model folder served over HTTP),
 * files the user picked (a folder through <input webkitdirectory>, or single files); the model
 * cache (OPFS or the Cache API, which a load fills as it streams) is in ./model-store.ts.
 * Never imports Node modules.
 */
import { LlmError } from './errors.ts';
import { streamChunks, type ModelSource, type OpenedFile } from './source.ts';

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
      // Only top-level files of the picked folder (a model folder is flat).
      const [first, second, ...deeper] = path.split('/');
      if (first === undefined || deeper.length > 0) continue;
      if (second === undefined) this.byName.set(first, f);
      else {
        folder ||= first;
        this.byName.set(second, f);
      }
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

export { CacheSource, CachingSource, deleteCachedModel, listCachedModels, cachedSource, type CachedModel, type StoreKind } from './model-store.ts';
