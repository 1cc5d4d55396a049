import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getWallet, useWalletStore } from './store.ts';
import { identityFromMnemonic } from '../../wallet/index.ts';

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
    await s().confirmBackup(s().confirmIndices.map((i) => ` ${words[i].toUpperCase()} `));
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
});
