import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import vectorsFile from './vectors.json';
import { MessageType, signTyped, verifyTyped, type SigningDomain } from './signing.ts';
import { lotterySign, lotteryValue, lotteryVerify, verifiedLotteryValue, verifyKeyBinding } from './lottery.ts';

const v = vectorsFile.vectors[0];
const seed = hexToBytes(v.ed25519Seed);
const pk = hexToBytes(v.publicKey);
const blsSk = hexToBytes(v.blsSecretKey);
const blsPk = hexToBytes(v.blsPublicKey);
const domain: SigningDomain = { type: MessageType.ValidationVote, networkId: 'sprintnet-local' };
const payload = new TextEncoder().encode('vote: sprint 42 is valid');

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const c = bytes.slice();
  c[i] ^= 1;
  return c;
}

describe('domain-separated Ed25519 signatures', () => {
  const sig = signTyped(seed, domain, payload);

  it('a valid signature verifies', () => {
    expect(verifyTyped(pk, domain, payload, sig)).toBe(true);
  });

  it('flipping any byte of the message or the signature fails', () => {
    for (let i = 0; i < payload.length; i++) expect(verifyTyped(pk, domain, flip(payload, i), sig)).toBe(false);
    for (let i = 0; i < sig.length; i++) expect(verifyTyped(pk, domain, payload, flip(sig, i))).toBe(false);
  });

  it('a signature for one type tag never verifies under another, nor another network or version', () => {
    for (const type of Object.values(MessageType)) {
      if (type === domain.type) continue;
      expect(verifyTyped(pk, { ...domain, type }, payload, sig)).toBe(false);
    }
    expect(verifyTyped(pk, { ...domain, networkId: 'sprintnet-main' }, payload, sig)).toBe(false);
    expect(verifyTyped(pk, { ...domain, version: 2 }, payload, sig)).toBe(false);
  });

  it('malformed keys and signatures are false, not exceptions', () => {
    expect(verifyTyped(pk.subarray(1), domain, payload, sig)).toBe(false);
    expect(verifyTyped(pk, domain, payload, sig.subarray(1))).toBe(false);
    expect(verifyTyped(new Uint8Array(32).fill(0xff), domain, payload, sig)).toBe(false);
  });
});

describe('BLS unique-signature lottery', () => {
  const sig = lotterySign(blsSk, domain, payload);

  it('anyone with the public key reproduces the value; it matches the committed vector', () => {
    expect(lotteryVerify(blsPk, domain, payload, sig)).toBe(true);
    expect(verifiedLotteryValue(blsPk, domain, payload, sig)).toEqual(lotteryValue(sig));
    const vd = { type: vectorsFile.domainType as MessageType, networkId: vectorsFile.networkId };
    const vsig = hexToBytes(v.lotterySignature);
    expect(verifiedLotteryValue(blsPk, vd, new TextEncoder().encode(vectorsFile.payloadUtf8), vsig)).toEqual(
      hexToBytes(v.lotteryValue),
    );
  });

  it('is unique: signing twice gives the same bytes, so the signer cannot grind', () => {
    expect(lotterySign(blsSk, domain, payload)).toEqual(sig);
  });

  it('flipping a byte of the message, type tag or signature fails', () => {
    for (let i = 0; i < payload.length; i += 3) expect(lotteryVerify(blsPk, domain, flip(payload, i), sig)).toBe(false);
    for (let i = 0; i < sig.length; i += 7) expect(lotteryVerify(blsPk, domain, payload, flip(sig, i))).toBe(false);
    expect(lotteryVerify(blsPk, { ...domain, type: MessageType.SprintProof }, payload, sig)).toBe(false);
  });

  it('another key, a wrong-size key or the identity key is rejected', () => {
    const other = hexToBytes(vectorsFile.vectors[1].blsPublicKey);
    expect(lotteryVerify(other, domain, payload, sig)).toBe(false);
    expect(lotteryVerify(blsPk.subarray(1), domain, payload, sig)).toBe(false);
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(lotteryVerify(infinity, domain, payload, sig)).toBe(false);
  });

  it('the Ed25519 key binding vouches for exactly this BLS key', () => {
    const binding = hexToBytes(v.keyBinding);
    expect(verifyKeyBinding(pk, blsPk, binding, vectorsFile.networkId)).toBe(true);
    expect(verifyKeyBinding(pk, hexToBytes(vectorsFile.vectors[1].blsPublicKey), binding, vectorsFile.networkId)).toBe(false);
    expect(verifyKeyBinding(pk, blsPk, binding, 'other-net')).toBe(false);
    expect(verifyKeyBinding(pk, blsPk, flip(binding, 5), vectorsFile.networkId)).toBe(false);
  });
});
