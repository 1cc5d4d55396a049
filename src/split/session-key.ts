/**
 * The per-session key of split inference (docs/split-inference.md §2a). The open and its answer go
 * through the request/response layer's sealed box (keys bound to both wallets, fresh per call);
 * each carries one side's ephemeral X25519 key, so both ephemerals arrive authenticated and
 * unread by anyone else. From them:
 *   okm = HKDF-SHA256(ikm = X25519(e_u, E_v), salt = session id,
 *                     info = "sprintnet/split/session/v1" ‖ user key ‖ volunteer key ‖ E_u ‖ E_v, 64 bytes)
 * the first 32 bytes seal user → volunteer, the last 32 volunteer → user. Every later message of
 * the session (step, rewind, close and their answers) is one frame:
 *   frame = u8 version 1 ‖ u8 0x10 ‖ session id[16] ‖ u64 counter ‖ XChaCha20-Poly1305(plaintext)
 *   nonce = u8 direction (0 to the volunteer, 1 to the user) ‖ u64 counter ‖ 15 zero bytes
 *   associated data = the frame's first 26 bytes ‖ u8 direction
 * Requests' counters strictly increase; an answer carries its request's counter. So a replayed,
 * reordered or reflected frame, one of another session, or one under another session's key fails.
 * The ephemeral secrets and the keys live only as long as the session, so a later leak of either
 * wallet key opens none of its frames.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { KEY_BYTES, SESSION_ID_BYTES, SPLIT_PROTOCOL_VERSION } from './constants.ts';
import { SplitError } from './errors.ts';

export const TAG_SESSION = 'sprintnet/split/session/v1';
/** The second byte of a frame: distinct from every request and answer kind. */
export const FRAME_KIND = 0x10;
export const FRAME_HEAD_BYTES = 2 + SESSION_ID_BYTES + 8;
export const FRAME_TAG_BYTES = 16;
export const Direction = { toVolunteer: 0, toUser: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export interface SessionKeys {
  readonly toVolunteer: Uint8Array;
  readonly toUser: Uint8Array;
}

const P = 2n ** 255n - 19n;

/** A fresh X25519 key pair for one session. */
export function sessionEphemeral(): { readonly secret: Uint8Array; readonly publicKey: Uint8Array } {
  const secret = x25519.utils.randomSecretKey();
  return { secret, publicKey: x25519.getPublicKey(secret) };
}

/** The other side's ephemeral key must be a canonical, not low-order X25519 point (else the shared secret is predictable). */
function shared(ownSecret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== KEY_BYTES || peerPublic[KEY_BYTES - 1]! & 0x80 || bytesToNumberLE(peerPublic) >= P)
    throw new SplitError('MALFORMED', 'the session key is not a canonical X25519 key');
  try {
    return x25519.getSharedSecret(ownSecret, peerPublic);
  } catch {
    throw new SplitError('MALFORMED', 'the session key is of low order');
  }
}

export interface SessionTranscript {
  readonly sessionId: Uint8Array;
  /** Ed25519 wallet keys of the user and the volunteer. */
  readonly user: Uint8Array;
  readonly volunteer: Uint8Array;
  /** Ephemeral X25519 public keys: the user's (in the open) and the volunteer's (in the opened answer). */
  readonly userEphemeral: Uint8Array;
  readonly volunteerEphemeral: Uint8Array;
}

/** Both directions' keys, from this side's ephemeral secret and the other side's ephemeral public key. */
export function deriveSessionKeys(ownSecret: Uint8Array, peerEphemeral: Uint8Array, t: SessionTranscript): SessionKeys {
  const info = concatBytes(new TextEncoder().encode(TAG_SESSION), t.user, t.volunteer, t.userEphemeral, t.volunteerEphemeral);
  const okm = hkdf(sha256, shared(ownSecret, peerEphemeral), t.sessionId, info, 64);
  return { toVolunteer: okm.slice(0, 32), toUser: okm.slice(32) };
}

function nonce(direction: Direction, counter: number): Uint8Array {
  const n = new Uint8Array(24);
  n[0] = direction;
  new DataView(n.buffer).setBigUint64(1, BigInt(counter), true);
  return n;
}

function head(sessionId: Uint8Array, counter: number): Uint8Array {
  const h = new Uint8Array(FRAME_HEAD_BYTES);
  h[0] = SPLIT_PROTOCOL_VERSION;
  h[1] = FRAME_KIND;
  h.set(sessionId, 2);
  new DataView(h.buffer).setBigUint64(2 + SESSION_ID_BYTES, BigInt(counter), true);
  return h;
}

