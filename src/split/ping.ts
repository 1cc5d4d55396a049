/**
 * `split-ping` (docs/split-inference.md §9a): how a user measures a volunteer without opening a
 * session. The request names a fresh nonce, the model hash and k; the answer echoes the nonce and
 * gives the volunteer's load (open sessions, its limit) and its own measured step time for layers
 * [k, L), signed by its wallet key over the user's key and the request, so an old answer does not
 * pass for a new one and a figure cannot be altered on the way. The round trip is timed by the
 * user. A ping opens no session, runs no layer and costs the volunteer one signature; a volunteer
 * answers at most `PING_BURST` pings per user and then one per `PING_REFILL_MS`, refuses a nonce it
 * saw from the same user within `PING_NONCE_TTL_MS`, and keeps at most `MAX_PING_PEERS` users.
 *
 * A separate request/response protocol (not a message of codec.ts), so the session code and its
 * limits are untouched and a volunteer that does not answer pings still serves sessions.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import type { SprintnetNode } from '../node/node.ts';
import { MessageType, verifyTyped, type SigningDomain } from '../wallet/signing.ts';
import { HASH_BYTES, SIGNATURE_BYTES } from './constants.ts';
import type { ProofSigner } from './proof.ts';
import { peerPublicKey } from './transport.ts';

export const PING_RPC_NAME = 'split-ping';
export const PING_VERSION = 1;
export const PING_NONCE_BYTES = 16;
/** Signed payloads start with this tag (under MessageType.InferenceResponse, whose receipts start with the byte 1). */
export const TAG_PING = 'sprintnet/split/ping/v1';
export const PING_REQUEST_BYTES = 1 + 1 + PING_NONCE_BYTES + HASH_BYTES + 2;
export const PONG_BYTES = 1 + 1 + PING_NONCE_BYTES + 2 + 2 + 8 + SIGNATURE_BYTES;
export const PING_REFUSAL_BYTES = 1 + 1 + PING_NONCE_BYTES + 1 + 4;
/** Pings a volunteer answers per user at once, then one more per refill period. */
export const PING_BURST = 4;
export const PING_REFILL_MS = 5_000;
/** A nonce is remembered (per user) this long; the same nonce again within it is refused. */
export const PING_NONCE_TTL_MS = 60_000;
/** Users a volunteer keeps rate state for; when all are active, new users are refused. */
export const MAX_PING_PEERS = 1024;
/** The largest step time a pong may claim, ms. */
export const MAX_PING_STEP_MS = 1e6;
/** The user's deadline for one ping (dial excluded). */
export const PING_TIMEOUT_MS = 5_000;

const KIND_PING = 1;
const KIND_PONG = 2;
const KIND_REFUSED = 3;
const tagBytes = new TextEncoder().encode(TAG_PING);

export type PingRefusal = 'RATE_LIMITED' | 'REPLAYED' | 'WRONG_MODEL' | 'MALFORMED';
const REFUSALS: readonly PingRefusal[] = ['RATE_LIMITED', 'REPLAYED', 'WRONG_MODEL', 'MALFORMED'];

