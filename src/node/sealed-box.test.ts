import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { DecryptError, SealedBoxKeyError, open, requesterKeys, responderKeys, seal } from './sealed-box.ts';
import { at } from '../sprint/indexing.ts';

const alice = new Uint8Array(32).fill(1);
const bob = new Uint8Array(32).fill(2);
const mallory = new Uint8Array(32).fill(3);

describe('end-to-end sealing', () => {
  it('both sides derive the same keys, bound to both identities', () => {
    const a = requesterKeys(alice, ed25519.getPublicKey(bob), '/p');
    const b = responderKeys(bob, ed25519.getPublicKey(alice), a.ephemeralPublic, '/p');
    expect(b.requestKey).toEqual(a.requestKey);
    expect(b.responseKey).toEqual(a.responseKey);
    const msg = new TextEncoder().encode('hidden state');
    expect(open(b.requestKey, seal(a.requestKey, msg, '/p'), '/p')).toEqual(msg);

    // Bob believing the requester is Mallory, or Mallory holding the box, gets different keys.
    const wrongPeer = responderKeys(bob, ed25519.getPublicKey(mallory), a.ephemeralPublic, '/p');
    expect(() => open(wrongPeer.requestKey, seal(a.requestKey, msg, '/p'), '/p')).toThrow(DecryptError);
    const eavesdropper = responderKeys(mallory, ed25519.getPublicKey(alice), a.ephemeralPublic, '/p');
    expect(eavesdropper.requestKey).not.toEqual(a.requestKey);
    // A box for one protocol does not open under another.
    expect(() => open(a.requestKey, seal(a.requestKey, msg, '/p'), '/q')).toThrow(DecryptError);
  });

  it('each call uses fresh keys', () => {
    const k1 = requesterKeys(alice, ed25519.getPublicKey(bob), '/p');
    const k2 = requesterKeys(alice, ed25519.getPublicKey(bob), '/p');
    expect(k1.requestKey).not.toEqual(k2.requestKey);
  });

  it('a low-order or non-canonical ephemeral key is a typed SealedBoxKeyError, not a bare Error (issue 9)', () => {
    const alicePk = ed25519.getPublicKey(alice);
    const bad = [
      '0000000000000000000000000000000000000000000000000000000000000000', // u = 0
      '0100000000000000000000000000000000000000000000000000000000000000', // u = 1
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // u = p − 1 (order 2)
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // u = p ≡ 0, non-canonical
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // u = p + 1 ≡ 1, non-canonical
    ].map(hexToBytes);
    const good = requesterKeys(alice, ed25519.getPublicKey(bob), '/p').ephemeralPublic;
    const topBit = good.slice();
    topBit[31] = at(topBit, 31, 'key byte') | 0x80; // the same u with the bit RFC 7748 masks: refused, not silently reinterpreted
    for (const e of [...bad, topBit, good.subarray(1)]) {
      let caught: unknown;
      try {
        responderKeys(bob, alicePk, e, '/p');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SealedBoxKeyError);
      expect(caught).toBeInstanceOf(DecryptError);
      expect(caught).toMatchObject({ role: 'ephemeral' });
    }
    expect(() => responderKeys(bob, alicePk, good, '/p')).not.toThrow();
  });

  it('small-order and mixed-order long-term keys are refused on both sides (issue 9)', () => {
    const identity = ed25519.Point.ZERO.toBytes();
    const order8 = hexToBytes('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
    // A + T: before the fix X25519's clamping erased T, so this alias derived Alice's own static term.
    const aliasOfAlice = ed25519.Point.fromBytes(ed25519.getPublicKey(alice)).add(ed25519.Point.fromBytes(order8)).toBytes();
    const eph = requesterKeys(alice, ed25519.getPublicKey(bob), '/p').ephemeralPublic;
    for (const key of [identity, order8, aliasOfAlice]) {
      expect(() => requesterKeys(alice, key, '/p')).toThrow(expect.objectContaining({ name: 'SealedBoxKeyError', role: 'responder' }));
      expect(() => responderKeys(bob, key, eph, '/p')).toThrow(expect.objectContaining({ name: 'SealedBoxKeyError', role: 'requester' }));
    }
    expect(() => requesterKeys(alice, new Uint8Array(31), '/p')).toThrow(SealedBoxKeyError);
  });
});

describe('kept static terms', () => {
  it('a seed changed in place derives its new keys, not the kept ones, and a fresh copy of a seed agrees with the kept one', () => {
    const seed = new Uint8Array(32).fill(5);
    const first = requesterKeys(seed, ed25519.getPublicKey(bob), '/p');
    expect(responderKeys(bob, ed25519.getPublicKey(seed.slice()), first.ephemeralPublic, '/p').requestKey).toEqual(first.requestKey);
    seed.fill(6);
    const second = requesterKeys(seed, ed25519.getPublicKey(bob), '/p');
    expect(responderKeys(bob, ed25519.getPublicKey(new Uint8Array(32).fill(6)), second.ephemeralPublic, '/p').requestKey).toEqual(second.requestKey);
    expect(responderKeys(bob, ed25519.getPublicKey(new Uint8Array(32).fill(5)), second.ephemeralPublic, '/p').requestKey).not.toEqual(second.requestKey);
  });
});
