/**
 * The one key that ties a volunteer together: its 32-byte Ed25519 seed gives the signing key,
 * the Sprint node seed (via the public key) and the libp2p peer id.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Ed25519PrivateKey } from '@libp2p/interface';

export interface SigningIdentity {
  /** 32-byte Ed25519 secret seed. Secret: never log or persist unencrypted. */
  readonly ed25519Seed: Uint8Array;
  /** 32-byte Ed25519 public key: the Sprint "public key" and the basis of the address. */
  readonly publicKey: Uint8Array;
  /** libp2p private key made from the same seed, so the peer id follows from the wallet. */
  readonly libp2pKey: Ed25519PrivateKey;
  /** Base58 libp2p peer id string (12D3Koo…). */
  readonly peerId: string;
}

export async function identityFromEd25519Seed(seed: Uint8Array): Promise<SigningIdentity> {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const ed25519Seed = seed.slice();
  const libp2pKey = await generateKeyPairFromSeed('Ed25519', ed25519Seed);
  const publicKey = ed25519.getPublicKey(ed25519Seed);
  return { ed25519Seed, publicKey, libp2pKey, peerId: peerIdFromPrivateKey(libp2pKey).toString() };
}