/** A refused ping (the volunteer's reason), or an answer the user rejects (`BAD_ANSWER`). */
export class PingError extends Error {
  override readonly name = 'PingError';
  constructor(
    readonly code: PingRefusal | 'BAD_ANSWER',
    message: string,
    /** For RATE_LIMITED: when the volunteer will answer again. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

export interface PingRequest {
  readonly nonce: Uint8Array;
  readonly modelHash: Uint8Array;
  readonly k: number;
}

export interface Pong {
  readonly nonce: Uint8Array;
  readonly openSessions: number;
  readonly sessionLimit: number;
  /** The volunteer's own measured time for one decode step of layers [k, L), ms; 0 = not measured. */
  readonly stepMs: number;
  readonly signature: Uint8Array;
}

export type PingAnswer =
  ({ readonly kind: 'pong' } & Pong) | { readonly kind: 'refused'; readonly nonce: Uint8Array; readonly code: PingRefusal; readonly retryAfterMs: number };

export function encodePing(p: PingRequest): Uint8Array {
  if (!Number.isInteger(p.k) || p.k < 1 || p.k > 0xffff) throw new RangeError(`k ${p.k} outside [1, 65535]`);
  return new BinaryWriter().u8(PING_VERSION).u8(KIND_PING).fixed(p.nonce, PING_NONCE_BYTES).fixed(p.modelHash, HASH_BYTES).u16(p.k).finish();
}

export function decodePing(bytes: Uint8Array): PingRequest {
  if (bytes.length !== PING_REQUEST_BYTES) throw new DecodeError(`a ping has ${PING_REQUEST_BYTES} bytes, got ${bytes.length}`);
  const r = new BinaryReader(bytes);
  const version = r.u8();
  const kind = r.u8();
  if (version !== PING_VERSION || kind !== KIND_PING) throw new DecodeError(`not a ping: version ${version}, kind ${kind}`);
  const p = { nonce: r.fixed(PING_NONCE_BYTES), modelHash: r.fixed(HASH_BYTES), k: r.u16() };
  r.end();
  if (p.k < 1) throw new DecodeError('k is 0');
  return p;
}

/** The pong without its signature: the part the signature covers after the tag, the user's key and the request. */
function pongBody(p: Omit<Pong, 'signature'>): Uint8Array {
  return new BinaryWriter().u8(PING_VERSION).u8(KIND_PONG).fixed(p.nonce, PING_NONCE_BYTES).u16(p.openSessions).u16(p.sessionLimit).f64(p.stepMs).finish();
}

export const pongSigningPayload = (userKey: Uint8Array, request: Uint8Array, body: Uint8Array): Uint8Array =>
  new BinaryWriter()
    .fixed(tagBytes, tagBytes.length)
    .fixed(userKey, 32)
    .fixed(request, PING_REQUEST_BYTES)
    .fixed(body, PONG_BYTES - SIGNATURE_BYTES)
    .finish();

export const pingDomain = (networkId: string): SigningDomain => ({ type: MessageType.InferenceResponse, networkId });

export function decodePingAnswer(bytes: Uint8Array): PingAnswer {
  const r = new BinaryReader(bytes);
  const version = r.u8();
  const kind = r.u8();
  if (version !== PING_VERSION) throw new DecodeError(`ping answer version ${version}`);
  const nonce = r.fixed(PING_NONCE_BYTES);
  if (kind === KIND_REFUSED) {
    const c = r.u8();
    const retryAfterMs = r.u32();
    r.end();
    const code = REFUSALS[c - 1];
    if (!code) throw new DecodeError(`unknown ping refusal ${c}`);
    return { kind: 'refused', nonce, code, retryAfterMs };
  }
  if (kind !== KIND_PONG) throw new DecodeError(`ping answer kind ${kind}`);
  const openSessions = r.u16();
  const sessionLimit = r.u16();
  const stepMs = r.f64();
  const signature = r.fixed(SIGNATURE_BYTES);
  r.end();
  if (sessionLimit < 1) throw new DecodeError('session limit 0');
  if (stepMs < 0 || stepMs > MAX_PING_STEP_MS) throw new DecodeError(`step time ${stepMs} ms outside [0, ${MAX_PING_STEP_MS}]`);
  return { kind: 'pong', nonce, openSessions, sessionLimit, stepMs, signature };
}

function encodeRefusal(nonce: Uint8Array, code: PingRefusal, retryAfterMs = 0): Uint8Array {
  return new BinaryWriter()
    .u8(PING_VERSION)
    .u8(KIND_REFUSED)
    .fixed(nonce, PING_NONCE_BYTES)
    .u8(REFUSALS.indexOf(code) + 1)
    .u32(Math.min(0xffffffff, Math.max(0, Math.ceil(retryAfterMs))))
    .finish();
}

export interface PingServerOptions {
  /** The volunteer's wallet key (the one its receipts are signed with). */
  readonly signer: ProofSigner;
  readonly networkId: string;
  readonly modelHash: Uint8Array;
  readonly lowestK: number;
  readonly highestK: number;
  readonly load: () => { readonly openSessions: number; readonly sessionLimit: number };
  /** Its measured time for one decode step of layers [k, L), ms (0 when it has not measured). */
  readonly stepMs: (k: number) => number;
  readonly now?: () => number;
  readonly burst?: number;
  readonly refillMs?: number;
  readonly maxPeers?: number;
}

interface PeerState {
  tokens: number;
  updatedMs: number;
  readonly nonces: Map<string, number>;
}

/** The volunteer's side: rate-limited per user key, nonces remembered, nothing shared with the sessions. */
export class PingServer {
  private readonly peers = new Map<string, PeerState>();
  /** Pings answered with a pong, and refused. */
  answered = 0;
  refused = 0;

