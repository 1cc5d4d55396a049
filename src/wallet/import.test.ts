import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { Wallet } from './wallet.ts';
import { TEST_SCRYPT, encryptKeystore, parseKeystore, serializeKeystore } from './keystore.ts';

const v = at(vectorsFile.vectors, 0, 'wallet vector');
const PASS = 'a long passphrase';
const APP = { N: 2 ** 11, r: 8, p: 1 }; // stands in for DEFAULT_SCRYPT, so the test stays fast

describe('Wallet.importKeystore stores the file under the wallet’s own scrypt parameters (issue 9)', () => {
  it('an N = 2^10 file is not stored as it is', async () => {
    const wallet = await Wallet.open({ dbName: 'sprintnet-import-test-1', scrypt: APP });
    const weak = serializeKeystore(await encryptKeystore(v.mnemonic, PASS, TEST_SCRYPT));
    expect(await wallet.importKeystore(weak, PASS)).toEqual({ address: v.address, peerId: v.peerId });
    const stored = parseKeystore(wallet.exportKeystore());
    expect(stored.kdf).toMatchObject(APP);
    expect(stored.kdf.salt).not.toBe(parseKeystore(weak).kdf.salt);
    wallet.close();

    // After a reload the stored file unlocks with the same passphrase.
    const reloaded = await Wallet.open({ dbName: 'sprintnet-import-test-1', scrypt: APP });
    expect(parseKeystore(reloaded.exportKeystore()).kdf.N).toBe(APP.N);
    await reloaded.unlock(PASS);
    expect(reloaded.identity.address).toBe(v.address);
    reloaded.close();
  });
});
