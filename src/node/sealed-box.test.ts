import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { DecryptError, open, requesterKeys, responderKeys, seal } from './sealed-box.ts';

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
});
