/**
 * Request/response over libp2p streams, one stream per call, end-to-end encrypted (sealed-box.ts).
 * Framing is in framing.ts: ≤ 16 KiB length-prefixed frames, so a 1 MiB payload crosses a WebRTC
 * data channel as ~64 frames. Every call has a deadline: a peer that disappears mid-request turns
 * into a RequestTimeoutError (silent) or PeerGoneError (stream reset), never a hang.
 *
 * Resources: bytes received on every stream are charged to one ByteBudget per node (global and per
 * peer) as they arrive, bodies grow frame by frame, and one peer may have at most
 * `maxStreamsPerPeer` inbound calls open at once (over all protocols and connections). A call
 * refused for capacity is answered with status 2 (busy), which the requester reports as
 * PeerBusyError.
 *
 * Sealing: by default this layer seals every payload (a fresh key agreement per call). A protocol
 * handled and requested with `sealing: 'caller'` gets its payloads as they are: the caller seals
 * them itself (split inference's per-session key, src/split/session-key.ts), and the layer still
 * frames, limits, deadlines, and hands the handler the stream's peer as noise authenticated it.
 * Such a request's head carries 32 zero bytes where the ephemeral key would be; each side refuses a
 * head of the other mode, so a caller-sealed payload is never taken for a sealed one or back.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { protocolName } from './config.ts';
import {
  PayloadTooLargeError,
  PeerBusyError,
  PeerGoneError,
  ProtocolError,
  RemoteError,
  RequestAbortedError,
  RequestError,
  RequestTimeoutError,
  ResourceLimitError,
  TooManyStreamsError,
} from './errors.ts';
import {
  ByteBudget,
  FRAME_REQUEST_HEAD,
  FRAME_RESPONSE_HEAD,
  FrameReader,
  StreamInbox,
  readU32le,
  u32le,
  writeBody,
  writeFrame,
  type FrameSink,
  type InboundStream,
} from './framing.ts';
import { DecryptError, EPHEMERAL_BYTES, NONCE_BYTES, TAG_BYTES, open, requesterKeys, responderKeys, seal, type SessionKeys } from './sealed-box.ts';

const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;
export const STATUS_BUSY = 2;
export const MAX_ERROR_BYTES = 1024;
export const REQUEST_HEAD_BYTES = 1 + EPHEMERAL_BYTES + 4;
/** After refusing a call, how long the responder keeps discarding input before it resets the stream. */
export const REFUSAL_LINGER_MS = 2_000;

export interface RequestLimits {
  /** Largest plaintext request accepted by the handler. */
  maxRequestBytes: number;
  /** Largest plaintext response the caller accepts. */
  maxResponseBytes: number;
  /** Whole-call deadline in ms (dial, send, handler, receive). */
  timeoutMs: number;
  /** Concurrent inbound calls per connection, for this protocol (libp2p's own stream limit). */
  maxInboundStreams: number;
  /** 'layer' (default): sealed here per call; 'caller': the payload is already sealed by its caller and passes through. */
  sealing: Sealing;
}

export type Sealing = 'layer' | 'caller';

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxRequestBytes: 4 * 1024 * 1024,
  maxResponseBytes: 4 * 1024 * 1024,
  timeoutMs: 30_000,
  maxInboundStreams: 8,
  sealing: 'layer',
};

/** Node-wide limits shared by every protocol's streams. */
export interface StreamLimits {
  /** Bytes received on request/response streams and not yet released, over all streams. */
  maxBufferedBytes: number;
  /** The same, for one remote peer's inbound calls. */
  maxBufferedBytesPerPeer: number;
  /** Concurrent inbound calls from one peer, over all protocols and connections. */
  maxStreamsPerPeer: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxBufferedBytes: 64 * 1024 * 1024,
  maxBufferedBytesPerPeer: 16 * 1024 * 1024,
  maxStreamsPerPeer: 16,
};

export interface RequestContext {
  /** Remote peer id (its wallet identity). */
  peerId: string;
  /** Fires when the call's deadline passes or the stream dies; stop work then. */
  signal: AbortSignal;
}

export type RequestHandler = (request: Uint8Array, context: RequestContext) => Promise<Uint8Array>;

