import { describe, expect, it } from 'vitest';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { MessageType, signTyped, type SigningDomain } from './signing.ts';
import {
  LOTTERY_DST,
  LOTTERY_POP_DST,
  blsPublicKey,
  keyBindingPayload,
  lotterySign,
  lotteryValue,
  lotteryVerify,
  makeKeyBinding,
  proofOfPossessionMessage,
  signProofOfPossession,
  verifiedLotteryValue,
  verifyKeyBinding,
  verifyProofOfPossession,
  type KeyBinding,
} from './lottery.ts';

const NET = vectorsFile.networkId;
const v = at(vectorsFile.vectors, 0, 'wallet vector');
const w = at(vectorsFile.vectors, 1, 'wallet vector');
const seed = hexToBytes(v.ed25519Seed);
const pk = hexToBytes(v.publicKey);
const blsSk = hexToBytes(v.blsSecretKey);
const blsPk = hexToBytes(v.blsPublicKey);
const domain: SigningDomain = { type: MessageType.ValidationVote, networkId: NET };
const payload = new TextEncoder().encode('draw: sprint 42');
const binding: KeyBinding = {
  ed25519PublicKey: pk,
  blsPublicKey: blsPk,
  signature: hexToBytes(v.keyBinding),
  proofOfPossession: hexToBytes(v.blsProofOfPossession),
};
// The attacker: another wallet (vector 1).
const attackerSeed = hexToBytes(w.ed25519Seed);
const attackerPk = hexToBytes(w.publicKey);
const attackerBlsSk = hexToBytes(w.blsSecretKey);
const IDENTITY = ed25519.Point.ZERO.toBytes();

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const c = bytes.slice();
  c[i] = at(c, i, 'byte') ^ 1;
  return c;
}

describe('BLS unique-signature lottery', () => {
  const sig = lotterySign(blsSk, pk, domain, payload);

  it('anyone with the binding reproduces the value; it matches the committed vector', () => {
    expect(lotteryVerify(blsPk, pk, domain, payload, sig)).toBe(true);
    expect(verifiedLotteryValue(binding, domain, payload, sig)).toEqual(lotteryValue(sig));
    const vd = { type: vectorsFile.domainType as MessageType, networkId: NET };
    const vsig = hexToBytes(v.lotterySignature);
    expect(verifiedLotteryValue(binding, vd, new TextEncoder().encode(vectorsFile.payloadUtf8), vsig)).toEqual(hexToBytes(v.lotteryValue));
  });

  it('is unique: signing twice gives the same bytes, so the signer cannot grind', () => {
    expect(lotterySign(blsSk, pk, domain, payload)).toEqual(sig);
  });

  it('flipping a byte of the message, type tag or signature fails', () => {
    for (let i = 0; i < payload.length; i += 3) expect(lotteryVerify(blsPk, pk, domain, flip(payload, i), sig)).toBe(false);
    for (let i = 0; i < sig.length; i += 7) expect(lotteryVerify(blsPk, pk, domain, payload, flip(sig, i))).toBe(false);
    expect(lotteryVerify(blsPk, pk, { ...domain, type: MessageType.SprintProof }, payload, sig)).toBe(false);
  });

  it('another key, a wrong-size key or the identity key is rejected', () => {
    const other = hexToBytes(w.blsPublicKey);
    expect(lotteryVerify(other, pk, domain, payload, sig)).toBe(false);
    expect(lotteryVerify(blsPk.subarray(1), pk, domain, payload, sig)).toBe(false);
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(lotteryVerify(infinity, pk, domain, payload, sig)).toBe(false);
  });

  it('the signed message names the claimant: a draw made for one identity never verifies for another (issue 9, lottery)', () => {
    expect(lotteryVerify(blsPk, attackerPk, domain, payload, sig)).toBe(false);
    // Even holding a binding to the victim's BLS key, the victim's draw is not the attacker's.
    const stolen: KeyBinding = { ...binding, ed25519PublicKey: attackerPk };
    expect(verifiedLotteryValue(stolen, domain, payload, sig)).toBeNull();
    // A small-order claimant is refused when signing and when verifying.
    expect(() => lotterySign(blsSk, IDENTITY, domain, payload)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }));
    expect(lotteryVerify(blsPk, IDENTITY, domain, payload, sig)).toBe(false);
  });
});

