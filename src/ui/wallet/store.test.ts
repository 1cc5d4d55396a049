import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getWallet, useWalletStore } from './store.ts';
import { useStorageStore } from '../storage/store.ts';
import { TEST_SCRYPT, encryptKeystore, identityFromMnemonic, serializeKeystore } from '../../wallet/index.ts';
import vectorsFile from '../../wallet/vectors.json';
import { at } from '../../sprint/indexing.ts';

const PASS = 'store test passphrase';
const s = () => useWalletStore.getState();

describe('wallet UI store (real scrypt cost)', () => {
  it('create flow: nothing stored before the words are confirmed, and no secret kept after', async () => {
    await s().init();
    expect(s()).toMatchObject({ screen: 'welcome', status: 'none' });

    s().choosePassphrase('short', 'short');
    expect(s().error?.code).toBe('BAD_PARAMS');
    s().choosePassphrase(PASS, PASS + 'x');
    expect(s().error?.message).toMatch(/do not match/);
    s().choosePassphrase(PASS, PASS);
    const mnemonic = s().pendingMnemonic!;
    expect(s().screen).toBe('backup');
    expect(mnemonic.split(' ')).toHaveLength(12);
    expect(s().confirmIndices).toHaveLength(3);

    s().backupWritten();
    await s().confirmBackup(['wrong', 'words', 'here']);
    expect(s().error?.code).toBe('BACKUP_MISMATCH');
    expect(getWallet()!.state).toBe('none');

    const words = mnemonic.split(' ');
    await s().confirmBackup(s().confirmIndices.map((i) => ` ${at(words, i, 'word').toUpperCase()} `));
    expect(s()).toMatchObject({ screen: 'unlocked', status: 'unlocked', pendingMnemonic: null, pendingPassphrase: null, error: null });
    expect(s().info?.address).toBe((await identityFromMnemonic(mnemonic)).address);
    expect(JSON.stringify(s())).not.toContain(words.slice(0, 3).join(' '));

    s().lock();
    expect(s()).toMatchObject({ screen: 'unlock', status: 'locked' });
    await s().unlock('wrong passphrase');
    expect(s()).toMatchObject({ screen: 'unlock', status: 'locked', busy: null, error: { code: 'WRONG_PASSPHRASE' } });
    await s().unlock(PASS);
    expect(s()).toMatchObject({ screen: 'unlocked', status: 'unlocked', error: null });

    // A lock from elsewhere (auto-lock) leaves the unlocked screen.
    getWallet()!.lock();
    expect(s()).toMatchObject({ screen: 'unlock', status: 'locked' });
  });

  it('the locked screen cannot replace the stored wallet without its passphrase or a backup (issue 9)', async () => {
    expect(s().status).toBe('locked'); // the wallet of the test above
    const stored = s().info!.address;
    const other = at(vectorsFile.vectors, 1, 'test vector');
    const third = at(vectorsFile.vectors, 2, 'test vector');
    expect(s().replaceNeedsPassphrase).toBe(true);

    // Before the fix the store passed `replace` and this overwrote the only keystore.
    s().go('restore');
    await s().restore(other.mnemonic, 'new passphrase', 'new passphrase');
    expect(s()).toMatchObject({ status: 'locked', screen: 'restore', error: { code: 'BACKUP_REQUIRED' } });
    expect(s().error!.message).toMatch(/passphrase, or download a backup/);
    await s().restore(other.mnemonic, 'new passphrase', 'new passphrase', 'not the stored passphrase');
    expect(s().error).toMatchObject({ code: 'WRONG_CURRENT_PASSPHRASE' });
    const file = serializeKeystore(await encryptKeystore(third.mnemonic, 'file passphrase', TEST_SCRYPT));
    s().go('import');
    await s().importKeystore(file, 'file passphrase');
    expect(s().error).toMatchObject({ code: 'BACKUP_REQUIRED' });
    expect((await getWallet()!.store.getKeystore())!.address).toBe(stored);
    expect(s().info!.address).toBe(stored);

    // With the stored wallet's passphrase it goes ahead.
    await s().restore(other.mnemonic, 'new passphrase', 'new passphrase', PASS);
    expect(s()).toMatchObject({ status: 'unlocked', screen: 'unlocked', error: null, info: { address: other.address } });

    // A downloaded backup also allows it, and the UI stops asking for the passphrase.
    s().lock();
    expect(s().replaceNeedsPassphrase).toBe(true);
    expect(JSON.parse(s().exportKeystore()).address).toBe(other.address);
    expect(s().replaceNeedsPassphrase).toBe(false);
    s().go('import');
    await s().importKeystore(file, 'file passphrase');
    expect(s()).toMatchObject({ status: 'unlocked', error: null, info: { address: third.address } });
  });
});

describe('wallet UI store: browser storage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('asks the browser to persist storage once a wallet is stored, and says whether it agreed', async () => {
    const persist = vi.fn(async () => false);
    vi.stubGlobal('navigator', { storage: { persist, persisted: async () => false } });
    s().lock();
    await s().unlock('file passphrase'); // the keystore imported above
    expect(persist).not.toHaveBeenCalled(); // unlocking stores nothing
    s().go('import');
    const file = serializeKeystore(await encryptKeystore(at(vectorsFile.vectors, 0, 'test vector').mnemonic, 'file passphrase', TEST_SCRYPT));
    await s().importKeystore(file, 'file passphrase'); // unlocked: replacing it is allowed
    expect(s().error).toBeNull();
    expect(persist).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(useStorageStore.getState().persisted).toBe(false));
  });

  it('a full quota is reported clearly and changes nothing', async () => {
    expect(s().status).toBe('unlocked');
    const before = s().info!.address;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota exceeded', 'QuotaExceededError');
    });
    s().go('restore');
    await s().restore(at(vectorsFile.vectors, 1, 'test vector').mnemonic, 'new passphrase', 'new passphrase');
    expect(s().error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/storage is full.*Nothing was changed/) });
    expect(s().busy).toBeNull();
    vi.restoreAllMocks();
    expect((await getWallet()!.store.getKeystore())!.address).toBe(before);
  });
});
