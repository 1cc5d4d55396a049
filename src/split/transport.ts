/**
 * How a user reaches a volunteer. The session code sees only `SplitTransport.call(plaintext)`; the
 * transports seal every request to the volunteer's wallet key and every answer to the user's
 * (src/node/sealed-box.ts), so relays and eavesdroppers see ciphertext and the logits are readable
 * by the user alone.
 *  - `MemoryLink`: in-process, through the same sealed boxes (tests, the CLI demo). It can be cut
 *    (failover tests) and shows every outgoing plaintext to an `onRequest` observer before sealing.
 *  - `NodeTransport` / `serveSplit`: over a SprintnetNode's request/response (`split-infer`), which
 *    seals the same way and authenticates the peer's key through libp2p's noise handshake.
 * After an open that set up a session key (session-key.ts), step, rewind and close travel as frames
 * the user sealed itself (`callSession`): in process straight to the volunteer, over libp2p on
 * `split-session`, whose layer frames and authenticates but does not seal again.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { ed25519 } from '@noble/curves/ed25519.js';
import { PeerGoneError, RequestError } from '../node/errors.ts';
import type { SprintnetNode } from '../node/node.ts';
import { open, requesterKeys, responderKeys, seal } from '../node/sealed-box.ts';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME } from './constants.ts';
import { FRAME_HEAD_BYTES, FRAME_TAG_BYTES } from './session-key.ts';
import { SplitError } from './errors.ts';

/** What a transport delivers requests to (SplitVolunteer). */
export interface SplitServer {
  readonly publicKey: Uint8Array;
  /** `sessionKeys`: the transport also delivers this server's session frames, so an open may set up a session key. */
  handle(request: Uint8Array, peer: Uint8Array, context?: { readonly sessionKeys?: boolean }): Promise<Uint8Array>;
  /** A frame of a keyed session (session-key.ts), sealed by the user; absent: sessions are sealed per call only. */
  handleSession?(frame: Uint8Array, peer: Uint8Array): Promise<Uint8Array>;
}

