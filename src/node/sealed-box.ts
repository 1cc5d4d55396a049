/**
 * End-to-end encryption for request/response payloads, bound to wallet identities.
 *
 * Both sides know each other's Ed25519 public key (it is inside the libp2p peer id, and the
 * connection is authenticated by noise). The requester makes an ephemeral X25519 key e and derives
 *   ikm  = X25519(e, B) ‖ X25519(a, B)       (a, B: Montgomery forms of A's secret and B's public key)
 *   keys = HKDF-SHA256(ikm, salt = e_pub, info = "sprintnet/e2e/v1" ‖ A_pub ‖ B_pub ‖ protocol) → 64 bytes
 * The first 32 bytes seal the request, the last 32 the response. The ephemeral term gives each
 * call fresh keys; the static term proves to B that only A's wallet could have made them, and
 * only B's wallet can open them. Each message is XChaCha20-Poly1305 with a random 24-byte nonce
 * and the protocol name as associated data.
 *
 * Keys from the other side are checked before use, and a bad one is a SealedBoxKeyError (a
 * DecryptError): the peer's Ed25519 key must pass checkPublicKey (canonical, not small order, in
 * the prime-order subgroup: a small-order key would make the static term predictable, a
 * mixed-order one an alias of another identity), and the ephemeral X25519 key must be 32 bytes,
 * canonical (top bit clear, u < 2^255 − 19) and not of low order (its shared secret would be 0).
 *
 * Forward secrecy is one-sided. A's ephemeral secret is gone after the call, so a later leak of
 * A's wallet key reveals nothing. B has no ephemeral key: whoever later learns B's wallet key and
 * recorded a call can recompute both terms (b·e_pub and b·A) and read the request *and* the
 * response. See docs/security.md.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { concatBytes as concat } from '@noble/hashes/utils.js';
import { publicKeyProblem } from '../wallet/signing.ts';

const INFO_TAG = new TextEncoder().encode('sprintnet/e2e/v1');
export const NONCE_BYTES = 24;
export const EPHEMERAL_BYTES = 32;
export const TAG_BYTES = 16;

export class DecryptError extends Error {
  override readonly name: string = 'DecryptError';
}

/** Which key was refused: the requester's ephemeral X25519 key, or a side's Ed25519 wallet key. */
export type SealedBoxKeyRole = 'ephemeral' | 'requester' | 'responder';

/** A key from the other side cannot be used (see the file comment). No keys were derived. */
export class SealedBoxKeyError extends DecryptError {
  override readonly name: string = 'SealedBoxKeyError';
  constructor(
    readonly role: SealedBoxKeyRole,
    message: string,
  ) {
    super(message);
  }
}

const X25519_P = 2n ** 255n - 19n;

/** Ed25519 wallet key → X25519 u, after the strict key check. */
function peerMontgomery(ed25519Public: Uint8Array, role: 'requester' | 'responder'): Uint8Array {
  const problem = publicKeyProblem(ed25519Public);
  if (problem) throw new SealedBoxKeyError(role, `${role} Ed25519 key refused: ${problem}`);
  return ed25519.utils.toMontgomery(ed25519Public);
}

/**
 * The static term X25519(a, B) is the same on every call between two wallets, and so are each
 * side's own public key and Montgomery secret: they are kept per seed object (a WeakMap, so a
 * dropped identity takes them along; a seed changed in place is noticed by comparing a copy) and
 * per peer key (a bounded map). Only valid peer keys get there: a refused one throws first. The
 * ephemeral term stays fresh per call, so the bytes and keys of every call are exactly as before;
 * this removes three of the five scalar multiplications of a requester and two of three of a
 * responder (≈ 6.6 → ≈ 2 ms per call in Node, docs/benchmarks.md §Split inference).
 */
interface OwnKeys {
  readonly seed: Uint8Array;
  readonly x: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly statics: Map<string, { readonly peerX: Uint8Array; readonly term: Uint8Array }>;
}
const MAX_STATIC_PEERS = 1024;
const ownCache = new WeakMap<Uint8Array, OwnKeys>();
const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function own(seed: Uint8Array): OwnKeys {
  const have = ownCache.get(seed);
  if (have && have.seed.length === seed.length && have.seed.every((v, i) => v === seed[i])) return have;
  const keys = { seed: seed.slice(), x: ed25519.utils.toMontgomerySecret(seed), publicKey: ed25519.getPublicKey(seed), statics: new Map() };
  ownCache.set(seed, keys);
  return keys;
}

