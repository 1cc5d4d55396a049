import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { DB_VERSION, StorageError, keystoreRevision, openSprintnetDb, upgrade } from './db.ts';
import { TEST_SCRYPT, encryptKeystore } from './keystore.ts';

let n = 0;
const freshName = () => `sprintnet-test-db-${++n}`;
const v = at(vectorsFile.vectors, 0, 'wallet vector');

describe('sprintnet IndexedDB', () => {
  it('migrates a v1 database (first prototype layout) step by step, keeping its keystore', async () => {
    const name = freshName();
    const file = await encryptKeystore(v.mnemonic, 'pw', TEST_SCRYPT);
    const v1 = await openDB(name, 1, { upgrade: (db) => void db.createObjectStore('wallet') });
    await v1.put('wallet', file, 'keystore');
    v1.close();

    const db = await openSprintnetDb(name);
    expect(db.db.version).toBe(DB_VERSION);
    expect([...db.db.objectStoreNames].sort()).toEqual(['keystore', 'ledger', 'proofs', 'sprintState']);
    expect(await db.getKeystore()).toEqual(file);
    db.close();
  });

  it('migrates v2 to v3 without touching proofs or ledger', async () => {
    const name = freshName();
    const v2 = await openDB(name, 2, { upgrade: (d, old, _new, tx) => upgrade(d, old, tx as never, 2) });
    await v2.put('proofs', { id: 'p1', sprintId: 's1', createdAt: 1, data: new Uint8Array([1, 2]) });
    await v2.add('ledger', { time: 1, kind: 'reward', amount: 5 });
    v2.close();

    const db = await openSprintnetDb(name);
    expect(await db.getProof('p1')).toMatchObject({ sprintId: 's1', data: new Uint8Array([1, 2]) });
    expect(await db.listLedger()).toEqual([{ seq: 1, time: 1, kind: 'reward', amount: 5 }]);
    expect(await db.listSprintStates()).toEqual([]);
    db.close();
  });

  it('typed accessors persist across a reopen (a page reload)', async () => {
    const name = freshName();
    let db = await openSprintnetDb(name);
    await db.putProof({ id: 'b', sprintId: 's2', createdAt: 20, data: new Uint8Array([9]) });
    await db.putProof({ id: 'a', sprintId: 's1', createdAt: 10, data: new Uint8Array([8]) });
    expect(await db.appendLedger({ time: 5, kind: 'reward', amount: 3, ref: 'a' })).toBe(1);
    expect(await db.appendLedger({ time: 6, kind: 'reward', amount: 4, ref: 'b' })).toBe(2);
    await db.saveSprintState('s3', { step: 17, rows: new Float32Array([1.5]) });
    db.close();

    db = await openSprintnetDb(name);
    expect((await db.listProofs()).map((p) => p.id)).toEqual(['a', 'b']);
    expect((await db.listProofs('s2')).map((p) => p.id)).toEqual(['b']);
    expect((await db.listLedger()).map((e) => e.seq)).toEqual([1, 2]);
    const st = await db.loadSprintState<{ step: number; rows: Float32Array }>('s3');
    expect(st?.state.step).toBe(17);
    expect(st?.state.rows).toEqual(new Float32Array([1.5]));
    await db.clearSprintState('s3');
    expect(await db.loadSprintState('s3')).toBeUndefined();
    db.close();
  });

  it('never overwrites a stored keystore unless asked', async () => {
    const db = await openSprintnetDb(freshName());
    const a = await encryptKeystore(v.mnemonic, 'pw', TEST_SCRYPT);
    const b = await encryptKeystore(at(vectorsFile.vectors, 1, 'wallet vector').mnemonic, 'pw', TEST_SCRYPT);
    const stored = await db.putKeystore(a);
    await expect(db.putKeystore(b)).rejects.toMatchObject({ code: 'WALLET_EXISTS' });
    expect((await db.getKeystore())?.address).toBe(a.address);
    await db.putKeystore(b, { replaces: keystoreRevision(stored) });
    expect((await db.getKeystore())?.address).toBe(b.address);
    db.close();
  });

  it('replaces or deletes a keystore only if it is still the revision the caller read (another tab may have replaced it)', async () => {
    const name = freshName();
    const [tabA, tabB] = [await openSprintnetDb(name), await openSprintnetDb(name)];
    const a = await encryptKeystore(v.mnemonic, 'pw', TEST_SCRYPT);
    const b = await encryptKeystore(at(vectorsFile.vectors, 1, 'wallet vector').mnemonic, 'pw', TEST_SCRYPT);
    const c = await encryptKeystore(at(vectorsFile.vectors, 2, 'wallet vector').mnemonic, 'pw', TEST_SCRYPT);
    const first = await tabA.putKeystore(a);
    const seenByA = keystoreRevision((await tabA.getKeystoreRecord())!);
    expect(seenByA).toBe(keystoreRevision(first));
    const second = await tabB.putKeystore(b, { replaces: keystoreRevision((await tabB.getKeystoreRecord())!) });
    expect(keystoreRevision(second)).not.toBe(seenByA);
    // Tab A still believes `a` is stored: its replace and its delete are refused, b survives.
    await expect(tabA.putKeystore(c, { replaces: seenByA })).rejects.toMatchObject({ code: 'KEYSTORE_CHANGED' });
    await expect(tabA.deleteKeystore(seenByA)).rejects.toMatchObject({ code: 'KEYSTORE_CHANGED' });
    expect((await tabA.getKeystore())?.address).toBe(b.address);
    // Records written before revisions existed are told apart by their random cipher nonce.
    const legacy = { id: 'default', file: a, updatedAt: 1 };
    await tabA.db.put('keystore', legacy);
    expect(keystoreRevision(legacy)).toBe(`legacy:${a.cipher.nonce}`);
    await tabA.deleteKeystore(keystoreRevision(legacy));
    expect(await tabB.getKeystore()).toBeUndefined();
    tabA.close();
    tabB.close();
  });

  it('two tabs merging into the same Sprint state inside the transaction keep both sides', async () => {
    const name = freshName();
    const [tabA, tabB] = [await openSprintnetDb(name), await openSprintnetDb(name)];
    const add = (x: number) => (stored: number[] | undefined) => [...(stored ?? []), x];
    // Started together: IndexedDB serialises the readwrite transactions, so neither overwrites the other.
    await Promise.all([tabA.updateSprintState('s', add(1)), tabB.updateSprintState('s', add(2)), tabA.updateSprintState('s', add(3))]);
    expect((await tabB.loadSprintState<number[]>('s'))!.state.sort()).toEqual([1, 2, 3]);
    tabA.close();
    tabB.close();
  });

  it('a newer tab upgrading the database: pending saves finish, then calls fail with a typed UPGRADED_ELSEWHERE', async () => {
    const name = freshName();
    const old = await openSprintnetDb(name, { flushMs: 2000 });
    const reasons: string[] = [];
    old.onClose((r) => reasons.push(r));
    let flushed = false;
    old.onVersionChange(async () => {
      await old.saveSprintState('last', { nextNonce: 99 });
      flushed = true;
    });
    // What a newer build does on load: open with a higher version, which fires versionchange here.
    const newer = await openDB(name, DB_VERSION + 1);
    expect(flushed).toBe(true);
    expect(reasons).toEqual(['versionchange']);
    expect(old.closedReason).toBe('versionchange');
    expect(await newer.get('sprintState', 'last')).toMatchObject({ state: { nextNonce: 99 } });
    // Before: every call threw a bare InvalidStateError ("the database connection is closing").
    const failure = await old.saveSprintState('later', {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageError);
    expect(failure).toMatchObject({ code: 'UPGRADED_ELSEWHERE', message: expect.stringMatching(/updated in another tab; reload/) });
    await expect(old.getKeystore()).rejects.toMatchObject({ code: 'UPGRADED_ELSEWHERE' });
    newer.close();
    // This (older) code opening the newer database is told the same, not a bare VersionError.
    await expect(openSprintnetDb(name)).rejects.toMatchObject({ name: 'StorageError', code: 'UPGRADED_ELSEWHERE' });
  });

  it('a full storage quota is a typed QUOTA_EXCEEDED error', async () => {
    const db = await openSprintnetDb(freshName());
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('quota exceeded', 'QuotaExceededError');
    };
    try {
      await expect(db.saveSprintState('s', { found: [1] })).rejects.toMatchObject({
        name: 'StorageError',
        code: 'QUOTA_EXCEEDED',
        message: expect.stringMatching(/storage quota/),
      });
      await expect(db.updateSprintState('s', () => 1)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
      await expect(db.putKeystore(await encryptKeystore(v.mnemonic, 'pw', TEST_SCRYPT))).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(await db.getKeystore()).toBeUndefined();
    db.close();
  });
});
