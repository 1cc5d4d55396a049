/** Keys, peer ids and realistic values shared by the fuzz targets. */
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { hexToBytes } from '@noble/hashes/utils.js';
import { at } from '../../sprint/indexing.ts';

export interface Key {
  seed: Uint8Array;
  pub: Uint8Array;
  peerId: string;
}

export function key(byte: number): Key {
  const seed = new Uint8Array(32).fill(byte);
  const pub = ed25519.getPublicKey(seed);
  return { seed, pub, peerId: peerIdFromPublicKey(publicKeyFromRaw(pub)).toString() };
}

/** The eight small-order Ed25519 encodings (libsodium's blocklist) and non-canonical neighbours. */
export const SMALL_ORDER_ED25519 = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map(hexToBytes);

/** X25519 u-coordinates of low order (0, 1, the order-8 points, p−1, p, p+1) and their top-bit twins. */
export const LOW_ORDER_X25519 = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map(hexToBytes);

/** 32-byte keys: a valid one, a small-order one, a bit-flipped valid one, or random bytes of any length. */
export function keyBytes(valid: Uint8Array[], bad: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: fc.constantFrom(...bad) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...valid), fc.nat({ max: 255 })).map(([k, bit]) => {
        const out = k.slice();
        out[bit >> 3] = at(out, bit >> 3, 'key byte') ^ (1 << (bit & 7));
        return out;
      }),
    },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  );
}

/** Multiaddr text as peers announce it, and damaged variants. */
export function multiaddrText(peerIds: string[]): fc.Arbitrary<string> {
  const relay = peerIds[0];
  const realistic = fc.tuple(fc.constantFrom(...peerIds), fc.nat({ max: 65535 }), fc.nat({ max: 5 })).map(([peer, port, shape]) => {
    switch (shape) {
      case 0:
        return `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${peer}`;
      case 1:
        return `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${relay}/p2p-circuit/p2p/${peer}`;
      case 2:
        return `/ip6/::1/tcp/${port}/ws/p2p/${peer}`;
      case 3:
        return `/dns4/relay.example.org/tcp/${port}/wss/p2p/${peer}`;
      case 4:
        return `/ip4/192.168.1.${port % 256}/udp/${port}/webrtc-direct/certhash/uEiD/p2p/${peer}`;
      default:
        return `/p2p/${peer}`;
    }
  });
  const damaged = fc.tuple(realistic, fc.nat(), fc.nat({ max: 20 }), fc.string({ unit: 'binary', maxLength: 12 })).map(([s, at, del, ins]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + ins + s.slice(i + del);
  });
  return fc.oneof(
    { weight: 4, arbitrary: realistic },
    { weight: 4, arbitrary: damaged },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '/',
        '/ip4',
        '/ip4/999.1.1.1/tcp/1',
        '/p2p/',
        '/p2p/xyz',
        '/ip6/::1/tcp/99999',
        '/unix/%2F',
        '/dns4//tcp/1',
        '/ip4/1.2.3.4/tcp/1/p2p/12D3KooW',
      ),
    },
  );
}