function staticTerm(o: OwnKeys, peerEd25519Public: Uint8Array, role: 'requester' | 'responder'): { peerX: Uint8Array; term: Uint8Array } {
  const key = hexOf(peerEd25519Public);
  const have = o.statics.get(key);
  if (have) return have;
  const peerX = peerMontgomery(peerEd25519Public, role);
  const entry = { peerX, term: x25519.getSharedSecret(o.x, peerX) };
  if (o.statics.size >= MAX_STATIC_PEERS) o.statics.delete(o.statics.keys().next().value!);
  o.statics.set(key, entry);
  return entry;
}

/** X25519 with a peer-chosen u: any failure of the peer's point is a typed error. */
function ephemeralShared(ownX: Uint8Array, ephemeralPublic: Uint8Array): Uint8Array {
  if (!(ephemeralPublic instanceof Uint8Array) || ephemeralPublic.length !== EPHEMERAL_BYTES) {
    throw new SealedBoxKeyError('ephemeral', `ephemeral key must be ${EPHEMERAL_BYTES} bytes`);
  }
  // The length was checked above, so the last byte exists.
  if (ephemeralPublic[EPHEMERAL_BYTES - 1]! & 0x80 || bytesToNumberLE(ephemeralPublic) >= X25519_P) {
    throw new SealedBoxKeyError('ephemeral', 'ephemeral key is not a canonical X25519 encoding');
  }
  try {
    return x25519.getSharedSecret(ownX, ephemeralPublic);
  } catch {
    // noble refuses the low-order u values (0, 1, p − 1 and the order-8 points) before the ladder.
    throw new SealedBoxKeyError('ephemeral', 'ephemeral key is of low order');
  }
}

export interface SessionKeys {
  requestKey: Uint8Array;
  responseKey: Uint8Array;
}

function deriveKeys(
  ephemeralTerm: Uint8Array,
  staticTerm: Uint8Array,
  ephemeralPublic: Uint8Array,
  requesterPublic: Uint8Array,
  responderPublic: Uint8Array,
  protocol: string,
): SessionKeys {
  const ikm = concat(ephemeralTerm, staticTerm);
  const info = concat(INFO_TAG, requesterPublic, responderPublic, new TextEncoder().encode(protocol));
  const okm = hkdf(sha256, ikm, ephemeralPublic, info, 64);
  return { requestKey: okm.slice(0, 32), responseKey: okm.slice(32) };
}

/**
 * Requester side: returns the keys and the ephemeral public key to send in the request header.
 * Throws SealedBoxKeyError if the responder's key is unusable.
 */
export function requesterKeys(ownSeed: Uint8Array, responderEd25519Public: Uint8Array, protocol: string): SessionKeys & { ephemeralPublic: Uint8Array } {
  const me = own(ownSeed);
  const { peerX: responderX, term } = staticTerm(me, responderEd25519Public, 'responder');
  const ephemeralSecret = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const keys = deriveKeys(x25519.getSharedSecret(ephemeralSecret, responderX), term, ephemeralPublic, me.publicKey, responderEd25519Public, protocol);
  return { ...keys, ephemeralPublic };
}

/**
 * Responder side, from the requester's (authenticated) public key and ephemeral key. Throws
 * SealedBoxKeyError if either is unusable.
 */
export function responderKeys(ownSeed: Uint8Array, requesterEd25519Public: Uint8Array, ephemeralPublic: Uint8Array, protocol: string): SessionKeys {
  const me = own(ownSeed);
  const { term } = staticTerm(me, requesterEd25519Public, 'requester');
  return deriveKeys(ephemeralShared(me.x, ephemeralPublic), term, ephemeralPublic, requesterEd25519Public, me.publicKey, protocol);
}

/** nonce ‖ ciphertext ‖ tag */
export function seal(key: Uint8Array, plaintext: Uint8Array, protocol: string): Uint8Array {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = xchacha20poly1305(key, nonce, new TextEncoder().encode(protocol)).encrypt(plaintext);
  return concat(nonce, sealed);
}

export function open(key: Uint8Array, box: Uint8Array, protocol: string): Uint8Array {
  if (box.length < NONCE_BYTES + TAG_BYTES) throw new DecryptError('sealed payload too short');
  try {
    return xchacha20poly1305(key, box.subarray(0, NONCE_BYTES), new TextEncoder().encode(protocol)).decrypt(box.subarray(NONCE_BYTES));
  } catch {
    throw new DecryptError('payload failed authentication');
  }
}
