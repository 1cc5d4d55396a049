/** A model folder on disk (Node only: browser code must not import this file). */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LlmError } from './errors.ts';
import type { ModelSource, OpenedFile } from './source.ts';

export class DirectorySource implements ModelSource {
  readonly label: string;
  constructor(readonly dir: string) {
    this.label = resolve(dir);
  }

  private path(name: string): string {
    if (name.includes('..') || name.startsWith('/')) throw new LlmError('BAD_ARGUMENT', `bad file name ${name}`);
    return join(this.dir, name);
  }

  async text(name: string): Promise<string | null> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async size(name: string): Promise<number | null> {
    try {
      return (await stat(this.path(name))).size;
    } catch {
      return null;
    }
  }

  async open(name: string, signal?: AbortSignal): Promise<OpenedFile> {
    const size = await this.size(name);
    if (size === null) throw new LlmError('MISSING_FILE', `${this.label}: no ${name}`);
    const stream = createReadStream(this.path(name), { highWaterMark: 1 << 20, signal });
    return {
      size,
      chunks: (async function* () {
        try {
          for await (const chunk of stream) yield new Uint8Array((chunk as Buffer).buffer, (chunk as Buffer).byteOffset, (chunk as Buffer).byteLength);
        } catch (e) {
          if ((e as Error).name === 'AbortError') throw new LlmError('ABORTED', 'cancelled');
          throw e;
        }
      })(),
    };
  }
}