export interface SplitTransport {
  /** The volunteer's Ed25519 public key (its wallet; the receipt must be signed by it). */
  readonly volunteerKey: Uint8Array;
  readonly label: string;
  /** Sends one request's plaintext, returns the answer's plaintext; a dead link throws (RequestError). */
  call(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Sends a frame the caller sealed under its session key and returns the answer frame, unsealed by
   * the link (the user opens it). Absent: every session message goes through `call`.
   */
  callSession?(frame: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  /** Shown each request's plaintext that the user seals itself (the observer hook `call` offers for the rest). */
  observe?(plaintext: Uint8Array): void;
}

const FRAME_OVERHEAD = FRAME_HEAD_BYTES + FRAME_TAG_BYTES;
const MEMORY_PROTOCOL = `/sprintnet/memory/rpc/${SPLIT_RPC_NAME}/1`;

/** An in-process link from one user wallet to one volunteer, sealed like the network's calls. */
export class MemoryLink implements SplitTransport {
  readonly volunteerKey: Uint8Array;
  private readonly userPublic: Uint8Array;
  private cut = false;
  /** Calls made, and sealed bytes sent (request) and received (answer). */
  calls = 0;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    private readonly volunteer: SplitServer,
    private readonly volunteerSeed: Uint8Array,
    private readonly userSeed: Uint8Array,
    private readonly options: { readonly label?: string; readonly onRequest?: (plaintext: Uint8Array) => void } = {},
  ) {
    this.volunteerKey = ed25519.getPublicKey(volunteerSeed);
    this.userPublic = ed25519.getPublicKey(userSeed);
    if (!this.volunteerKey.every((v, i) => v === volunteer.publicKey[i])) throw new SplitError('BAD_ARGUMENT', 'the seed is not the volunteer’s key');
  }

  get label(): string {
    return this.options.label ?? 'in-process volunteer';
  }

  /** Every later call fails as if the volunteer's peer had gone. */
  disconnect(): void {
    this.cut = true;
  }

  async call(request: Uint8Array): Promise<Uint8Array> {
    if (this.cut) throw new PeerGoneError(`${this.label} is gone`);
    this.options.onRequest?.(request);
    const user = requesterKeys(this.userSeed, this.volunteerKey, MEMORY_PROTOCOL);
    const sealedRequest = seal(user.requestKey, request, MEMORY_PROTOCOL);
    this.calls++;
    this.bytesSent += sealedRequest.length;
    // The volunteer's side: keys from the user's static key and the ephemeral key in the head.
    const userPublic = this.userPublic;
    const v = responderKeys(this.volunteerSeed, userPublic, user.ephemeralPublic, MEMORY_PROTOCOL);
    const answer = await this.volunteer.handle(open(v.requestKey, sealedRequest, MEMORY_PROTOCOL), userPublic, {
      sessionKeys: this.volunteer.handleSession !== undefined,
    });
    if (this.cut) throw new PeerGoneError(`${this.label} went away mid-call`);
    const sealedAnswer = seal(v.responseKey, answer, MEMORY_PROTOCOL);
    this.bytesReceived += sealedAnswer.length;
    return open(user.responseKey, sealedAnswer, MEMORY_PROTOCOL);
  }

  async callSession(frame: Uint8Array): Promise<Uint8Array> {
    if (this.cut) throw new PeerGoneError(`${this.label} is gone`);
    if (!this.volunteer.handleSession) throw new SplitError('BAD_ARGUMENT', 'this volunteer takes no session frames');
    this.calls++;
    this.bytesSent += frame.length;
    const answer = await this.volunteer.handleSession(frame, this.userPublic);
    if (this.cut) throw new PeerGoneError(`${this.label} went away mid-call`);
    this.bytesReceived += answer.length;
    return answer;
  }

  observe(plaintext: Uint8Array): void {
    this.options.onRequest?.(plaintext);
  }
}

/** The Ed25519 key inside a libp2p peer id. */
export function peerPublicKey(peerId: string): Uint8Array {
  const key = peerIdFromString(peerId).publicKey;
  if (key?.type !== 'Ed25519') throw new SplitError('BAD_ARGUMENT', `peer ${peerId} has no Ed25519 identity`);
  return key.raw;
}

/**
 * Serves split sessions on a node: `split-infer` (the request/response layer has already opened
 * the sealed box) and, when the server takes them, `split-session`: frames the user sealed under
 * the session key, passed through by the layer (`sealing: 'caller'`) with the peer it authenticated.
 */
export async function serveSplit(node: SprintnetNode, volunteer: SplitServer, timeoutMs = 60_000): Promise<void> {
  const sessionKeys = volunteer.handleSession !== undefined;
  await node.handle(SPLIT_RPC_NAME, (request, context) => volunteer.handle(request, peerPublicKey(context.peerId), { sessionKeys }), {
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    timeoutMs,
  });
  if (volunteer.handleSession) {
    const handleSession = volunteer.handleSession.bind(volunteer);
    await node.handle(SPLIT_SESSION_RPC_NAME, (frame, context) => handleSession(frame, peerPublicKey(context.peerId)), {
      maxRequestBytes: MAX_REQUEST_BYTES + FRAME_OVERHEAD,
      maxResponseBytes: MAX_RESPONSE_BYTES + FRAME_OVERHEAD,
      timeoutMs,
      sealing: 'caller',
    });
  }
}

/** A volunteer reached over the network. */
export class NodeTransport implements SplitTransport {
  readonly volunteerKey: Uint8Array;
  constructor(
    private readonly node: SprintnetNode,
    private readonly peerId: string,
    private readonly timeoutMs = 60_000,
  ) {
    this.volunteerKey = peerPublicKey(peerId);
  }
  get label(): string {
    return `volunteer ${this.peerId.slice(-8)}`;
  }
  call(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.node.request(this.peerId, SPLIT_RPC_NAME, request, { maxResponseBytes: MAX_RESPONSE_BYTES, timeoutMs: this.timeoutMs, signal });
  }
  callSession(frame: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.node.request(this.peerId, SPLIT_SESSION_RPC_NAME, frame, {
      maxResponseBytes: MAX_RESPONSE_BYTES + FRAME_OVERHEAD,
      timeoutMs: this.timeoutMs,
      signal,
      sealing: 'caller',
    });
  }
}

/** Transport failures the user answers with failover (vs. a SplitError from the protocol itself). */
export const isLinkFailure = (e: unknown): boolean => e instanceof RequestError;
