import { describe, expect, it } from 'vitest';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import {
  DEFAULT_SCRYPT,
  SCRYPT_LIMITS,
  TEST_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  importKeystoreFile,
  parseKeystore,
  serializeKeystore,
  type KeystoreFile,
} from './keystore.ts';
import { bech32m } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/** The address format applied to any 32 bytes (addressFromPublicKey refuses small-order keys). */
const rawAddress = (key: Uint8Array) => bech32m.encode('sn', bech32m.toWords(sha256(concatBytes(utf8ToBytes('sprintnet/address/v1'), key)).slice(0, 20)));
import { identityFromMnemonic } from './wallet-identity.ts';

const v = at(vectorsFile.vectors, 0, 'wallet vector');
const PASS = 'correct horse battery staple';

async function file(): Promise<KeystoreFile> {
  return encryptKeystore(v.mnemonic, PASS, TEST_SCRYPT);
}

function edit(f: KeystoreFile, change: (j: any) => void): string {
  const j = JSON.parse(serializeKeystore(f));
  change(j);
  return JSON.stringify(j);
}

describe('keystore files', () => {
  it('round-trips from a mnemonic or an identity to the same keys, recording its KDF parameters', async () => {
    const f = await file();
    expect(f).toMatchObject({ format: 'sprintnet-keystore', version: 1, address: v.address, peerId: v.peerId });
    expect(f.kdf).toMatchObject({ name: 'scrypt', N: TEST_SCRYPT.N, r: 8, p: 1, dkLen: 32 });
    expect(serializeKeystore(f)).not.toContain(v.entropy);
    const id = await decryptKeystore(serializeKeystore(f), PASS);
    expect(id.address).toBe(v.address);
    expect(id.peerId).toBe(v.peerId);
    const f2 = await encryptKeystore(await identityFromMnemonic(v.mnemonic), 'other passphrase', { N: 2 ** 11, r: 8, p: 1 });
    expect(f2.kdf.N).toBe(2 ** 11);
    expect((await decryptKeystore(f2, 'other passphrase')).address).toBe(v.address);
    expect(f2.kdf.salt).not.toBe(f.kdf.salt);
  });

  it('a wrong passphrase is WRONG_PASSPHRASE', async () => {
    await expect(decryptKeystore(await file(), 'wrong')).rejects.toMatchObject({ name: 'WalletError', code: 'WRONG_PASSPHRASE' });
  });

  it('tampered ciphertext, nonce, address or peer id is CORRUPT_KEYSTORE', async () => {
    const f = await file();
    const flipHex = (s: string, i: number) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
    for (const i of [0, 20, f.ciphertext.length - 1]) {
      await expect(
        decryptKeystore(
          edit(f, (j) => (j.ciphertext = flipHex(j.ciphertext, i))),
          PASS,
        ),
      ).rejects.toMatchObject({
        code: 'CORRUPT_KEYSTORE',
      });
    }
    await expect(
      decryptKeystore(
        edit(f, (j) => (j.cipher.nonce = flipHex(j.cipher.nonce, 3))),
        PASS,
      ),
    ).rejects.toMatchObject({
      code: 'CORRUPT_KEYSTORE',
    });
    const other = at(vectorsFile.vectors, 1, 'wallet vector');
    await expect(
      decryptKeystore(
        edit(f, (j) => (j.address = other.address)),
        PASS,
      ),
    ).rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
    await expect(
      decryptKeystore(
        edit(f, (j) => (j.peerId = other.peerId)),
        PASS,
      ),
    ).rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
  });

  it('structural damage is CORRUPT_KEYSTORE and unknown versions are UNSUPPORTED_VERSION, before any KDF runs', async () => {
    const f = await file();
    const corrupt = [
      '{not json',
      '[]',
      edit(f, (j) => delete j.kdf),
      edit(f, (j) => (j.kdf.salt = 'zz')),
      edit(f, (j) => (j.ciphertext = j.ciphertext.slice(0, 20))),
      edit(f, (j) => (j.kdf.N = '1024')),
      edit(f, (j) => (j.kdf.p = 1.5)),
      edit(f, (j) => (j.format = 'other')),
    ];
    for (const json of corrupt) expect(() => parseKeystore(json)).toThrow(expect.objectContaining({ code: 'CORRUPT_KEYSTORE' }));
    for (const json of [edit(f, (j) => (j.version = 2)), edit(f, (j) => (j.kdf.name = 'argon2id'))]) {
      await expect(decryptKeystore(json, PASS)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    }
  });

  it('refuses an empty passphrase and out-of-range parameters when encrypting', async () => {
    await expect(encryptKeystore(v.mnemonic, '', TEST_SCRYPT)).rejects.toMatchObject({ code: 'BAD_PARAMS' });
    await expect(encryptKeystore(v.mnemonic, PASS, { N: 1000, r: 8, p: 1 })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
  });

  it('out-of-range KDF parameters are KDF_PARAMS_OUT_OF_RANGE, refused before scrypt runs (issue 9, keystore)', async () => {
    const f = await file();
    const hostile = [
      { N: 3 }, // not a power of two
      { N: 2 ** 9 }, // below the floor
      { N: 2 ** 30 }, // 128 GiB
      { N: 2 ** 21, r: 1 }, // above the N cap even with little memory
      { r: 32 }, // the old cap allowed r = 32 (and ran it: a wrong-passphrase answer for an edited field)
      { p: 8 }, // likewise p = 8
      { p: 64 },
      { r: 0 },
      { N: 2 ** 18, r: 16 }, // 512 MiB of memory
      { N: 2 ** 17, r: 16, p: 3 }, // memory fine (256 MiB), work six times the default
      { N: 2 ** 18, r: 8, p: 4 }, // memory fine (256 MiB), work 1 GiB
    ];
    for (const change of hostile) {
      const json = edit(f, (j) => Object.assign(j.kdf, change));
      expect(() => parseKeystore(json), JSON.stringify(change)).toThrow(expect.objectContaining({ code: 'KDF_PARAMS_OUT_OF_RANGE' }));
      let ran = false;
      await expect(decryptKeystore(json, PASS, { onProgress: () => (ran = true) })).rejects.toMatchObject({ code: 'KDF_PARAMS_OUT_OF_RANGE' });
      expect(ran).toBe(false);
    }
    expect(SCRYPT_LIMITS).toMatchObject({ maxR: 16, maxP: 4, maxN: 2 ** 20 });
    await expect(encryptKeystore(v.mnemonic, PASS, { N: 2 ** 10, r: 8, p: 5 })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
  });

  it('the AEAD decides: a right passphrase opens a file whose unauthenticated check field was edited', async () => {
    const f = await file();
    const json = edit(f, (j) => (j.check = '00'.repeat(16)));
    // The old code compared `check` first and called this a wrong passphrase.
    expect((await decryptKeystore(json, PASS)).address).toBe(v.address);
    // With a wrong passphrase the tag fails and `check` does not match either.
    await expect(decryptKeystore(json, 'wrong')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  });

  it('an in-range KDF edit cannot be told from a wrong passphrase, and the error says so', async () => {
    const f = await file();
    const err = await decryptKeystore(
      edit(f, (j) => (j.kdf.N = 2 ** 11)),
      PASS,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((err as Error).message).toMatch(/KDF parameter/);
  });

  it('the header must be self-consistent before any KDF work: strict Ed25519 peer id, matching address', async () => {
    const f = await file();
    // A peer id whose key is the identity point (small order), with its matching address.
    const identityKey = ed25519.Point.ZERO.toBytes();
    const badPeerId = peerIdFromPublicKey(publicKeyFromRaw(identityKey)).toString();
    const other = at(vectorsFile.vectors, 1, 'wallet vector');
    const stranger = peerIdFromPublicKey((await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(5))).publicKey);
    const cases: Array<[string, (j: any) => void, RegExp]> = [
      ['small-order key', (j) => ((j.peerId = badPeerId), (j.address = rawAddress(identityKey))), /small-order/],
      ['address of another key', (j) => (j.address = other.address), /address/],
      ['peer id of another key', (j) => (j.peerId = stranger.toString()), /address/],
      ['not a peer id', (j) => (j.peerId = 'hello'), /malformed/],
    ];
    for (const [what, change, message] of cases) {
      let ran = false;
      const err = await decryptKeystore(edit(f, change), PASS, { onProgress: () => (ran = true) }).catch((e: unknown) => e);
      expect(err, what).toMatchObject({ code: 'CORRUPT_KEYSTORE' });
      expect((err as Error).message, what).toMatch(message);
      expect(ran, what).toBe(false);
    }
  });

  it('a tag failure with the right passphrase is CORRUPT_KEYSTORE, not WRONG_PASSPHRASE', async () => {
    const f = await file();
    const flipped = edit(f, (j) => (j.ciphertext = (j.ciphertext[0] === '0' ? '1' : '0') + j.ciphertext.slice(1)));
    const err = await decryptKeystore(flipped, PASS).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CORRUPT_KEYSTORE' });
    expect((err as Error).message).toMatch(/passphrase is right/);
  });
});

describe('keystore import (issue 9, keystore)', () => {
  it('an N = 2^10 file is re-encrypted with the app’s parameters, fresh salt and nonce, before it is stored', async () => {
    const weak = await encryptKeystore(v.mnemonic, PASS, TEST_SCRYPT);
    const progress: number[] = [];
    const {
      identity,
      file: stored,
      reencrypted,
    } = await importKeystoreFile(serializeKeystore(weak), PASS, DEFAULT_SCRYPT, {
      onProgress: (x) => progress.push(x),
    });
    expect(reencrypted).toBe(true);
    expect(identity.address).toBe(v.address);
    expect(stored.kdf).toMatchObject({ N: DEFAULT_SCRYPT.N, r: DEFAULT_SCRYPT.r, p: DEFAULT_SCRYPT.p });
    expect(stored.kdf.salt).not.toBe(weak.kdf.salt);
    expect(stored.cipher.nonce).not.toBe(weak.cipher.nonce);
    expect(stored.ciphertext).not.toBe(weak.ciphertext);
    expect({ address: stored.address, peerId: stored.peerId }).toEqual({ address: v.address, peerId: v.peerId });
    // Progress runs once from 0 to 1 across both KDF runs.
    expect(progress.every((x, i) => i === 0 || x >= at(progress, i - 1, 'progress step'))).toBe(true);
    expect(progress.at(-1)).toBeCloseTo(1, 5);
    expect((await decryptKeystore(stored, PASS)).peerId).toBe(v.peerId);
  });

  it('a file already at the app’s parameters is kept as it is; errors are the decryption’s', async () => {
    const app = { N: 2 ** 11, r: 8, p: 1 };
    const f = await encryptKeystore(v.mnemonic, PASS, app);
    const same = await importKeystoreFile(f, PASS, app);
    expect(same.reencrypted).toBe(false);
    expect(same.file).toEqual(f);
    await expect(importKeystoreFile(f, 'wrong', TEST_SCRYPT)).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(
      importKeystoreFile(
        edit(f, (j) => (j.kdf.p = 16)),
        PASS,
        TEST_SCRYPT,
      ),
    ).rejects.toMatchObject({ code: 'KDF_PARAMS_OUT_OF_RANGE' });
    await expect(importKeystoreFile(f, PASS, { N: 2 ** 30, r: 8, p: 1 })).rejects.toMatchObject({ code: 'BAD_PARAMS' });
  });
});
