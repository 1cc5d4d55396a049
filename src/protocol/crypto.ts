/**
 * What the protocol needs from a wallet, as two small interfaces: a `Signer` (our own key, may
 * be locked) and a `Verifier` (pure functions of the bytes). `walletSigner` and `walletVerifier`
 * back them with src/wallet: strict Ed25519 (`signTyped`/`verifyTyped`) and the BLS lottery with
 * proof-of-possession binding (`lotterySign`, and `verifyKeyBinding` + `lotteryVerify` as in
 * `verifiedLotteryValue`, with the binding check cached per key).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { lotterySign, lotteryValue, lotteryVerify, verifyKeyBinding, type KeyBinding } from '../wallet/lottery.ts';
import { signTyped, verifyTyped, type SigningDomain } from '../wallet/signing.ts';
import { BinaryWriter } from '../codec/binary.ts';
import { hex } from './bytes.ts';

export type { KeyBinding };

export interface Signer {
  /** 32-byte Ed25519 public key: the host's identity and its Sprint public key. */
  readonly publicKey: Uint8Array;
  /** The BLS lottery key bound to `publicKey` (Ed25519 signature + BLS proof of possession). */
  readonly binding: KeyBinding;
  /** Ed25519 signature of `payload` under `domain`. May wait for the wallet to be unlocked. */
  sign(domain: SigningDomain, payload: Uint8Array): Promise<Uint8Array>;
  /** The unique BLS lottery signature of `payload` for our own identity. */
  lottery(domain: SigningDomain, payload: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: resolves true once `sign`/`lottery` can run, or false if that is not so by clock time
   * `until`. A browser wallet may be locked; the host waits here *before* it stamps a message, so a
   * message signed after an unlock carries a fresh timestamp (a stale one would fail the live rule).
   */
  ready?(what: string, until: number): Promise<boolean>;
  /**
   * Optional: whether signing could start now, without waiting (a wallet is unlocked). The host asks
   * before it retries a vote it owes (host.ts retryOwedVotes), so a locked wallet is not made
   * to wait, nor to report a missed message, at every step.
   */
  canSign?(): boolean;
}

export interface Verifier {
  /** Strict Ed25519 verification; never throws. */
  verify(publicKey: Uint8Array, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): boolean;
  /** The lottery value for `binding`'s identity, or null when the binding or the signature fails. */
  lotteryValue(binding: KeyBinding, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): Uint8Array | null;
}

/** What a wallet identity holds (src/wallet WalletIdentity fits). */
export interface SigningKeys {
  readonly ed25519Seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly blsSecretKey: Uint8Array;
  readonly keyBinding: KeyBinding;
}

/** A signer over unlocked wallet keys. `unlock` (optional) is awaited before each signature. */
export function walletSigner(keys: SigningKeys | (() => Promise<SigningKeys>), publicKey?: Uint8Array, binding?: KeyBinding): Signer {
  const get = typeof keys === 'function' ? keys : async () => keys;
  const fixed = typeof keys === 'function' ? undefined : keys;
  const pk = publicKey ?? fixed?.publicKey;
  const kb = binding ?? fixed?.keyBinding;
  if (!pk || !kb) throw new TypeError('walletSigner: a lazy key source needs the public key and binding up front');
  return {
    publicKey: pk,
    binding: kb,
    sign: async (domain, payload) => signTyped((await get()).ed25519Seed, domain, payload),
    lottery: async (domain, payload) => lotterySign((await get()).blsSecretKey, pk, domain, payload),
  };
}

function memoKey(parts: Uint8Array[], domain: SigningDomain): string {
  const w = new BinaryWriter()
    .u16(domain.type)
    .u16(domain.version ?? 0)
    .string(domain.networkId);
  for (const p of parts) w.bytes(p);
  return hex(sha256(w.finish()));
}

/**
 * Strict verification with a bounded cache of results: verification is a pure function of the
 * bytes, so a repeated message (gossip duplicates, sync, the ledger re-deriving) costs one hash.
 * The simulation shares one instance among all its hosts for the same reason.
 */
export function walletVerifier(cacheSize = 65_536): Verifier & { readonly stats: { verified: number; cached: number } } {
  const cache = new Map<string, boolean | Uint8Array | null>();
  const stats = { verified: 0, cached: 0 };
  const remember = <T extends boolean | Uint8Array | null>(key: string, compute: () => T): T => {
    if (cache.has(key)) {
      stats.cached++;
      return cache.get(key) as T;
    }
    stats.verified++;
    const v = compute();
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, v);
    return v;
  };
  const bindingOk = (b: KeyBinding, networkId: string) =>
    remember(`b:${memoKey([b.ed25519PublicKey, b.blsPublicKey, b.signature, b.proofOfPossession], { type: 7, networkId })}`, () =>
      verifyKeyBinding(b, networkId),
    );
  return {
    stats,
    verify: (publicKey, domain, payload, signature) =>
      remember(`s:${memoKey([publicKey, payload, signature], domain)}`, () => verifyTyped(publicKey, domain, payload, signature)),
    lotteryValue: (binding, domain, payload, signature) => {
      if (!bindingOk(binding, domain.networkId)) return null;
      // What verifiedLotteryValue does, with the binding's check (two pairings) cached per key.
      return remember(`l:${memoKey([binding.ed25519PublicKey, binding.blsPublicKey, payload, signature], domain)}`, () =>
        lotteryVerify(binding.blsPublicKey, binding.ed25519PublicKey, domain, payload, signature) ? lotteryValue(signature) : null,
      );
    },
  };
}
