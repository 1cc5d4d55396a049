import { describe, expect, it } from 'vitest';
import vectorsFile from './vectors.json';
import { TEST_SCRYPT, decryptKeystore, encryptKeystore, parseKeystore, serializeKeystore, type KeystoreFile } from './keystore.ts';
import { identityFromMnemonic } from './wallet-identity.ts';

const v = vectorsFile.vectors[0];
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
      await expect(decryptKeystore(edit(f, (j) => (j.ciphertext = flipHex(j.ciphertext, i))), PASS)).rejects.toMatchObject({
        code: 'CORRUPT_KEYSTORE',
      });
    }
    await expect(decryptKeystore(edit(f, (j) => (j.cipher.nonce = flipHex(j.cipher.nonce, 3))), PASS)).rejects.toMatchObject({
      code: 'CORRUPT_KEYSTORE',
    });
    const other = vectorsFile.vectors[1];
    await expect(decryptKeystore(edit(f, (j) => (j.address = other.address)), PASS)).rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
    await expect(decryptKeystore(edit(f, (j) => (j.peerId = other.peerId)), PASS)).rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
  });

  it('structural damage is CORRUPT_KEYSTORE and unknown versions are UNSUPPORTED_VERSION, before any KDF runs', async () => {
    const f = await file();
    const corrupt = [
      '{not json',
      '[]',
      edit(f, (j) => delete j.kdf),
      edit(f, (j) => (j.kdf.salt = 'zz')),
      edit(f, (j) => (j.ciphertext = j.ciphertext.slice(0, 20))),
      edit(f, (j) => (j.kdf.N = 3)),
      edit(f, (j) => (j.kdf.N = 2 ** 30)), // a hostile file asking for 128 GiB
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
});
