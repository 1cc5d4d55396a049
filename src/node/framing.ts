/**
 * Stream framing for request/response: every frame is varint-length-prefixed (it-length-prefixed)
 * and at most MAX_FRAME_BYTES long, because a WebRTC data channel message carries at most 16 KiB.
 * A message is one head frame that announces the total body length, then body frames.
 *
 *   request head : u8 0x01 | fixed(32) ephemeral X25519 key | u32 sealed body length
 *   response head: u8 0x02 | u8 status (0 ok, 1 error, 2 busy) | u32 body length
 *   body frame   : u8 0x03 | 1 to MAX_FRAME_BYTES - 8 bytes of body
 *
 * Memory: nothing is allocated from an announced length. Bytes are charged to a ByteBudget as they
 * arrive off the stream (StreamInbox), and a body grows frame by frame, so a stream holds what its
 * peer actually sent, and no more than the budget allows.
 */
import * as lp from 'it-length-prefixed';
import type { Uint8ArrayList } from 'uint8arraylist';
import { concatBytes } from '../codec/binary.ts';
import { MAX_FRAME_BYTES } from './config.ts';
import { BudgetExceededError, PayloadTooLargeError, PeerGoneError, ProtocolError, RequestError } from './errors.ts';

export const FRAME_REQUEST_HEAD = 0x01;
export const FRAME_RESPONSE_HEAD = 0x02;
export const FRAME_BODY = 0x03;
/** Room for the varint length prefix and the kind byte inside one 16 KiB data-channel message. */
export const MAX_BODY_CHUNK = MAX_FRAME_BYTES - 8;

/** The writable half we need from a libp2p Stream. */
export interface FrameSink {
  send(data: Uint8Array | Uint8ArrayList): boolean;
  onDrain(options?: { signal?: AbortSignal }): Promise<void>;
}

