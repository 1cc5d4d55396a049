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
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes as concat } from '@noble/hashes/utils.js';

const INFO_TAG = new TextEncoder().encode('sprintnet/e2e/v1');
export const NONCE_BYTES = 24;
export const EPHEMERAL_BYTES = 32;
export const TAG_BYTES = 16;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
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

/** Requester side: returns the keys and the ephemeral public key to send in the request header. */
export function requesterKeys(
  ownSeed: Uint8Array,
  responderEd25519Public: Uint8Array,
  protocol: string,
): SessionKeys & { ephemeralPublic: Uint8Array } {
  const ephemeralSecret = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const responderX = ed25519.utils.toMontgomery(responderEd25519Public);
  const ownX = ed25519.utils.toMontgomerySecret(ownSeed);
  const keys = deriveKeys(
    x25519.getSharedSecret(ephemeralSecret, responderX),
    x25519.getSharedSecret(ownX, responderX),
    ephemeralPublic,
    ed25519.getPublicKey(ownSeed),
    responderEd25519Public,
    protocol,
  );
  return { ...keys, ephemeralPublic };
}

/** Responder side, from the requester's (authenticated) public key and ephemeral key. */
export function responderKeys(
  ownSeed: Uint8Array,
  requesterEd25519Public: Uint8Array,
  ephemeralPublic: Uint8Array,
  protocol: string,
): SessionKeys {
  const ownX = ed25519.utils.toMontgomerySecret(ownSeed);
  const requesterX = ed25519.utils.toMontgomery(requesterEd25519Public);
  return deriveKeys(
    x25519.getSharedSecret(ownX, ephemeralPublic),
    x25519.getSharedSecret(ownX, requesterX),
    ephemeralPublic,
    requesterEd25519Public,
    ed25519.getPublicKey(ownSeed),
    protocol,
  );
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
    return xchacha20poly1305(key, box.subarray(0, NONCE_BYTES), new TextEncoder().encode(protocol)).decrypt(
      box.subarray(NONCE_BYTES),
    );
  } catch {
    throw new DecryptError('payload failed authentication');
  }
}

