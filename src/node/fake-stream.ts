/**
 * An in-memory stand-in for a libp2p Stream with the event interface the request/response code reads
 * ('message', 'remoteCloseWrite', 'end', 'close'), for fuzzing and unit tests without a network.
 */
import * as lp from 'it-length-prefixed';
import { Uint8ArrayList } from 'uint8arraylist';
import type { RpcStream } from './reqresp.ts';

class MessageEvent extends Event {
  constructor(readonly data: Uint8Array | Uint8ArrayList) {
    super('message');
  }
}

class CloseEvent extends Event {
  constructor(readonly error?: Error) {
    super('close');
  }
}

export class FakeStream extends EventTarget implements RpcStream {
  status: 'open' | 'closed' | 'aborted' = 'open';
  readableEnded = false;
  writeClosed = false;
  abortedWith: Error | undefined;
  /** Everything written by the code under test. */
  readonly written = new Uint8ArrayList();

  private readonly counts = new Map<string, number>();

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    if (listener) this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    super.addEventListener(type, listener, options);
  }

  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    if (listener) this.counts.set(type, Math.max(0, (this.counts.get(type) ?? 0) - 1));
    super.removeEventListener(type, listener, options);
  }

  /** Listeners added minus removed (like libp2p's `listenerCount`; assumes no duplicates). */
  listenerCount(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  send(data: Uint8Array | Uint8ArrayList): boolean {
    if (this.writeClosed || this.status !== 'open') throw new Error(`cannot write to a ${this.status} stream`);
    this.written.append(data);
    return true;
  }

  async onDrain(): Promise<void> {}

  async close(): Promise<void> {
    this.writeClosed = true;
    this.maybeClosed();
  }

  abort(err: Error): void {
    if (this.status !== 'open') return;
    this.status = 'aborted';
    this.abortedWith = err;
    this.readableEnded = true;
    this.dispatchEvent(new CloseEvent(err));
  }

  /** The remote sends `chunks` (one 'message' each, a macrotask apart when `spaced`), then closes its side unless `keepOpen`. */
  async deliver(chunks: Uint8Array[], options: { keepOpen?: boolean; spaced?: boolean } = {}): Promise<void> {
    for (const c of chunks) {
      await (options.spaced ? new Promise((r) => setTimeout(r, 0)) : Promise.resolve());
      if (this.status !== 'open') return;
      if (c.length) this.dispatchEvent(new MessageEvent(c));
    }
    await Promise.resolve();
    if (options.keepOpen || this.status !== 'open') return;
    this.readableEnded = true;
    this.dispatchEvent(new Event('remoteCloseWrite'));
    this.dispatchEvent(new Event('end'));
    this.maybeClosed();
  }

  /** The remote resets the stream. */
  reset(): void {
    if (this.status !== 'open') return;
    this.status = 'aborted';
    this.readableEnded = true;
    const err = new Error('stream reset by remote');
    err.name = 'StreamResetError';
    this.dispatchEvent(new CloseEvent(err));
  }

  /** The frames written so far (decoded from their length prefixes). */
  writtenFrames(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const buf = this.written.subarray();
    let at = 0;
    while (at < buf.length) {
      let len = 0;
      let shift = 0;
      let b: number;
      do {
        const byte = buf[at++];
        if (byte === undefined) throw new RangeError('a length prefix runs past the bytes written to the fake stream');
        b = byte;
        len |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      frames.push(buf.subarray(at, at + len));
      at += len;
    }
    return frames;
  }

  private maybeClosed(): void {
    if (this.status === 'open' && this.writeClosed && this.readableEnded) {
      this.status = 'closed';
      this.dispatchEvent(new CloseEvent());
    }
  }
}

/** Length-prefixes each frame the way the stream framing does. */
export function encodeFrames(frames: Uint8Array[]): Uint8Array {
  const list = new Uint8ArrayList();
  for (const f of frames) list.append(lp.encode.single(f));
  return list.subarray();
}
