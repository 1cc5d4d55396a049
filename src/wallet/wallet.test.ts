import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { Wallet } from './wallet.ts';
import { TEST_SCRYPT, encryptKeystore, serializeKeystore } from './keystore.ts';
import { loadHeadlessWallet } from './node-loader.ts';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let n = 0;
const v = at(vectorsFile.vectors, 0, 'wallet vector');
const w = at(vectorsFile.vectors, 1, 'wallet vector');
const PASS = 'a long passphrase';
const open = (dbName = `sprintnet-wallet-test-${++n}`) => Wallet.open({ dbName, scrypt: TEST_SCRYPT });

afterEach(() => void vi.useRealTimers());

describe('Wallet', () => {
  it('none → restore → unlocked → lock (secrets zeroed) → reload → unlock gives the same identity', async () => {
    const dbName = `sprintnet-wallet-test-${++n}`;
    const wallet = await open(dbName);
    expect(wallet.state).toBe('none');
    const states: string[] = [];
    wallet.subscribe((s) => states.push(s));
    expect(await wallet.restore(v.mnemonic, PASS)).toEqual({ address: v.address, peerId: v.peerId });
    expect(wallet.state).toBe('unlocked');
    const id = wallet.identity;
    wallet.lock();
    expect(wallet.state).toBe('locked');
    expect(states).toEqual(['unlocked', 'locked']);
    for (const secret of [id.ed25519Seed, id.blsSecretKey, id.mnemonicEntropy, id.libp2pKey.raw]) expect(secret.every((b) => b === 0)).toBe(true);
    expect(() => wallet.identity).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    wallet.close();

    const reloaded = await open(dbName);
    expect(reloaded.state).toBe('locked');
    expect(reloaded.info).toEqual({ address: v.address, peerId: v.peerId });
    await expect(reloaded.unlock('nope')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(reloaded.state).toBe('locked');
    await reloaded.unlock(PASS);
    expect(reloaded.identity.publicKey).toEqual(Uint8Array.from(Buffer.from(v.publicKey, 'hex')));
    reloaded.close();
  });

  it('refuses to replace a wallet by accident, and failed imports change nothing', async () => {
    const wallet = await open();
    await wallet.create(v.mnemonic, PASS);
    await expect(wallet.restore(w.mnemonic, PASS)).rejects.toMatchObject({ code: 'WALLET_EXISTS' });
    const other = serializeKeystore(await encryptKeystore(w.mnemonic, 'other', TEST_SCRYPT));
    await expect(wallet.importKeystore(other, 'wrong', { replace: true })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(
      wallet.importKeystore(
        other.replace(/"ciphertext": "(.)/, (_, c: string) => `"ciphertext": "${c === '0' ? '1' : '0'}`),
        'other',
        { replace: true },
      ),
    ).rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
    await expect(wallet.importKeystore(other.replace('"version": 1', '"version": 9'), 'other', { replace: true })).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
    });
    expect(wallet.state).toBe('unlocked');
    expect(wallet.identity.address).toBe(v.address);
    expect((await wallet.store.getKeystore())?.address).toBe(v.address);
    await wallet.importKeystore(other, 'other', { replace: true });
    expect(wallet.identity.address).toBe(w.address);
    wallet.close();
  });

  it('an exported keystore imports in another browser with the same address and peer id', async () => {
    const a = await open();
    await a.create(v.mnemonic, PASS);
    const json = a.exportKeystore();
    a.close();
    const b = await open();
    expect(await b.importKeystore(json, PASS)).toEqual({ address: v.address, peerId: v.peerId });
    b.lock();
    await expect(b.forget()).rejects.toMatchObject({ code: 'BACKUP_REQUIRED' });
    await b.forget({ currentPassphrase: PASS });
    expect(b.state).toBe('none');
    b.close();
  });

  it('auto-locks after the configured inactivity, and activity postpones it', async () => {
    const wallet = await open();
    await wallet.restore(v.mnemonic, PASS);
    vi.useFakeTimers();
    wallet.setAutoLock(1000);
    vi.advanceTimersByTime(900);
    wallet.touch();
    vi.advanceTimersByTime(900);
    expect(wallet.state).toBe('unlocked');
    vi.advanceTimersByTime(200);
    expect(wallet.state).toBe('locked');
    wallet.close();
  });
});

describe('replacing the stored wallet needs proof (issue 9: the locked screen could overwrite it)', () => {
  it('a locked wallet is replaced only with its passphrase or after an export; nothing changes otherwise', async () => {
    const wallet = await open();
    await wallet.create(v.mnemonic, PASS);
    wallet.lock();
    const other = serializeKeystore(await encryptKeystore(w.mnemonic, 'other', TEST_SCRYPT));
    // Before the fix the UI passed `replace` from the locked screen and this succeeded.
    await expect(wallet.restore(w.mnemonic, 'x'.repeat(8), { replace: true })).rejects.toMatchObject({ code: 'BACKUP_REQUIRED' });
    await expect(wallet.importKeystore(other, 'other', { replace: true })).rejects.toMatchObject({ code: 'BACKUP_REQUIRED' });
    await expect(wallet.restore(w.mnemonic, 'x'.repeat(8), { replace: true, currentPassphrase: 'not it' })).rejects.toMatchObject({
      code: 'WRONG_CURRENT_PASSPHRASE',
    });
    await expect(wallet.forget()).rejects.toMatchObject({ code: 'BACKUP_REQUIRED' });
    expect(wallet.canReplaceWithoutPassphrase).toBe(false);
    expect((await wallet.store.getKeystore())?.address).toBe(v.address);
    expect(wallet.state).toBe('locked');

    // The owner's passphrase proves it.
    const progress: number[] = [];
    await wallet.importKeystore(other, 'other', { replace: true, currentPassphrase: PASS, onProgress: (f) => progress.push(f) });
    expect(wallet.identity.address).toBe(w.address);
    expect(Math.max(...progress)).toBeLessThanOrEqual(1);
    expect(progress.some((f) => f > 0.5)).toBe(true);
    expect(wallet.canReplaceWithoutPassphrase).toBe(true); // unlocked

    // A downloaded backup of exactly the stored keystore also lets it go.
    wallet.lock();
    expect(wallet.canReplaceWithoutPassphrase).toBe(false);
    const backup = wallet.exportKeystore();
    expect(wallet.canReplaceWithoutPassphrase).toBe(true);
    await wallet.restore(v.mnemonic, PASS, { replace: true });
    expect((await wallet.store.getKeystore())?.address).toBe(v.address);
    expect(JSON.parse(backup).address).toBe(w.address);
    wallet.close();
  });
});

describe('tabs sharing one keystore', () => {
  const twoTabs = async (broadcastA: boolean) => {
    const dbName = `sprintnet-wallet-test-${++n}`;
    const a = await Wallet.open({ dbName, scrypt: TEST_SCRYPT, broadcast: broadcastA });
    await a.create(v.mnemonic, PASS);
    a.lock();
    const b = await Wallet.open({ dbName, scrypt: TEST_SCRYPT });
    return { a, b };
  };

  it('a stale tab cannot unlock a keystore another tab replaced: KEYSTORE_CHANGED, and it shows the stored one', async () => {
    const { a, b } = await twoTabs(false); // no notice reaches A: only the check in unlock can catch it
    await b.restore(w.mnemonic, 'b passphrase', { replace: true, currentPassphrase: PASS });
    expect(a.info?.address).toBe(v.address);
    const events: (string | undefined)[] = [];
    a.subscribe((_s, e) => events.push(e));
    // Before the fix A unlocked v's identity here although the browser now stores w.
    await expect(a.unlock(PASS)).rejects.toMatchObject({ code: 'KEYSTORE_CHANGED' });
    expect(a.state).toBe('locked');
    expect(a.info?.address).toBe(w.address);
    expect(events).toEqual(['changed-elsewhere']);
    await a.unlock('b passphrase');
    expect(a.identity.address).toBe(w.address);
    a.close();
    b.close();
  });

  it('a replace committed while the KDF ran is caught after it, and the decrypted secrets are wiped', async () => {
    const { a, b } = await twoTabs(false);
    const read = a.store.getKeystoreRecord.bind(a.store);
    let calls = 0;
    vi.spyOn(a.store, 'getKeystoreRecord').mockImplementation(async (id) => {
      const record = await read(id);
      // The first read is unlock's check before the KDF; B's replace lands right after it.
      if (++calls === 1) await b.restore(w.mnemonic, 'b passphrase', { replace: true, currentPassphrase: PASS });
      return record;
    });
    await expect(a.unlock(PASS)).rejects.toMatchObject({ code: 'KEYSTORE_CHANGED' });
    expect(calls).toBe(2);
    expect(a.state).toBe('locked');
    expect(a.info?.address).toBe(w.address);
    a.close();
    b.close();
  });

  it('a stale tab cannot replace what another tab stored meanwhile, even while unlocked', async () => {
    const { a, b } = await twoTabs(false);
    await a.unlock(PASS); // A may replace the keystore it unlocked...
    await b.restore(w.mnemonic, 'b passphrase', { replace: true, currentPassphrase: PASS });
    // ...but not B's, which it never saw: the write's transaction compares revisions.
    await expect(a.restore(at(vectorsFile.vectors, 2, 'wallet vector').mnemonic, PASS, { replace: true })).rejects.toMatchObject({ code: 'KEYSTORE_CHANGED' });
    expect((await b.store.getKeystore())?.address).toBe(w.address);
    expect(a.state).toBe('locked'); // its identity is no longer the stored wallet's
    expect(a.info?.address).toBe(w.address);
    a.close();
    b.close();
  });

  it('the BroadcastChannel notice locks and refreshes other tabs at once', async () => {
    const { a, b } = await twoTabs(true);
    await a.unlock(PASS);
    const changed = new Promise<string | undefined>((resolve) => a.subscribe((_s, e) => resolve(e)));
    await b.restore(w.mnemonic, 'b passphrase', { replace: true, currentPassphrase: PASS });
    expect(await changed).toBe('changed-elsewhere');
    expect(a.state).toBe('locked');
    expect(a.info?.address).toBe(w.address);
    a.close();
    b.close();
  });
});

describe('headless host wallet', () => {
  it('loads from SPRINTNET_MNEMONIC or from a keystore file, to the same identity', async () => {
    const fromEnv = await loadHeadlessWallet({ env: { SPRINTNET_MNEMONIC: v.mnemonic } });
    expect(fromEnv.source).toBe('mnemonic');
    expect(fromEnv.identity.peerId).toBe(v.peerId);

    const dir = await mkdtemp(join(tmpdir(), 'sprintnet-ks-'));
    try {
      const path = join(dir, 'keystore.json');
      await writeFile(path, serializeKeystore(await encryptKeystore(v.mnemonic, PASS, TEST_SCRYPT)));
      const fromFile = await loadHeadlessWallet({ keystorePath: path, env: { SPRINTNET_PASSPHRASE: PASS } });
      expect(fromFile.identity.address).toBe(v.address);
      await expect(loadHeadlessWallet({ keystorePath: path, passphrase: 'bad', env: {} })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
      await expect(loadHeadlessWallet({ keystorePath: path, env: {} })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    } finally {
      await rm(dir, { recursive: true });
    }
    await expect(loadHeadlessWallet({ env: {} })).rejects.toMatchObject({ code: 'NO_WALLET' });
  });
});