describe('key binding with BLS proof of possession (issue 9, lottery)', () => {
  it('the wallet’s binding verifies and matches the committed vector', () => {
    const made = makeKeyBinding(seed, blsSk, NET);
    expect(made).toEqual(binding);
    expect(verifyKeyBinding(binding, NET)).toBe(true);
  });

  it('each part is bound: other BLS key, other network, flipped signature or proof all fail', () => {
    expect(verifyKeyBinding({ ...binding, blsPublicKey: hexToBytes(w.blsPublicKey) }, NET)).toBe(false);
    expect(verifyKeyBinding(binding, 'other-net')).toBe(false);
    expect(verifyKeyBinding({ ...binding, signature: flip(binding.signature, 5) }, NET)).toBe(false);
    expect(verifyKeyBinding({ ...binding, proofOfPossession: flip(binding.proofOfPossession, 50) }, NET)).toBe(false);
    expect(verifyKeyBinding({ ...binding, proofOfPossession: new Uint8Array(96) }, NET)).toBe(false);
    expect(verifyKeyBinding(null as unknown as KeyBinding, NET)).toBe(false);
  });

  it('an attacker cannot bind a victim’s BLS key: without a proof, with the victim’s proof, or with their own', () => {
    // The old check: the attacker's Ed25519 signature over the victim's BLS key verified, and that was all it asked.
    const attackerSig = signTyped(attackerSeed, { type: MessageType.KeyBinding, networkId: NET }, keyBindingPayload(blsPk));
    const base = { ed25519PublicKey: attackerPk, blsPublicKey: blsPk, signature: attackerSig };
    const infinity = new Uint8Array(96);
    infinity[0] = 0xc0;
    for (const proofOfPossession of [
      new Uint8Array(96), // no proof
      infinity,
      binding.proofOfPossession, // copied from the victim's own binding: it names the victim
      signProofOfPossession(attackerBlsSk, attackerPk, NET), // the attacker's own BLS key's proof
    ]) {
      expect(verifyKeyBinding({ ...base, proofOfPossession }, NET)).toBe(false);
    }
    // The victim's draw therefore verifies only for the victim.
    const draw = lotterySign(blsSk, pk, domain, payload);
    expect(verifiedLotteryValue({ ...base, proofOfPossession: binding.proofOfPossession }, domain, payload, draw)).toBeNull();
    expect(verifiedLotteryValue(binding, domain, payload, draw)).toEqual(lotteryValue(draw));
  });

  it('a rogue key the binder cannot sign for has no proof', () => {
    // pk' = attacker − victim: its secret is unknown to anyone, so no proof can be made for it.
    const G1 = bls12_381.G1.Point;
    const rogue = G1.fromBytes(blsPublicKey(attackerBlsSk)).subtract(G1.fromBytes(blsPk)).toBytes(true);
    const sig = signTyped(attackerSeed, { type: MessageType.KeyBinding, networkId: NET }, keyBindingPayload(rogue));
    const proof = signProofOfPossession(attackerBlsSk, attackerPk, NET);
    expect(verifyKeyBinding({ ed25519PublicKey: attackerPk, blsPublicKey: rogue, signature: sig, proofOfPossession: proof }, NET)).toBe(false);
  });

  it('a small-order Ed25519 key cannot hold a binding, even with the universal forgery', () => {
    const forged = new Uint8Array(64);
    forged.set(IDENTITY, 0); // R = identity, S = 0
    const bls = bls12_381.longSignatures;
    const popForIdentity = bls.Signature.toBytes(
      bls.sign(bls.hash(proofOfPossessionMessage(blsPublicKey(attackerBlsSk), IDENTITY, NET), LOTTERY_POP_DST), attackerBlsSk),
    );
    expect(verifyProofOfPossession(blsPublicKey(attackerBlsSk), IDENTITY, popForIdentity, NET)).toBe(false);
    const b = { ed25519PublicKey: IDENTITY, blsPublicKey: blsPublicKey(attackerBlsSk), signature: forged, proofOfPossession: popForIdentity };
    expect(verifyKeyBinding(b, NET)).toBe(false);
    expect(() => signProofOfPossession(attackerBlsSk, IDENTITY, NET)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }));
  });

  it('proofs and lottery signatures use separate DSTs: neither verifies as the other', () => {
    expect(LOTTERY_POP_DST).not.toBe(LOTTERY_DST);
    const bls = bls12_381.longSignatures;
    const msg = proofOfPossessionMessage(blsPk, pk, NET);
    // The same bytes signed under the lottery DST are not a proof of possession.
    const underLotteryDst = bls.Signature.toBytes(bls.sign(bls.hash(msg, LOTTERY_DST), blsSk));
    expect(verifyProofOfPossession(blsPk, pk, underLotteryDst, NET)).toBe(false);
    expect(verifyProofOfPossession(blsPk, pk, binding.proofOfPossession, NET)).toBe(true);
  });
});