export interface RequestOptions extends Partial<Pick<RequestLimits, 'maxResponseBytes' | 'timeoutMs' | 'sealing'>> {
  signal?: AbortSignal;
}

interface OwnKey {
  ed25519Seed: Uint8Array;
}

/** What the responder needs from a stream: read events, write, close, reset. */
export interface RpcStream extends InboundStream, FrameSink {
  close(options?: { signal?: AbortSignal }): Promise<void>;
  abort(err: Error): void;
}

/** The byte budget and the per-peer count of open inbound calls, shared by all protocols of a node. */
export class StreamGuard {
  readonly budget: ByteBudget;
  private readonly open = new Map<string, number>();

  constructor(readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS) {
    this.budget = new ByteBudget(limits.maxBufferedBytes, limits.maxBufferedBytesPerPeer);
  }

  /** Inbound calls open now, in total or from one peer. */
  openStreams(peer?: string): number {
    if (peer !== undefined) return this.open.get(peer) ?? 0;
    let n = 0;
    for (const v of this.open.values()) n += v;
    return n;
  }

  /** Counts one inbound call from `peer`; returns its release. Throws TooManyStreamsError at the cap. */
  admit(peer: string): () => void {
    const n = this.open.get(peer) ?? 0;
    if (n >= this.limits.maxStreamsPerPeer) {
      throw new TooManyStreamsError(`peer already has ${n} calls open (limit ${this.limits.maxStreamsPerPeer})`);
    }
    this.open.set(peer, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(peer) ?? 1) - 1;
      if (left > 0) this.open.set(peer, left);
      else this.open.delete(peer);
    };
  }
}

export interface ServeCall {
  ownSeed: Uint8Array;
  /** Remote peer id string (budget and stream-cap key, handler context). */
  peerId: string;
  /** The remote's Ed25519 public key from its authenticated peer id; undefined when it has none. */
  remotePublicKey: Uint8Array | undefined;
  protocol: string;
  handler: RequestHandler;
  limits: RequestLimits;
  guard: StreamGuard;
}

/** How one inbound call ended; `error` is why it was refused or failed. */
export type ServeOutcome = { ok: true } | { ok: false; error: Error; status?: number };

/**
 * The responder side of one call, on any stream with libp2p's event interface. Never throws:
 * refusals are answered on the wire (status 1 or 2) where the framing allows, otherwise the stream is
 * reset; either way the outcome says why. `signal` is the call's deadline.
 */
