import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { AddressError, addressFromPublicKey, addressHash, addressMatchesPublicKey, isValidAddress, parseAddress } from './address.ts';
import { WalletError } from './errors.ts';

const v = at(vectorsFile.vectors, 0, 'wallet vector');
const pk = hexToBytes(v.publicKey);

function reason(addr: string): string | undefined {
  try {
    parseAddress(addr);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(WalletError);
    expect((e as WalletError).code).toBe('BAD_ADDRESS');
    return (e as AddressError).reason;
  }
}

describe('sn1 addresses', () => {
  it('encode the public key hash and parse back', () => {
    expect(addressFromPublicKey(pk)).toBe(v.address);
    expect(v.address).toMatch(/^sn1[02-9ac-hj-np-z]{38}$/);
    expect(parseAddress(v.address)).toEqual(addressHash(pk));
    expect(parseAddress(v.address.toUpperCase())).toEqual(addressHash(pk));
    expect(addressMatchesPublicKey(v.address, pk)).toBe(true);
    expect(addressMatchesPublicKey(v.address, hexToBytes(at(vectorsFile.vectors, 1, 'wallet vector').publicKey))).toBe(false);
  });

  it('any single-character typo is a checksum error', () => {
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    for (let i = 3; i < v.address.length; i++) {
      const c = alphabet[(alphabet.indexOf(at(v.address, i, 'character')) + 1) % 32];
      expect(reason(v.address.slice(0, i) + c + v.address.slice(i + 1))).toBe('checksum');
    }
  });

  it('says what else is wrong', () => {
    expect(reason('bc1' + v.address.slice(3))).toBe('prefix');
    expect(reason(v.address.slice(0, -1))).toBe('length');
    expect(reason('Sn1' + v.address.slice(3))).toBe('format');
    expect(reason(v.address.replace(/.$/, 'b'))).toBe('format');
    expect(reason('not an address')).toBe('format');
    expect(isValidAddress(v.address)).toBe(true);
    expect(isValidAddress('')).toBe(false);
  });

  it('refuses keys no strict signature verifies under: wrong length, small order, mixed order (issue 9)', () => {
    const identity = ed25519.Point.ZERO.toBytes();
    const mixed = ed25519.Point.fromBytes(pk).add(ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')).toBytes();
    for (const [key, why] of [
      [identity, 'small-order'],
      [mixed, 'mixed-order'],
      [pk.subarray(1), 'length'],
    ] as const) {
      expect(() => addressFromPublicKey(key)).toThrow(expect.objectContaining({ code: 'BAD_PUBLIC_KEY', reason: why }));
      expect(addressMatchesPublicKey(v.address, key)).toBe(false);
    }
    expect(addressFromPublicKey(pk)).toBe(v.address);
  });
});
