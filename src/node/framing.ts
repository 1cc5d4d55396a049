/**
 * Stream framing for request/response: every frame is varint-length-prefixed (it-length-prefixed)
 * and at most MAX_FRAME_BYTES long, because a WebRTC data channel message carries at most 16 KiB.
 * A message is one head frame that announces the total body length, then body frames.
 *
 *   request head : u8 0x01 | fixed(32) ephemeral X25519 key | u32 sealed body length
 *   response head: u8 0x02 | u8 status (0 ok, 1 error)     | u32 body length
 *   body frame   : u8 0x03 | up to MAX_FRAME_BYTES - 8 bytes of body
 */
import * as lp from 'it-length-prefixed';
import type { Uint8ArrayList } from 'uint8arraylist';
import { MAX_FRAME_BYTES } from './config.ts';
import { PayloadTooLargeError, PeerGoneError, ProtocolError } from './errors.ts';

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

/** Reads frames off a stream; `next()` throws PeerGoneError when the stream ends early. */
export class FrameReader {
  private readonly frames: AsyncIterator<Uint8ArrayList>;

  constructor(source: AsyncIterable<Uint8Array | Uint8ArrayList>) {
    this.frames = lp.decode(source, { maxDataLength: MAX_FRAME_BYTES })[Symbol.asyncIterator]();
  }

  async next(): Promise<Uint8Array> {
    let result: IteratorResult<Uint8ArrayList>;
    try {
      result = await this.frames.next();
    } catch (e) {
      const err = e as Error;
      if (/length/i.test(err.name) || /length/i.test(err.message)) throw new ProtocolError(`bad frame: ${err.message}`);
      throw new PeerGoneError(`stream failed: ${err.message}`);
    }
    if (result.done) throw new PeerGoneError('stream ended before the message was complete');
    const frame = result.value.subarray();
    if (frame.length === 0) throw new ProtocolError('empty frame');
    return frame;
  }

  /** Reads `length` bytes of body frames into one buffer. */
  async body(length: number, maxDataLength: number): Promise<Uint8Array> {
    if (length > maxDataLength) throw new PayloadTooLargeError(`${length} bytes exceeds limit ${maxDataLength}`);
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const frame = await this.next();
      if (frame[0] !== FRAME_BODY) throw new ProtocolError(`expected body frame, got kind ${frame[0]}`);
      if (at + frame.length - 1 > length) throw new ProtocolError('body longer than announced');
      out.set(frame.subarray(1), at);
      at += frame.length - 1;
    }
    return out;
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