export async function serveCall(stream: RpcStream, call: ServeCall, signal: AbortSignal): Promise<ServeOutcome> {
  const { guard, limits, protocol, peerId } = call;
  const respond = async (status: number, body: Uint8Array) => {
    const head = new Uint8Array(6);
    head[0] = FRAME_RESPONSE_HEAD;
    head[1] = status;
    head.set(u32le(body.length), 2);
    try {
      await writeFrame(stream, head, signal);
      await writeBody(stream, body, signal);
      await stream.close({ signal });
    } catch (e) {
      if (e instanceof RequestError) throw e;
      if (signal.aborted) throw new RequestTimeoutError('deadline passed while answering');
      throw new PeerGoneError(`cannot answer: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  };
  let inbox: StreamInbox | undefined;
  const refuse = async (status: number, error: RequestError): Promise<ServeOutcome> => {
    // Stop holding what the peer sends, answer, and reset the stream if the peer keeps it open.
    inbox?.discard();
    dropUntilClosed(stream, error);
    // The refusal stands even if the answer cannot be delivered (the peer reset the stream).
    await respond(status, new TextEncoder().encode(error.message).slice(0, MAX_ERROR_BYTES)).catch(() => stream.abort(error));
    return { ok: false, error, status };
  };

  // At the deadline (or when the caller gives up) the stream is reset, which ends every read.
  const onDeadline = () => stream.abort(new RequestTimeoutError('request deadline passed'));
  signal.addEventListener('abort', onDeadline, { once: true });
  if (signal.aborted) onDeadline();
  let release: (() => void) | undefined;
  const lease = guard.budget.lease(peerId);
  try {
    try {
      release = guard.admit(peerId);
    } catch (e) {
      if (!(e instanceof TooManyStreamsError)) throw e;
      // Answer once the requester has written (its protocol negotiation is then over, so an
      // answer that arrives with our end of the stream is not lost on its side).
      await firstActivity(stream, REFUSAL_LINGER_MS);
      return await refuse(STATUS_BUSY, e);
    }
    if (!call.remotePublicKey) throw new ProtocolError('remote peer has no Ed25519 identity');
    inbox = new StreamInbox(stream, (n) => lease.take(n));
    const reader = new FrameReader(inbox);
    const callerSeals = limits.sealing === 'caller';
    const overhead = callerSeals ? 0 : SEAL_OVERHEAD;
    let sealed: Uint8Array;
    let ephemeral: Uint8Array;
    try {
      const head = await reader.next();
      if (head[0] !== FRAME_REQUEST_HEAD || head.length !== REQUEST_HEAD_BYTES) throw new ProtocolError('bad request head');
      ephemeral = head.slice(1, 1 + EPHEMERAL_BYTES);
      if (callerSeals !== ephemeral.every((b) => b === 0))
        return await refuse(STATUS_ERROR, new ProtocolError(callerSeals ? 'this protocol takes caller-sealed payloads' : 'request carries no ephemeral key'));
      const length = readU32le(head, 1 + EPHEMERAL_BYTES);
      const max = limits.maxRequestBytes + overhead;
      if (length > max) return await refuse(STATUS_ERROR, new PayloadTooLargeError(`request of ${length} bytes exceeds limit ${max}`));
      if (length < overhead) throw new ProtocolError(`sealed request of ${length} bytes is shorter than its nonce and tag`);
      sealed = await reader.body(length, max);
    } catch (e) {
      if (e instanceof ResourceLimitError) return await refuse(STATUS_BUSY, e);
      throw e;
    }
    // The requester closes its side after the body: a further frame breaks the protocol.
    const ended = reader.end().catch((e: unknown) => {
      if (e instanceof ProtocolError || e instanceof ResourceLimitError) stream.abort(e);
    });
    let keys: SessionKeys | null = null;
    let request: Uint8Array = sealed;
    try {
      if (!callerSeals) {
        keys = responderKeys(call.ownSeed, call.remotePublicKey, ephemeral, protocol);
        request = open(keys.requestKey, sealed, protocol);
      }
    } catch (e) {
      if (!(e instanceof DecryptError)) throw e;
      return await refuse(STATUS_ERROR, new ProtocolError(`request failed decryption: ${e.message}`));
    }
    let response: Uint8Array;
    try {
      response = await call.handler(request, { peerId, signal });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await respond(STATUS_ERROR, new TextEncoder().encode(message).slice(0, MAX_ERROR_BYTES));
      return { ok: false, error: new RemoteError(message), status: STATUS_ERROR };
    }
    if (callerSeals && response.length > limits.maxResponseBytes) {
      const error = new PayloadTooLargeError(`response of ${response.length} bytes exceeds limit ${limits.maxResponseBytes}`);
      await respond(STATUS_ERROR, new TextEncoder().encode(error.message));
      return { ok: false, error, status: STATUS_ERROR };
    }
    await respond(STATUS_OK, keys ? seal(keys.responseKey, response, protocol) : response);
    void ended;
    return { ok: true };
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    stream.abort(error);
    return { ok: false, error };
  } finally {
    signal.removeEventListener('abort', onDeadline);
    release?.();
    lease.release();
    inbox?.detach();
    // Whatever the peer still sends is dropped (not left in libp2p's buffer), and a stream it
    // keeps open is reset shortly.
    dropUntilClosed(stream, new ProtocolError('stream left open after the call'));
  }
}

/**
 * After a call: drop anything more the peer sends, and reset the stream if it is not closed within
 * REFUSAL_LINGER_MS. Without a 'message' listener libp2p would buffer up to 4 MiB per stream.
 */
function dropUntilClosed(stream: RpcStream, error: Error): void {
  if (stream.status !== 'open' && stream.status !== 'closing') return;
  if ((stream as { [LINGERING]?: boolean })[LINGERING]) return;
  (stream as { [LINGERING]?: boolean })[LINGERING] = true;
  const drop = () => undefined;
  stream.addEventListener('message', drop);
  const linger = setTimeout(() => stream.abort(error), REFUSAL_LINGER_MS);
  (linger as { unref?: () => void }).unref?.();
  stream.addEventListener(
    'close',
    () => {
      clearTimeout(linger);
      stream.removeEventListener('message', drop);
    },
    { once: true },
  );
}
const LINGERING = Symbol('sprintnet.lingering');

export class RequestResponse {
  readonly guard: StreamGuard;

  constructor(
    private readonly libp2p: Libp2p,
    private readonly identity: OwnKey,
    private readonly networkId: string,
    streamLimits: Partial<StreamLimits> = {},
  ) {
    this.guard = new StreamGuard({ ...DEFAULT_STREAM_LIMITS, ...streamLimits });
  }

  protocol(name: string): string {
    return protocolName(this.networkId, name);
  }

  async handle(name: string, handler: RequestHandler, limits: Partial<RequestLimits> = {}): Promise<void> {
    const l = { ...DEFAULT_REQUEST_LIMITS, ...limits };
    const protocol = this.protocol(name);
    await this.libp2p.handle(protocol, (stream, connection) => this.serve(stream, connection, protocol, handler, l), {
      maxInboundStreams: l.maxInboundStreams,
      // Relayed connections are allowed: before WebRTC is up they are the only path, and our relay raises limits.
      runOnLimitedConnection: true,
    });
  }

  async unhandle(name: string): Promise<void> {
    await this.libp2p.unhandle(this.protocol(name));
  }

  async request(peerId: string, name: string, payload: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    const protocol = this.protocol(name);
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_LIMITS.timeoutMs;
    const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_REQUEST_LIMITS.maxResponseBytes;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const remote = peerIdFromString(peerId);
    const remoteKey = remote.publicKey;
    if (remoteKey?.type !== 'Ed25519') throw new RequestError(`peer ${peerId} has no Ed25519 identity`);
    let keys: ReturnType<typeof requesterKeys> | null = null;
    try {
      if (options.sealing !== 'caller') keys = requesterKeys(this.identity.ed25519Seed, remoteKey.raw, protocol);
    } catch (e) {
      if (e instanceof DecryptError) throw new RequestError(`peer ${peerId} has an unusable key: ${e.message}`);
      throw e;
    }

    const fail = (e: unknown): never => {
      if (options.signal?.aborted) throw new RequestAbortedError('request cancelled');
      if (deadline.aborted) throw new RequestTimeoutError(`no response from ${peerId} within ${timeoutMs} ms`);
      if (e instanceof RequestError) throw e;
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // Once the stream is open, a transport failure (reset, closed connection) means the peer
      // or the path to it went away.
      if (stream) throw new PeerGoneError(`stream to ${peerId} failed: ${what}`);
      throw new RequestError(`cannot reach ${peerId}: ${what}`);
    };

    let stream: Stream | undefined;
    try {
      // Prefer a direct (unlimited) connection, so a call does not ride a relay that may go away;
      // else an open relayed one. Dialling instead would join whatever dial to the peer is under
      // way (libp2p joins dials by peer id), typically discovery's WebRTC upgrade, and fail with
      // it: on a loaded machine its signalling outlasts libp2p's 6 s per-address limit.
      const live = this.libp2p.getConnections(remote).filter((c) => c.status === 'open');
      const direct = live
        .filter((c) => c.limits == null)
        .sort((x, y) => Number(y.remoteAddr.toString().includes('/webrtc')) - Number(x.remoteAddr.toString().includes('/webrtc')))[0];
      const relayed = live.find((c) => c.limits != null);
      const openStream = async (): Promise<Stream> => {
        const options = { signal, runOnLimitedConnection: true };
        if (direct) {
          try {
            return await direct.newStream(protocol, options);
          } catch (e) {
            // A WebRTC connection libp2p still counts open can be dying: its new data channel
            // closes before it opens. The relayed connection, if any, gets the call instead.
            if (!relayed || signal.aborted) throw e;
          }
        }
        return relayed ? relayed.newStream(protocol, options) : this.libp2p.dialProtocol(remote, protocol, options);
      };
      stream = await untilAborted(openStream(), signal);
      const s = stream;
      const onAbort = () => s.abort(new Error('request aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await untilAborted(this.exchange(s, protocol, keys, payload, maxResponseBytes, signal), signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } catch (e) {
      stream?.abort(e as Error);
      return fail(e);
    }
  }

  private async exchange(
    stream: Stream,
    protocol: string,
    keys: ReturnType<typeof requesterKeys> | null,
    payload: Uint8Array,
    maxResponseBytes: number,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    // Caller-sealed: the payload goes as it is, and the head's ephemeral key stays zero.
    const sealed = keys ? seal(keys.requestKey, payload, protocol) : payload;
    const head = new Uint8Array(REQUEST_HEAD_BYTES);
    head[0] = FRAME_REQUEST_HEAD;
    if (keys) head.set(keys.ephemeralPublic, 1);
    head.set(u32le(sealed.length), 1 + EPHEMERAL_BYTES);
    // Responses count against the node's global budget (the caller bounds them per call).
    const lease = this.guard.budget.lease(undefined);
    const inbox = new StreamInbox(stream, (n) => lease.take(n));
    const reader = new FrameReader(inbox);
    // Write and read at once, so a refusal (busy, too large) stops the upload at once.
    const stopWriting = new AbortController();
    const writeSignal = AbortSignal.any([signal, stopWriting.signal]);
    const writing = (async () => {
      await writeFrame(stream, head, writeSignal);
      await writeBody(stream, sealed, writeSignal);
      await stream.close({ signal: writeSignal });
    })();
    writing.catch(() => undefined);
    try {
      const responseHead = await reader.next();
      if (responseHead[0] !== FRAME_RESPONSE_HEAD || responseHead.length !== 6) throw new ProtocolError('bad response head');
      const status = responseHead[1];
      const length = readU32le(responseHead, 2);
      if (status === STATUS_ERROR || status === STATUS_BUSY) {
        stopWriting.abort();
        const text = new TextDecoder().decode(await reader.body(length, MAX_ERROR_BYTES));
        throw status === STATUS_BUSY ? new PeerBusyError(text) : new RemoteError(text);
      }
      if (status !== STATUS_OK) throw new ProtocolError(`unknown status ${status}`);
      const body = await reader.body(length, maxResponseBytes + (keys ? SEAL_OVERHEAD : 0));
      await writing;
      if (!keys) return body;
      try {
        return open(keys.responseKey, body, protocol);
      } catch (e) {
        if (e instanceof DecryptError) throw new ProtocolError(e.message);
        throw e;
      }
    } finally {
      stopWriting.abort();
      lease.release();
      inbox.detach();
      dropUntilClosed(stream, new ProtocolError('stream left open after the response'));
    }
  }

  private async serve(stream: Stream, connection: Connection, protocol: string, handler: RequestHandler, limits: RequestLimits): Promise<void> {
    // The handler's signal fires at the deadline or when the requester goes away, so work stops.
    const gone = new AbortController();
    stream.addEventListener('close', () => gone.abort(new PeerGoneError('stream closed')), { once: true });
    const signal = AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), gone.signal]);
    const remoteKey = connection.remotePeer.publicKey;
    await serveCall(
      stream,
      {
        ownSeed: this.identity.ed25519Seed,
        peerId: connection.remotePeer.toString(),
        remotePublicKey: remoteKey?.type === 'Ed25519' ? remoteKey.raw : undefined,
        protocol,
        handler,
        limits,
        guard: this.guard,
      },
      signal,
    );
  }
}

/** Resolves at the stream's first message, end or close, or after `ms`; the message is dropped. */
function firstActivity(stream: InboundStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const events = ['message', 'end', 'close'];
    const done = () => {
      clearTimeout(timer);
      for (const e of events) stream.removeEventListener(e, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    (timer as { unref?: () => void }).unref?.();
    for (const e of events) stream.addEventListener(e, done);
    if (stream.readableEnded || (stream.status !== 'open' && stream.status !== 'closing')) done();
  });
}

/** Rejects as soon as the signal fires, even if the underlying promise never settles. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export { PayloadTooLargeError };
