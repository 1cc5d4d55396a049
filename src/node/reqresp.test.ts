/**
 * The responder and the framing reader on in-memory streams: bodies grow as bytes arrive, the byte
 * budget (global and per peer) and the per-peer stream cap refuse with typed errors, and protocol
 * violations reset the stream.
 */
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { FakeStream, encodeFrames } from './fake-stream.ts';
import { BudgetExceededError, PayloadTooLargeError, ProtocolError, TooManyStreamsError } from './errors.ts';
import { ByteBudget, FRAME_BODY, FRAME_REQUEST_HEAD, FrameReader, MAX_BODY_CHUNK, StreamInbox, u32le } from './framing.ts';
import { DEFAULT_REQUEST_LIMITS, REFUSAL_LINGER_MS, STATUS_BUSY, STATUS_ERROR, STATUS_OK, StreamGuard, serveCall, type ServeCall } from './reqresp.ts';
import { open, requesterKeys, seal } from './sealed-box.ts';
import { at } from '../sprint/indexing.ts';

const serverSeed = new Uint8Array(32).fill(1);
const clientSeed = new Uint8Array(32).fill(2);
const serverPub = ed25519.getPublicKey(serverSeed);
const clientPub = ed25519.getPublicKey(clientSeed);
const PROTOCOL = '/sprintnet/test/rpc/echo/1';
const never = new AbortController().signal;

/** The status byte of the first frame the server wrote back. */
function firstWrittenStatus(stream: FakeStream): number {
  return at(at(stream.writtenFrames(), 0, 'written frame'), 1, 'status byte');
}

function head(ephemeral: Uint8Array, length: number): Uint8Array {
  const h = new Uint8Array(37);
  h[0] = FRAME_REQUEST_HEAD;
  h.set(ephemeral, 1);
  h.set(u32le(length), 33);
  return h;
}

function bodyFrames(body: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += MAX_BODY_CHUNK) {
    const chunk = body.subarray(at, at + MAX_BODY_CHUNK);
    frames.push(Uint8Array.of(FRAME_BODY, ...chunk));
  }
  return frames;
}

function request(payload: Uint8Array) {
  const keys = requesterKeys(clientSeed, serverPub, PROTOCOL);
  const sealed = seal(keys.requestKey, payload, PROTOCOL);
  return { keys, sealed, frames: [head(keys.ephemeralPublic, sealed.length), ...bodyFrames(sealed)] };
}

function call(guard: StreamGuard, overrides: Partial<ServeCall> = {}): ServeCall {
  return {
    ownSeed: serverSeed,
    peerId: 'client',
    remotePublicKey: clientPub,
    protocol: PROTOCOL,
    handler: async (r) => r.map((v) => v ^ 0xff),
    limits: DEFAULT_REQUEST_LIMITS,
    guard,
    ...overrides,
  };
}

describe('ByteBudget', () => {
  it('charges globally and per peer, refuses with BudgetExceededError and takes nothing then', () => {
    const budget = new ByteBudget(100, 60);
    budget.take('a', 50);
    expect(() => budget.take('a', 11)).toThrow(BudgetExceededError);
    budget.take('b', 45);
    expect(() => budget.take('c', 6)).toThrow(BudgetExceededError);
    expect(budget.usedBytes()).toBe(95);
    budget.take(undefined, 5); // global only
    budget.give('a', 50);
    expect(budget.usedBytes('a')).toBe(0);
    expect(budget.usedBytes()).toBe(50);
    const lease = budget.lease('c');
    lease.take(40);
    lease.take(10);
    expect(budget.usedBytes('c')).toBe(50);
    lease.release();
    lease.release();
    expect(budget.usedBytes()).toBe(50);
  });
});

