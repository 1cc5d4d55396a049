/**
 * The full wallet identity a mnemonic gives: the signing identity (Ed25519 + libp2p peer id),
 * the address, and the BLS lottery key bound to the Ed25519 key by a KeyBinding signature and a
 * BLS proof of possession.
 */
import { identityFromEd25519Seed, type SigningIdentity } from './identity.ts';
import { addressFromPublicKey } from './address.ts';
import { deriveSecrets, entropyToMnemonic, mnemonicToEntropy, mnemonicToSeed } from './derive.ts';
import { makeKeyBinding, type KeyBinding } from './lottery.ts';
import { DEFAULT_NETWORK_ID } from './signing.ts';

export interface WalletIdentity extends SigningIdentity {
  /** `sn1…` address of `publicKey`. */
  readonly address: string;
  /** 32-byte BLS12-381 secret scalar for lottery signatures. Secret. */
  readonly blsSecretKey: Uint8Array;
  /** 48-byte compressed G1 public key. */
  readonly blsPublicKey: Uint8Array;
  /** The Ed25519 signature over the BLS key and the BLS proof of possession naming the Ed25519 key (for `networkId`). */
  readonly keyBinding: KeyBinding;
  /** Network the key binding was signed for. */
  readonly networkId: string;
  /** BIP39 entropy (16 or 32 bytes): what the keystore encrypts. Secret. */
  readonly mnemonicEntropy: Uint8Array;
}

export interface IdentityOptions {
  networkId?: string;
}

export async function identityFromMnemonic(mnemonic: string, opts: IdentityOptions = {}): Promise<WalletIdentity> {
  const networkId = opts.networkId ?? DEFAULT_NETWORK_ID;
  const mnemonicEntropy = mnemonicToEntropy(mnemonic);
  const seed = await mnemonicToSeed(mnemonic);
  const { ed25519Seed, blsSecretKey } = deriveSecrets(seed);
  seed.fill(0);
  const signing = await identityFromEd25519Seed(ed25519Seed);
  ed25519Seed.fill(0); // identityFromEd25519Seed keeps its own copy
  const keyBinding = makeKeyBinding(signing.ed25519Seed, blsSecretKey, networkId);
  return {
    ...signing,
    address: addressFromPublicKey(signing.publicKey),
    blsSecretKey,
    blsPublicKey: keyBinding.blsPublicKey,
    keyBinding,
    networkId,
    mnemonicEntropy,
  };
}

export function identityFromEntropy(entropy: Uint8Array, opts: IdentityOptions = {}): Promise<WalletIdentity> {
  return identityFromMnemonic(entropyToMnemonic(entropy), opts);
}

/**
 * Overwrites every secret array with zeros. JS cannot wipe strings or copies the engine made,
 * so this is best effort; callers must drop their references too. The libp2p key is zeroed as
 * well: stop any libp2p node using it before locking.
 */
export function wipeIdentity(id: WalletIdentity | SigningIdentity): void {
  id.ed25519Seed.fill(0);
  const raw = (id.libp2pKey as { raw?: Uint8Array }).raw;
  if (raw instanceof Uint8Array) raw.fill(0);
  if ('blsSecretKey' in id) id.blsSecretKey.fill(0);
  if ('mnemonicEntropy' in id) id.mnemonicEntropy.fill(0);
}