  constructor(private readonly o: PingServerOptions) {
    if (!(o.lowestK >= 1 && o.highestK >= o.lowestK)) throw new RangeError(`k range [${o.lowestK}, ${o.highestK}] is empty`);
  }

  private get now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Takes one token of `peer`'s bucket; the wait until the next one when it has none. */
  private take(peer: string): { ok: true; state: PeerState } | { ok: false; retryAfterMs: number } {
    const burst = this.o.burst ?? PING_BURST;
    const refill = this.o.refillMs ?? PING_REFILL_MS;
    const now = this.now;
    let s = this.peers.get(peer);
    if (!s) {
      if (this.peers.size >= (this.o.maxPeers ?? MAX_PING_PEERS)) this.forgetIdle(now);
      if (this.peers.size >= (this.o.maxPeers ?? MAX_PING_PEERS)) return { ok: false, retryAfterMs: refill };
      s = { tokens: burst, updatedMs: now, nonces: new Map() };
      this.peers.set(peer, s);
    }
    s.tokens = Math.min(burst, s.tokens + (now - s.updatedMs) / refill);
    s.updatedMs = now;
    if (s.tokens < 1) return { ok: false, retryAfterMs: (1 - s.tokens) * refill };
    s.tokens -= 1;
    return { ok: true, state: s };
  }

  /** Drops users whose bucket is full again and whose nonces have all expired: they hold nothing to remember. */
  private forgetIdle(now: number): void {
    const burst = this.o.burst ?? PING_BURST;
    const refill = this.o.refillMs ?? PING_REFILL_MS;
    for (const [peer, s] of this.peers) {
      const full = s.tokens + (now - s.updatedMs) / refill >= burst;
      const latest = Math.max(0, ...s.nonces.values());
      if (full && now - latest >= PING_NONCE_TTL_MS) this.peers.delete(peer);
    }
  }

