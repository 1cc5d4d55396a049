import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import {
  MessageType,
  PublicKeyError,
  checkPublicKey,
  isStrictEd25519Key,
  publicKeyProblem,
  signTyped,
  signingBytes,
  verifyTyped,
  type SigningDomain,
} from './signing.ts';

const v = at(vectorsFile.vectors, 0, 'wallet vector');
const seed = hexToBytes(v.ed25519Seed);
const pk = hexToBytes(v.publicKey);
const domain: SigningDomain = { type: MessageType.ValidationVote, networkId: 'sprintnet-local' };
const payload = new TextEncoder().encode('vote: sprint 42 is valid');

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const c = bytes.slice();
  c[i] = at(c, i, 'byte') ^ 1;
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

// The eight points of order dividing 8, in their canonical encodings.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
].map(hexToBytes);
const IDENTITY = at(SMALL_ORDER, 0, 'small-order point');

describe('strict Ed25519 keys and signatures (issue 9, high)', () => {
  it('refuses the universal forgery: identity key, R = identity, S = 0, for every message type', () => {
    const forged = new Uint8Array(64);
    forged.set(IDENTITY, 0); // R = identity, S = 0
    // noble's default (ZIP-215) accepts it for any message: the flaw the old verifyTyped had.
    expect(ed25519.verify(forged, signingBytes(domain, payload), IDENTITY)).toBe(true);
    for (const type of Object.values(MessageType)) {
      for (const msg of [payload, new Uint8Array(0), new TextEncoder().encode('credit 10^6 CU to sn1attacker')]) {
        expect(verifyTyped(IDENTITY, { ...domain, type }, msg, forged)).toBe(false);
      }
    }
  });

  it('refuses every small-order key, even with a signature that verifies under ZIP-215', () => {
    for (const key of SMALL_ORDER) {
      expect(publicKeyProblem(key)).toBe('small-order');
      expect(isStrictEd25519Key(key)).toBe(false);
      expect(() => checkPublicKey(key)).toThrow(PublicKeyError);
      // For a small-order A, [8]kA = 0, so (R = identity, S = 0) passes the cofactored equation.
      const forged = new Uint8Array(64);
      forged.set(IDENTITY, 0);
      expect(ed25519.verify(forged, signingBytes(domain, payload), key)).toBe(true);
      expect(verifyTyped(key, domain, payload, forged)).toBe(false);
    }
  });

  it('refuses non-canonical encodings and mixed-order keys', () => {
    // y = p + 1 ≡ 1: the identity again, but with y ≥ p (ZIP-215 decodes it, RFC 8032 does not).
    const nonCanonicalY = hexToBytes('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    // x = 0 with the sign bit set ("negative zero").
    const negativeZero = hexToBytes('0100000000000000000000000000000000000000000000000000000000000080');
    for (const key of [nonCanonicalY, negativeZero]) {
      expect(publicKeyProblem(key)).toBe('encoding');
      expect(() => checkPublicKey(key)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY', reason: 'encoding' }));
    }
    // A + T for an order-8 T: a second "public key" for the same secret. A signature by the
    // secret of A, with R + T, passes noble's cofactored check under A + T but is refused.
    const T = ed25519.Point.fromBytes(at(SMALL_ORDER, 4, 'small-order point'));
    const mixed = ed25519.Point.fromBytes(pk).add(T).toBytes();
    expect(publicKeyProblem(mixed)).toBe('mixed-order');
    expect(() => checkPublicKey(mixed)).toThrow(expect.objectContaining({ reason: 'mixed-order' }));
    expect(publicKeyProblem(pk.subarray(1))).toBe('length');
    expect(publicKeyProblem('not bytes')).toBe('length');
    expect(() => checkPublicKey(pk)).not.toThrow();
  });

  it('refuses a signature whose R carries a torsion component, which libsodium and OpenSSL refuse too', () => {
    // Build a signature with R' = rB + T and S = r + k·a: the cofactored equation (noble strict)
    // holds, the cofactorless one (every other RFC 8032 verifier) does not.
    const { scalar } = ed25519.utils.getExtendedPublicKey(seed);
    const n = ed25519.Point.Fn.ORDER;
    const T = ed25519.Point.fromBytes(at(SMALL_ORDER, 4, 'small-order point'));
    const msg = signingBytes(domain, payload);
    const r = 1234567n;
    const R = ed25519.Point.BASE.multiply(r).add(T).toBytes();
    const k = ed25519.Point.Fn.create(bytesToNumberLE(sha512(concatBytes(R, pk, msg))));
    const S = (r + k * scalar) % n;
    const sig = new Uint8Array(64);
    sig.set(R, 0);
    sig.set(ed25519.Point.Fn.toBytes(S), 32);
    expect(ed25519.verify(sig, msg, pk, { zip215: false })).toBe(true);
    expect(verifyTyped(pk, domain, payload, sig)).toBe(false);
  });
});