export async function writeFrame(sink: FrameSink, frame: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (frame.length > MAX_FRAME_BYTES) throw new RangeError(`frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  signal?.throwIfAborted();
  if (!sink.send(lp.encode.single(frame))) await sink.onDrain({ signal });
}

export async function writeBody(sink: FrameSink, body: Uint8Array, signal?: AbortSignal): Promise<void> {
  for (let at = 0; at < body.length; at += MAX_BODY_CHUNK) {
    signal?.throwIfAborted();
    const chunk = body.subarray(at, Math.min(body.length, at + MAX_BODY_CHUNK));
    const frame = new Uint8Array(1 + chunk.length);
    frame[0] = FRAME_BODY;
    frame.set(chunk, 1);
    await writeFrame(sink, frame, signal);
  }
}

/**
 * Bytes received on request/response streams and not yet released, across all streams of one node
 * (`maxBytes`) and per remote peer (`maxBytesPerPeer`). Charges that would pass either limit throw
 * BudgetExceededError and take nothing.
 */
export class ByteBudget {
  private used = 0;
  private readonly byPeer = new Map<string, number>();

  constructor(
    readonly maxBytes: number,
    readonly maxBytesPerPeer: number,
  ) {}

  /** Bytes held now, in total or by one peer. */
  usedBytes(peer?: string): number {
    return peer === undefined ? this.used : (this.byPeer.get(peer) ?? 0);
  }

  /** `peer` undefined: charge only the global budget (responses to our own requests). */
  take(peer: string | undefined, n: number): void {
    if (this.used + n > this.maxBytes) {
      throw new BudgetExceededError(`stream byte budget of ${this.maxBytes} bytes is spent (${this.used} held)`);
    }
    if (peer !== undefined) {
      const mine = this.byPeer.get(peer) ?? 0;
      if (mine + n > this.maxBytesPerPeer) {
        throw new BudgetExceededError(`per-peer stream byte budget of ${this.maxBytesPerPeer} bytes is spent (${mine} held)`);
      }
      this.byPeer.set(peer, mine + n);
    }
    this.used += n;
  }

  give(peer: string | undefined, n: number): void {
    this.used -= n;
    if (peer === undefined) return;
    const left = (this.byPeer.get(peer) ?? 0) - n;
    if (left > 0) this.byPeer.set(peer, left);
    else this.byPeer.delete(peer);
  }

  /** A running charge for one stream; `release()` gives back everything it took. */
  lease(peer: string | undefined): BudgetLease {
    return new BudgetLease(this, peer);
  }
}

export class BudgetLease {
  private held = 0;
  private released = false;

  constructor(
    private readonly budget: ByteBudget,
    private readonly peer: string | undefined,
  ) {}

  get bytes(): number {
    return this.held;
  }

  take(n: number): void {
    if (this.released) throw new BudgetExceededError('stream budget lease already released');
    this.budget.take(this.peer, n);
    this.held += n;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.peer, this.held);
    this.held = 0;
  }
}

/**
 * The readable half we need from a libp2p Stream: its 'message', 'end', 'remoteCloseWrite' and
 * 'close' events. (libp2p's own async iterator queues everything the peer sends without limit
 * while nobody pulls; this reads the events directly and charges each chunk as it arrives.)
 */
export interface InboundStream extends EventTarget {
  readonly readableEnded: boolean;
  readonly status: string;
}

type Chunk = Uint8Array | Uint8ArrayList;

export class StreamInbox implements AsyncIterable<Chunk> {
  private queue: Chunk[] = [];
  private ended = false;
  private failure: Error | undefined;
  private discarding = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: InboundStream,
    /** Called with each chunk's size before it is queued; throw (BudgetExceededError) to refuse it. */
    private readonly charge: (bytes: number) => void,
  ) {
    stream.addEventListener('message', this.onMessage);
    stream.addEventListener('remoteCloseWrite', this.onEnd);
    stream.addEventListener('end', this.onEnd);
    stream.addEventListener('close', this.onClose);
    if (stream.readableEnded || (stream.status !== 'open' && stream.status !== 'closing')) this.ended = true;
  }

  /** Queued bytes not yet pulled by the reader. */
  get queuedBytes(): number {
    return this.queue.reduce((n, c) => n + c.byteLength, 0);
  }

  /** Drop everything queued and everything still to come (after a refusal); the reader sees the end. */
  discard(): void {
    this.discarding = true;
    this.queue = [];
    this.ended = true;
    this.poke();
  }

  detach(): void {
    this.stream.removeEventListener('message', this.onMessage);
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd);
    this.stream.removeEventListener('end', this.onEnd);
    this.stream.removeEventListener('close', this.onClose);
    this.discard();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Chunk> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private readonly onMessage = (evt: Event) => {
    if (this.discarding || this.ended) return;
    const data = (evt as Event & { data: Chunk }).data;
    try {
      this.charge(data.byteLength);
    } catch (e) {
      // Over budget: forget what was queued so the memory goes at once; the reader throws `e`.
      this.failure = e instanceof Error ? e : new BudgetExceededError(String(e));
      this.discarding = true;
      this.queue = [];
      this.poke();
      return;
    }
    this.queue.push(data);
    this.poke();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.poke();
  };

  private readonly onClose = (evt: Event) => {
    const error = (evt as Event & { error?: Error }).error;
    if (error && !this.failure) this.failure = new PeerGoneError(`stream closed: ${error.name}: ${error.message}`);
    this.ended = true;
    this.poke();
  };
}

/** Reads frames off a stream; `next()` throws PeerGoneError when the stream ends early. */
export class FrameReader {
  private readonly frames: AsyncIterator<Uint8ArrayList>;

  constructor(source: AsyncIterable<Chunk>) {
    this.frames = lp.decode(source, { maxDataLength: MAX_FRAME_BYTES })[Symbol.asyncIterator]();
  }

  private async pull(): Promise<Uint8Array | undefined> {
    let result: IteratorResult<Uint8ArrayList>;
    try {
      result = await this.frames.next();
    } catch (e) {
      if (e instanceof RequestError) throw e;
      const err = e instanceof Error ? e : new Error(String(e));
      if (/length|varint/i.test(err.name) || /length|varint/i.test(err.message)) throw new ProtocolError(`bad frame: ${err.message}`);
      throw new PeerGoneError(`stream failed: ${err.name}: ${err.message}`);
    }
    if (result.done) return undefined;
    const frame = result.value.subarray();
    if (frame.length === 0) throw new ProtocolError('empty frame');
    return frame;
  }

  async next(): Promise<Uint8Array> {
    const frame = await this.pull();
    if (!frame) throw new PeerGoneError('stream ended before the message was complete');
    return frame;
  }

  /** Resolves when the peer has closed its side with no further frame; ProtocolError otherwise. */
  async end(): Promise<void> {
    const frame = await this.pull();
    if (frame) throw new ProtocolError(`frame of kind ${frame[0]} after the end of the message`);
  }

  /**
   * Reads `length` bytes of body frames. The buffer grows as frames arrive; nothing is allocated
   * from the announced length, which is only checked against `maxDataLength`.
   */
  async body(length: number, maxDataLength: number): Promise<Uint8Array> {
    if (length > maxDataLength) throw new PayloadTooLargeError(`${length} bytes exceeds limit ${maxDataLength}`);
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (at < length) {
      const frame = await this.next();
      if (frame[0] !== FRAME_BODY) throw new ProtocolError(`expected body frame, got kind ${frame[0]}`);
      if (frame.length === 1) throw new ProtocolError('empty body frame');
      if (at + frame.length - 1 > length) throw new ProtocolError('body longer than announced');
      chunks.push(frame.slice(1));
      at += frame.length - 1;
    }
    const [only] = chunks;
    if (only && chunks.length === 1) return only;
    return concatBytes(chunks, length);
  }
}

export function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

export function readU32le(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}