describe('FrameReader and StreamInbox', () => {
  it('a head announcing 4 MiB followed by a few bytes holds only those bytes', async () => {
    const budget = new ByteBudget(64 * 1024 * 1024, 16 * 1024 * 1024);
    const lease = budget.lease('p');
    const stream = new FakeStream();
    const inbox = new StreamInbox(stream, (n) => lease.take(n));
    const reader = new FrameReader(inbox);
    const before = process.memoryUsage().arrayBuffers;
    const pending = reader.body(4 * 1024 * 1024, 4 * 1024 * 1024 + 40).catch((e) => e);
    await stream.deliver([encodeFrames([Uint8Array.of(FRAME_BODY, 1, 2, 3, 4, 5, 6, 7)])], { keepOpen: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(lease.bytes).toBe(9); // one varint byte + kind + 7 body bytes
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    stream.reset();
    expect(await pending).toHaveProperty('name', 'PeerGoneError');
  });

  it('a chunk over the budget fails the read with BudgetExceededError and drops what was queued', async () => {
    const budget = new ByteBudget(1000, 1000);
    const stream = new FakeStream();
    const inbox = new StreamInbox(stream, (n) => budget.take('p', n));
    const reader = new FrameReader(inbox);
    const pending = reader.body(2000, 4000).catch((e) => e);
    await stream.deliver([encodeFrames([new Uint8Array(600).fill(FRAME_BODY)]), encodeFrames([new Uint8Array(600).fill(FRAME_BODY)])], {
      keepOpen: true,
    });
    expect(await pending).toBeInstanceOf(BudgetExceededError);
    expect(inbox.queuedBytes).toBe(0);
  });

  it('refuses announced lengths over the limit before reading, and bodies longer than announced', async () => {
    const reader = new FrameReader((async function* () {})());
    await expect(reader.body(5000, 4000)).rejects.toThrow(PayloadTooLargeError);
    const chunks = [encodeFrames([Uint8Array.of(FRAME_BODY, 1, 2, 3)])];
    const r2 = new FrameReader(
      (async function* () {
        yield* chunks;
      })(),
    );
    await expect(r2.body(2, 10)).rejects.toThrow(ProtocolError);
  });
});

describe('serveCall', () => {
  it('answers a well-formed request, sealed to the requester', async () => {
    const guard = new StreamGuard();
    const { keys, frames } = request(Uint8Array.of(1, 2, 3));
    const stream = new FakeStream();
    const done = serveCall(stream, call(guard), never);
    await stream.deliver([encodeFrames(frames)]);
    expect(await done).toEqual({ ok: true });
    const [h, ...body] = stream.writtenFrames();
    expect(h?.[1]).toBe(STATUS_OK);
    const sealed = new Uint8Array(body.reduce((n, f) => n + f.length - 1, 0));
    let at = 0;
    for (const f of body) {
      sealed.set(f.subarray(1), at);
      at += f.length - 1;
    }
    expect([...open(keys.responseKey, sealed, PROTOCOL)]).toEqual([0xfe, 0xfd, 0xfc]);
    expect(guard.budget.usedBytes()).toBe(0);
    expect(guard.openStreams()).toBe(0);
  });

  it('after the answer, drops what the peer keeps sending and resets a stream it leaves open', async () => {
    const guard = new StreamGuard();
    const { frames } = request(Uint8Array.of(1, 2));
    const stream = new FakeStream();
    const done = serveCall(stream, call(guard), never);
    await stream.deliver([encodeFrames(frames)], { keepOpen: true });
    expect(await done).toEqual({ ok: true });
    expect(stream.listenerCount('message')).toBe(1); // the drop listener, nothing queued
    await stream.deliver([new Uint8Array(100_000)], { keepOpen: true });
    expect(guard.budget.usedBytes()).toBe(0);
    expect(stream.status).toBe('open');
    await new Promise((r) => setTimeout(r, REFUSAL_LINGER_MS + 100));
    expect(stream.status).toBe('aborted');
    expect(stream.abortedWith).toBeInstanceOf(ProtocolError);
  });

  it('answers busy (status 2) past the per-peer stream cap; other peers are unaffected', async () => {
    const guard = new StreamGuard({ maxBufferedBytes: 1 << 20, maxBufferedBytesPerPeer: 1 << 20, maxStreamsPerPeer: 3 });
    const held = [0, 1, 2].map(() => {
      const s = new FakeStream();
      return { s, done: serveCall(s, call(guard), never) };
    });
    for (const { s } of held) await s.deliver([encodeFrames([head(new Uint8Array(32).fill(9), 1 << 19)])], { keepOpen: true });
    expect(guard.openStreams('client')).toBe(3);
    const extra = new FakeStream();
    const refused = serveCall(extra, call(guard), never);
    await extra.deliver([encodeFrames([head(new Uint8Array(32).fill(9), 10)])], { keepOpen: true });
    const outcome = await refused;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(TooManyStreamsError);
    expect(firstWrittenStatus(extra)).toBe(STATUS_BUSY);
    const other = new FakeStream();
    const { frames } = request(Uint8Array.of(7));
    const otherDone = serveCall(other, call(guard, { peerId: 'someone-else' }), never);
    await other.deliver([encodeFrames(frames)]);
    expect(await otherDone).toEqual({ ok: true });
    // Three streams that sent a 37-byte head each hold what they sent, not the 512 KiB they announced.
    expect(guard.budget.usedBytes('client')).toBe(3 * 38);
    for (const { s } of held) s.reset();
    for (const { done } of held) expect((await done).ok).toBe(false);
    expect(guard.openStreams()).toBe(0);
    expect(guard.budget.usedBytes()).toBe(0);
  });

  it('answers busy when the per-peer byte budget runs out mid-body', async () => {
    const guard = new StreamGuard({ maxBufferedBytes: 1 << 20, maxBufferedBytesPerPeer: 64 * 1024, maxStreamsPerPeer: 8 });
    const { frames } = request(new Uint8Array(100 * 1024));
    const stream = new FakeStream();
    const done = serveCall(stream, call(guard), never);
    await stream.deliver(
      frames.map((f) => encodeFrames([f])),
      { keepOpen: true },
    );
    const outcome = await done;
    expect(!outcome.ok && outcome.error).toBeInstanceOf(BudgetExceededError);
    expect(firstWrittenStatus(stream)).toBe(STATUS_BUSY);
    expect(guard.budget.usedBytes()).toBe(0);
  });

  it('answers status 1 to an oversize announcement, a short sealed length resets; a frame after the body resets', async () => {
    const guard = new StreamGuard();
    const small = { ...DEFAULT_REQUEST_LIMITS, maxRequestBytes: 10 };
    const s1 = new FakeStream();
    const d1 = serveCall(s1, call(guard, { limits: small }), never);
    await s1.deliver([encodeFrames([head(new Uint8Array(32).fill(9), 1000)])], { keepOpen: true });
    const o1 = await d1;
    expect(!o1.ok && o1.error).toBeInstanceOf(PayloadTooLargeError);
    expect(firstWrittenStatus(s1)).toBe(STATUS_ERROR);

    const s2 = new FakeStream();
    const d2 = serveCall(s2, call(guard), never);
    await s2.deliver([encodeFrames([head(new Uint8Array(32).fill(9), 5)])]);
    const o2 = await d2;
    expect(!o2.ok && o2.error).toBeInstanceOf(ProtocolError);
    expect(s2.status).toBe('aborted');

    const { frames } = request(Uint8Array.of(1));
    const s3 = new FakeStream();
    let release!: () => void;
    const d3 = serveCall(s3, call(guard, { handler: (r) => new Promise((res) => (release = () => res(r))) }), never);
    await s3.deliver([encodeFrames([...frames, Uint8Array.of(FRAME_BODY, 1)])], { keepOpen: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(s3.abortedWith).toBeInstanceOf(ProtocolError);
    release();
    expect((await d3).ok).toBe(false);
  });
});

describe('serveCall with sealing: caller', () => {
  const callerLimits = { ...DEFAULT_REQUEST_LIMITS, sealing: 'caller' as const, maxRequestBytes: 64, maxResponseBytes: 16 };
  const plainRequest = (payload: Uint8Array) => [head(new Uint8Array(32), payload.length), ...bodyFrames(payload)];
  const writtenBody = (stream: FakeStream) => {
    const [, ...body] = stream.writtenFrames();
    return Uint8Array.from(body.flatMap((f) => [...f.subarray(1)]));
  };

  it('hands the handler the payload as sent and the authenticated peer, and answers its bytes unsealed', async () => {
    const guard = new StreamGuard();
    const seen: { request: number[]; peer: string }[] = [];
    const stream = new FakeStream();
    const done = serveCall(
      stream,
      call(guard, {
        limits: callerLimits,
        handler: async (r, c) => {
          seen.push({ request: [...r], peer: c.peerId });
          return Uint8Array.of(9, 8, 7);
        },
      }),
      never,
    );
    await stream.deliver([encodeFrames(plainRequest(Uint8Array.of(1, 2, 3)))]);
    expect(await done).toEqual({ ok: true });
    expect(seen).toEqual([{ request: [1, 2, 3], peer: 'client' }]);
    expect(firstWrittenStatus(stream)).toBe(STATUS_OK);
    expect([...writtenBody(stream)]).toEqual([9, 8, 7]);
  });

  it('refuses a head of the other mode, a request over the limit (no sealing overhead allowed), and an answer over the limit', async () => {
    const guard = new StreamGuard();
    const outcome = async (frames: Uint8Array[], overrides: Partial<ServeCall>) => {
      const s = new FakeStream();
      const d = serveCall(s, call(guard, overrides), never);
      await s.deliver([encodeFrames(frames)], { keepOpen: true });
      return { o: await d, status: firstWrittenStatus(s) };
    };
    // A layer-sealed request at a caller-sealed protocol, and a caller-sealed one at a layer-sealed protocol.
    const sealedAtCaller = await outcome(request(Uint8Array.of(1)).frames, { limits: callerLimits });
    expect(!sealedAtCaller.o.ok && sealedAtCaller.o.error).toBeInstanceOf(ProtocolError);
    expect(sealedAtCaller.status).toBe(STATUS_ERROR);
    const plainAtLayer = await outcome(plainRequest(Uint8Array.of(1)), {});
    expect(!plainAtLayer.o.ok && plainAtLayer.o.error).toBeInstanceOf(ProtocolError);
    expect(plainAtLayer.status).toBe(STATUS_ERROR);
    const big = await outcome(plainRequest(new Uint8Array(65)), { limits: callerLimits });
    expect(!big.o.ok && big.o.error).toBeInstanceOf(PayloadTooLargeError);
    const bigAnswer = await outcome(plainRequest(new Uint8Array(4)), { limits: callerLimits, handler: async () => new Uint8Array(17) });
    expect(!bigAnswer.o.ok && bigAnswer.o.error).toBeInstanceOf(PayloadTooLargeError);
    expect(bigAnswer.status).toBe(STATUS_ERROR);
    expect(guard.budget.usedBytes()).toBe(0);
  });
});
