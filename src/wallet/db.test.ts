import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import vectorsFile from './vectors.json';
import { DB_VERSION, openSprintnetDb, upgrade } from './db.ts';
import { TEST_SCRYPT, encryptKeystore } from './keystore.ts';

let n = 0;
const freshName = () => `sprintnet-test-db-${++n}`;
const v = vectorsFile.vectors[0];

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
    const b = await encryptKeystore(vectorsFile.vectors[1].mnemonic, 'pw', TEST_SCRYPT);
    await db.putKeystore(a);
    await expect(db.putKeystore(b)).rejects.toMatchObject({ code: 'WALLET_EXISTS' });
    expect((await db.getKeystore())?.address).toBe(a.address);
    await db.putKeystore(b, { replace: true });
    expect((await db.getKeystore())?.address).toBe(b.address);
    db.close();
  });
});