const aad = (h: Uint8Array, direction: Direction): Uint8Array => concatBytes(h, Uint8Array.of(direction));

export function sealFrame(key: Uint8Array, direction: Direction, sessionId: Uint8Array, counter: number, plaintext: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new SplitError('BAD_ARGUMENT', `counter ${counter} is not a non-negative safe integer`);
  const h = head(sessionId, counter);
  return concatBytes(h, xchacha20poly1305(key, nonce(direction, counter), aad(h, direction)).encrypt(plaintext));
}

/** Is this a frame (vs. a request or answer in the clear, such as a refusal sent before any key could be used)? */
export const isFrame = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === SPLIT_PROTOCOL_VERSION && bytes[1] === FRAME_KIND;

/** The clear head of a frame: which session, which counter. Everything else waits for the key. */
export function frameHead(bytes: Uint8Array): { readonly sessionId: Uint8Array; readonly counter: number } {
  if (!isFrame(bytes) || bytes.length < FRAME_HEAD_BYTES + FRAME_TAG_BYTES) throw new SplitError('MALFORMED', 'not a session frame');
  const counter = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(2 + SESSION_ID_BYTES, true);
  if (counter > BigInt(Number.MAX_SAFE_INTEGER)) throw new SplitError('MALFORMED', 'frame counter out of range');
  return { sessionId: bytes.slice(2, 2 + SESSION_ID_BYTES), counter: Number(counter) };
}

/** Opens a frame under `key`; a frame of another key, session, direction or counter is BAD_SESSION. */
export function openFrame(key: Uint8Array, direction: Direction, bytes: Uint8Array): Uint8Array {
  const { counter } = frameHead(bytes);
  const h = bytes.subarray(0, FRAME_HEAD_BYTES);
  try {
    return xchacha20poly1305(key, nonce(direction, counter), aad(h, direction)).decrypt(bytes.subarray(FRAME_HEAD_BYTES));
  } catch {
    throw new SplitError('BAD_SESSION', 'the frame fails authentication under this session’s key');
  }
}

/**
 * The user's end of a keyed session: seals each request with the next counter and opens only the
 * answer that carries it.
 */
export class UserChannel {
  private counter = 0;
  constructor(
    readonly sessionId: Uint8Array,
    private readonly keys: SessionKeys,
  ) {}

  seal(plaintext: Uint8Array): { readonly frame: Uint8Array; readonly counter: number } {
    const counter = this.counter++;
    return { frame: sealFrame(this.keys.toVolunteer, Direction.toVolunteer, this.sessionId, counter, plaintext), counter };
  }

  /** The answer to request `counter`: the same session and counter, under the volunteer's key; anything else is BAD_RESPONSE. */
  open(answer: Uint8Array, counter: number): Uint8Array {
    const h = frameHead(answer);
    if (h.counter !== counter || !h.sessionId.every((v, i) => v === this.sessionId[i]))
      throw new SplitError('BAD_RESPONSE', `the answer is for counter ${h.counter} of another or this session, not ${counter}`);
    try {
      return openFrame(this.keys.toUser, Direction.toUser, answer);
    } catch (e) {
      throw new SplitError('BAD_RESPONSE', (e as Error).message, { cause: e });
    }
  }
}

/** The volunteer's end: accepts only frames under the session's key with a counter above the last one accepted. */
export class VolunteerChannel {
  private last = -1;
  constructor(
    readonly sessionId: Uint8Array,
    private readonly keys: SessionKeys,
  ) {}

  /** The request's plaintext and its counter; a replayed or reordered frame is OUT_OF_ORDER, a forged one BAD_SESSION. */
  open(frame: Uint8Array): { readonly plaintext: Uint8Array; readonly counter: number } {
    const { counter } = frameHead(frame);
    if (counter <= this.last) throw new SplitError('OUT_OF_ORDER', `frame counter ${counter}, the last accepted was ${this.last}`);
    const plaintext = openFrame(this.keys.toVolunteer, Direction.toVolunteer, frame);
    this.last = counter;
    return { plaintext, counter };
  }

  seal(answer: Uint8Array, counter: number): Uint8Array {
    return sealFrame(this.keys.toUser, Direction.toUser, this.sessionId, counter, answer);
  }
}