  async handle(request: Uint8Array, peer: Uint8Array): Promise<Uint8Array> {
    let p: PingRequest;
    try {
      p = decodePing(request);
    } catch {
      this.refused++;
      return encodeRefusal(new Uint8Array(PING_NONCE_BYTES), 'MALFORMED');
    }
    const refuse = (code: PingRefusal, retryAfterMs = 0) => (this.refused++, encodeRefusal(p.nonce, code, retryAfterMs));
    const taken = this.take(bytesToHex(peer));
    if (!taken.ok) return refuse('RATE_LIMITED', taken.retryAfterMs);
    const now = this.now;
    const nonces = taken.state.nonces;
    for (const [n, at] of nonces) if (now - at >= PING_NONCE_TTL_MS) nonces.delete(n);
    const nonce = bytesToHex(p.nonce);
    if (nonces.has(nonce)) return refuse('REPLAYED');
    nonces.set(nonce, now);
    if (bytesToHex(p.modelHash) !== bytesToHex(this.o.modelHash) || p.k < this.o.lowestK || p.k > this.o.highestK) return refuse('WRONG_MODEL');
    const load = this.o.load();
    const step = this.o.stepMs(p.k);
    const body = pongBody({
      nonce: p.nonce,
      openSessions: Math.min(0xffff, Math.max(0, Math.floor(load.openSessions))),
      sessionLimit: Math.min(0xffff, Math.max(1, Math.floor(load.sessionLimit))),
      stepMs: Number.isFinite(step) && step > 0 ? Math.min(step, MAX_PING_STEP_MS) : 0,
    });
    const signature = await this.o.signer.sign(pingDomain(this.o.networkId), pongSigningPayload(peer, request, body));
    this.answered++;
    const out = new Uint8Array(PONG_BYTES);
    out.set(body);
    out.set(signature, body.length);
    return out;
  }
}

/** What the user learns from one ping. */
export interface PingResult {
  /** Measured round trip of the sealed call, ms (sealing, the network both ways, the volunteer's signature). */
  readonly rttMs: number;
  readonly openSessions: number;
  readonly sessionLimit: number;
  /** The volunteer's claimed step time for layers [k, L), ms (0 = not measured). */
  readonly stepMs: number;
}

/**
 * The user's side over any call (`call` sends the plaintext sealed to `volunteerKey` and returns the
 * answer's plaintext). Throws PingError: the volunteer's refusal, or BAD_ANSWER for an answer that
 * echoes another nonce, is not signed by `volunteerKey` over this request, or does not decode.
 */
export async function ping(
  call: (request: Uint8Array) => Promise<Uint8Array>,
  o: { readonly volunteerKey: Uint8Array; readonly userKey: Uint8Array; readonly networkId: string; readonly modelHash: Uint8Array; readonly k: number },
): Promise<PingResult> {
  const nonce = crypto.getRandomValues(new Uint8Array(PING_NONCE_BYTES));
  const request = encodePing({ nonce, modelHash: o.modelHash, k: o.k });
  const start = performance.now();
  const bytes = await call(request);
  const rttMs = performance.now() - start;
  let a: PingAnswer;
  try {
    a = decodePingAnswer(bytes);
  } catch (e) {
    throw new PingError('BAD_ANSWER', `the ping answer does not decode: ${(e as Error).message}`);
  }
  if (bytesToHex(a.nonce) !== bytesToHex(nonce)) throw new PingError('BAD_ANSWER', 'the answer echoes another nonce (replayed or forged)');
  if (a.kind === 'refused') throw new PingError(a.code, `ping refused: ${a.code}${a.retryAfterMs ? `, retry in ${a.retryAfterMs} ms` : ''}`, a.retryAfterMs);
  const body = bytes.subarray(0, PONG_BYTES - SIGNATURE_BYTES);
  if (!verifyTyped(o.volunteerKey, pingDomain(o.networkId), pongSigningPayload(o.userKey, request, body), a.signature))
    throw new PingError('BAD_ANSWER', 'the pong is not signed by the volunteer over this request');
  return { rttMs, openSessions: a.openSessions, sessionLimit: a.sessionLimit, stepMs: a.stepMs };
}

/** Answers pings on a node (sealed request/response, the peer authenticated by libp2p). */
export async function servePing(node: SprintnetNode, server: PingServer): Promise<void> {
  await node.handle(PING_RPC_NAME, (request, context) => server.handle(request, peerPublicKey(context.peerId)), {
    maxRequestBytes: PING_REQUEST_BYTES,
    maxResponseBytes: PONG_BYTES,
    timeoutMs: PING_TIMEOUT_MS,
    maxInboundStreams: 2,
  });
}

/** Pings `peerId` through `node` (which must reach it already, or be able to dial it). */
export function pingPeer(
  node: Pick<SprintnetNode, 'peerId' | 'request'>,
  peerId: string,
  o: { readonly networkId: string; readonly modelHash: Uint8Array; readonly k: number; readonly timeoutMs?: number },
): Promise<PingResult> {
  return ping((request) => node.request(peerId, PING_RPC_NAME, request, { maxResponseBytes: PONG_BYTES, timeoutMs: o.timeoutMs ?? PING_TIMEOUT_MS }), {
    volunteerKey: peerPublicKey(peerId),
    userKey: peerPublicKey(node.peerId),
    networkId: o.networkId,
    modelHash: o.modelHash,
    k: o.k,
  });
}

/** The estimate the ranking orders by: the measured round trip plus the volunteer's own step time. */
export const pingStepEstimate = (r: PingResult): number => r.rttMs + r.stepMs;

/**
 * The volunteer's step time for layers [k, L), from its measured whole-model decode rate (the
 * rate it announces): the layers are alike, so [k, L) takes (L − k) / L of a whole token.
 */
export function stepMsFromRate(wholeModelTokensPerSecond: number, numLayers: number): (k: number) => number {
  if (!(wholeModelTokensPerSecond > 0) || !Number.isFinite(wholeModelTokensPerSecond)) return () => 0;
  return (k) => ((1000 / wholeModelTokensPerSecond) * (numLayers - k)) / numLayers;
}
