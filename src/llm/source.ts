/**
 * Where model files come from. A `ModelSource` names files as they sit in a Hugging Face model
 * folder (config.json, tokenizer.json, model.safetensors or shards + index) and hands them out as
 * text or as a stream of chunks, so that weights go to the GPU without the whole file in memory.
 * Browser sources (URL, picked files, Cache API) live in ./browser-source.ts, Node's in ./node-source.ts.
 */
import { LlmError } from './errors.ts';

export interface OpenedFile {
  /** Size in bytes when known (local files, Content-Length). */
  readonly size: number | null;
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface ModelSource {
  /** For messages and the UI: a path, a URL or "cache: name". */
  readonly label: string;
  /** The file's text, or null when it does not exist. */
  text(name: string): Promise<string | null>;
  /** The file's size, or null when it does not exist or the size is unknown. */
  size(name: string): Promise<number | null>;
  /** Streams the file; MISSING_FILE when it does not exist. */
  open(name: string, signal?: AbortSignal): Promise<OpenedFile>;
}

/** Files held in memory (tests, the in-page test model). */
export class MemorySource implements ModelSource {
  constructor(
    readonly files: ReadonlyMap<string, Uint8Array>,
    readonly label = 'memory',
    private readonly chunkBytes = 1 << 16,
  ) {}

  async text(name: string): Promise<string | null> {
    const f = this.files.get(name);
    return f ? new TextDecoder().decode(f) : null;
  }

  async size(name: string): Promise<number | null> {
    return this.files.get(name)?.byteLength ?? null;
  }

  async open(name: string): Promise<OpenedFile> {
    const f = this.files.get(name);
    if (!f) throw new LlmError('MISSING_FILE', `${this.label}: no ${name}`);
    const size = this.chunkBytes;
    return {
      size: f.byteLength,
      chunks: (async function* () {
        for (let i = 0; i < f.byteLength; i += size) yield f.subarray(i, Math.min(f.byteLength, i + size));
      })(),
    };
  }
}

/** Chunks of a WHATWG ReadableStream (fetch bodies, File.stream()). */
export async function* streamChunks(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    while (true) {
      if (signal?.aborted) throw new LlmError('ABORTED', 'cancelled');
      const { done, value } = await reader.read();
      if (done) return;
      if (value && value.byteLength > 0) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
