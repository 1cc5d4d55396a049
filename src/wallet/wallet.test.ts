import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import vectorsFile from './vectors.json';
import { Wallet } from './wallet.ts';
import { TEST_SCRYPT, encryptKeystore, serializeKeystore } from './keystore.ts';
import { loadHeadlessWallet } from './node-loader.ts';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let n = 0;
const [v, w] = vectorsFile.vectors;
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
    await expect(wallet.importKeystore(other.replace(/"ciphertext": "(.)/, (_, c: string) => `"ciphertext": "${c === '0' ? '1' : '0'}`), 'other', { replace: true }))
      .rejects.toMatchObject({ code: 'CORRUPT_KEYSTORE' });
    await expect(wallet.importKeystore(other.replace('"version": 1', '"version": 9'), 'other', { replace: true }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
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
    await b.forget();
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
