/**
 * An in-process volunteer for the demo CLI and the tests: its own wallet key, a SplitVolunteer on a
 * given model, and a MemoryLink from the user's key to it (sealed like the network's calls).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { KvCache } from '../llm/model-types.ts';
import { signTyped, verifyTyped, type SigningDomain } from '../wallet/signing.ts';
import type { SplitModel } from './engines.ts';
import type { ProofSigner, SignatureVerifier } from './proof.ts';
import { MemoryLink } from './transport.ts';
import { SplitVolunteer } from './volunteer.ts';

/** A signer from a raw Ed25519 seed (a wallet identity's ed25519Seed). */
export function seedSigner(seed: Uint8Array): ProofSigner {
  const secret = seed.slice();
  return { publicKey: ed25519.getPublicKey(secret), sign: async (domain: SigningDomain, payload: Uint8Array) => signTyped(secret, domain, payload) };
}

export const strictVerifier: SignatureVerifier = { verify: verifyTyped };

export interface LocalVolunteer<K extends KvCache> {
  readonly volunteer: SplitVolunteer<K>;
  readonly link: MemoryLink;
  readonly seed: Uint8Array;
}

export function localVolunteer<K extends KvCache>(o: {
  readonly model: SplitModel<K>;
  readonly lowestK: number;
  readonly modelHash: Uint8Array;
  readonly normWeight: ArrayLike<number>;
  readonly networkId: string;
  /** The genesis hash its receipts name (VolunteerOptions.genesis). */
  readonly genesis?: Uint8Array;
  readonly userSeed: Uint8Array;
  readonly seed?: Uint8Array;
  readonly label?: string;
  readonly onRequest?: (plaintext: Uint8Array) => void;
  readonly now?: () => number;
}): LocalVolunteer<K> {
  const seed = o.seed ?? crypto.getRandomValues(new Uint8Array(32));
  const volunteer = new SplitVolunteer<K>({
    model: o.model,
    lowestK: o.lowestK,
    modelHash: o.modelHash,
    normWeight: o.normWeight,
    signer: seedSigner(seed),
    networkId: o.networkId,
    genesis: o.genesis,
    now: o.now,
  });
  const link = new MemoryLink(volunteer, seed, o.userSeed, { label: o.label, onRequest: o.onRequest });
  return { volunteer, link, seed };
}
