/**
 * Request/response over libp2p streams, one stream per call, end-to-end encrypted (sealed-box.ts).
 * Framing is in framing.ts: ≤ 16 KiB length-prefixed frames, so a 1 MiB payload crosses a WebRTC
 * data channel as ~64 frames. Every call has a deadline: a peer that disappears mid-request turns
 * into a RequestTimeoutError (silent) or PeerGoneError (stream reset), never a hang.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { protocolName } from './config.ts';
import {
  PayloadTooLargeError,
  PeerGoneError,
  ProtocolError,
  RemoteError,
  RequestAbortedError,
  RequestError,
  RequestTimeoutError,
} from './errors.ts';
import {
  FRAME_REQUEST_HEAD,
  FRAME_RESPONSE_HEAD,
  FrameReader,
  readU32le,
  u32le,
  writeBody,
  writeFrame,
} from './framing.ts';
import { DecryptError, EPHEMERAL_BYTES, NONCE_BYTES, TAG_BYTES, open, requesterKeys, responderKeys, seal } from './sealed-box.ts';

const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
const STATUS_OK = 0;
const STATUS_ERROR = 1;
const MAX_ERROR_BYTES = 1024;

export interface RequestLimits {
  /** Largest plaintext request accepted by the handler. */
  maxRequestBytes: number;
  /** Largest plaintext response the caller accepts. */
  maxResponseBytes: number;
  /** Whole-call deadline in ms (dial, send, handler, receive). */
  timeoutMs: number;
  /** Concurrent inbound calls per connection. */
  maxInboundStreams: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxRequestBytes: 4 * 1024 * 1024,
  maxResponseBytes: 4 * 1024 * 1024,
  timeoutMs: 30_000,
  maxInboundStreams: 8,
};

export interface RequestContext {
  /** Remote peer id (its wallet identity). */
  peerId: string;
  /** Fires when the call's deadline passes or the stream dies; stop work then. */
  signal: AbortSignal;
}

export type RequestHandler = (request: Uint8Array, context: RequestContext) => Promise<Uint8Array>;

export interface RequestOptions extends Partial<Pick<RequestLimits, 'maxResponseBytes' | 'timeoutMs'>> {
  signal?: AbortSignal;
}

interface OwnKey {
  ed25519Seed: Uint8Array;
}

export class RequestResponse {
  constructor(
    private readonly libp2p: Libp2p,
    private readonly identity: OwnKey,
    private readonly networkId: string,
  ) {}

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
      // Prefer a direct (unlimited) connection, so a call does not ride a relay that may go away.
      const direct = this.libp2p
        .getConnections(remote)
        .filter((c) => c.status === 'open' && c.limits == null)
        .sort((x, y) => Number(y.remoteAddr.toString().includes('/webrtc')) - Number(x.remoteAddr.toString().includes('/webrtc')))[0];
      stream = await untilAborted(
        direct
          ? direct.newStream(protocol, { signal })
          : this.libp2p.dialProtocol(remote, protocol, { signal, runOnLimitedConnection: true }),
        signal,
      );
      const s = stream;
      const onAbort = () => s.abort(new Error('request aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await untilAborted(this.exchange(s, protocol, remoteKey.raw, payload, maxResponseBytes, signal), signal);
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
    remotePublicKey: Uint8Array,
    payload: Uint8Array,
    maxResponseBytes: number,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const keys = requesterKeys(this.identity.ed25519Seed, remotePublicKey, protocol);
    const sealed = seal(keys.requestKey, payload, protocol);
    const head = new Uint8Array(1 + EPHEMERAL_BYTES + 4);
    head[0] = FRAME_REQUEST_HEAD;
    head.set(keys.ephemeralPublic, 1);
    head.set(u32le(sealed.length), 1 + EPHEMERAL_BYTES);
    const reader = new FrameReader(stream);
    await writeFrame(stream, head, signal);
    await writeBody(stream, sealed, signal);
    await stream.close({ signal });

    const responseHead = await reader.next();
    if (responseHead[0] !== FRAME_RESPONSE_HEAD || responseHead.length !== 6) throw new ProtocolError('bad response head');
    const status = responseHead[1];
    const length = readU32le(responseHead, 2);
    if (status === STATUS_ERROR) {
      const text = await reader.body(length, MAX_ERROR_BYTES);
      throw new RemoteError(new TextDecoder().decode(text));
    }
    if (status !== STATUS_OK) throw new ProtocolError(`unknown status ${status}`);
    const body = await reader.body(length, maxResponseBytes + SEAL_OVERHEAD);
    try {
      return open(keys.responseKey, body, protocol);
    } catch (e) {
      if (e instanceof DecryptError) throw new ProtocolError(e.message);
      throw e;
    }
  }

  private async serve(
    stream: Stream,
    connection: Connection,
    protocol: string,
    handler: RequestHandler,
    limits: RequestLimits,
  ): Promise<void> {
    // The handler's signal fires at the deadline or when the requester goes away, so work stops.
    const gone = new AbortController();
    stream.addEventListener('close', () => gone.abort(new Error('stream closed')), { once: true });
    const signal = AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), gone.signal]);
    const onAbort = () => stream.abort(new Error('request deadline passed'));
    signal.addEventListener('abort', onAbort, { once: true });
    const respond = async (status: number, body: Uint8Array) => {
      const head = new Uint8Array(6);
      head[0] = FRAME_RESPONSE_HEAD;
      head[1] = status;
      head.set(u32le(body.length), 2);
      await writeFrame(stream, head, signal);
      await writeBody(stream, body, signal);
      await stream.close({ signal });
    };
    try {
      const remoteKey = connection.remotePeer.publicKey;
      if (remoteKey?.type !== 'Ed25519') throw new ProtocolError('remote peer has no Ed25519 identity');
      const reader = new FrameReader(stream);
      const head = await reader.next();
      if (head[0] !== FRAME_REQUEST_HEAD || head.length !== 1 + EPHEMERAL_BYTES + 4) throw new ProtocolError('bad request head');
      const ephemeral = head.slice(1, 1 + EPHEMERAL_BYTES);
      const length = readU32le(head, 1 + EPHEMERAL_BYTES);
      if (length > limits.maxRequestBytes + SEAL_OVERHEAD) {
        await respond(STATUS_ERROR, new TextEncoder().encode(`request of ${length} bytes exceeds limit`));
        return;
      }
      const sealed = await reader.body(length, limits.maxRequestBytes + SEAL_OVERHEAD);
      const keys = responderKeys(this.identity.ed25519Seed, remoteKey.raw, ephemeral, protocol);
      let request: Uint8Array;
      try {
        request = open(keys.requestKey, sealed, protocol);
      } catch {
        await respond(STATUS_ERROR, new TextEncoder().encode('request failed decryption'));
        return;
      }
      let response: Uint8Array;
      try {
        response = await handler(request, { peerId: connection.remotePeer.toString(), signal });
      } catch (e) {
        const message = new TextEncoder().encode(String((e as Error).message ?? e)).slice(0, MAX_ERROR_BYTES);
        await respond(STATUS_ERROR, message);
        return;
      }
      await respond(STATUS_OK, seal(keys.responseKey, response, protocol));
    } catch (e) {
      stream.abort(e instanceof Error ? e : new Error(String(e)));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
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
