/**
 * The `sprintnet` IndexedDB database: keystore, earned proofs, ledger and in-progress Sprint
 * state. Each write is one transaction, so a reload keeps everything that was committed.
 *
 * Versions (upgrade replays every step from the stored version, so any old layout migrates):
 *   v1  store `wallet` (out-of-line keys), keystore file under key "keystore" (first prototype)
 *   v2  store `keystore` {id, file, updatedAt}; v1 record moved to id "default", `wallet` dropped;
 *       stores `proofs` (by sprint, by time) and `ledger` (auto-increment seq, by time)
 *   v3  store `sprintState` keyed by sprintId
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { KeystoreFile } from './keystore.ts';
import { WalletError } from './errors.ts';

export const DB_NAME = 'sprintnet';
export const DB_VERSION = 3;
export const DEFAULT_KEYSTORE_ID = 'default';

export interface KeystoreRecord {
  id: string;
  file: KeystoreFile;
  updatedAt: number;
}
export interface ProofRecord {
  /** Unique proof id (e.g. hex hash of the proof bytes). */
  id: string;
  sprintId: string;
  createdAt: number;
  /** Canonical proof bytes (src/codec/binary.ts encoding). */
  data: Uint8Array;
  meta?: Record<string, string | number | boolean>;
}
export interface LedgerEntry {
  /** Assigned by the store on append. */
  seq?: number;
  time: number;
  kind: string;
  amount: number;
  ref?: string;
  memo?: string;
}
export interface SprintStateRecord<T = unknown> {
  sprintId: string;
  updatedAt: number;
  /** Structured-cloneable engine state. */
  state: T;
}

export interface SprintnetSchema extends DBSchema {
  keystore: { key: string; value: KeystoreRecord };
  proofs: { key: string; value: ProofRecord; indexes: { bySprint: string; byCreatedAt: number } };
  ledger: { key: number; value: LedgerEntry; indexes: { byTime: number } };
  sprintState: { key: string; value: SprintStateRecord };
}

// Upgrade code also touches stores that no longer exist (v1 `wallet`), so it works untyped.
type AnyDb = IDBPDatabase<unknown>;
type AnyTx = IDBPTransaction<unknown, string[], 'versionchange'>;

/** Schema steps; step i turns version i into version i + 1. Append only. */
const STEPS: ReadonlyArray<(db: AnyDb, tx: AnyTx) => void> = [
  (db) => {
    db.createObjectStore('wallet');
  },
  (db, tx) => {
    const keystore = db.createObjectStore('keystore', { keyPath: 'id' });
    const proofs = db.createObjectStore('proofs', { keyPath: 'id' });
    proofs.createIndex('bySprint', 'sprintId');
    proofs.createIndex('byCreatedAt', 'createdAt');
    db.createObjectStore('ledger', { keyPath: 'seq', autoIncrement: true }).createIndex('byTime', 'time');
    // Chained on the request, not awaited elsewhere: the versionchange transaction must stay active.
    void tx
      .objectStore('wallet')
      .get('keystore')
      .then((file) => {
        if (file !== undefined) void keystore.put({ id: DEFAULT_KEYSTORE_ID, file, updatedAt: Date.now() });
        db.deleteObjectStore('wallet');
      });
  },
  (db) => {
    db.createObjectStore('sprintState', { keyPath: 'sprintId' });
  },
];

/** Migrates one step at a time from `oldVersion` to `newVersion` inside the versionchange transaction. */
export function upgrade(db: AnyDb, oldVersion: number, tx: AnyTx, newVersion = DB_VERSION): void {
  for (let v = oldVersion; v < newVersion; v++) STEPS[v](db, tx);
}

export async function openSprintnetDb(name = DB_NAME): Promise<SprintnetDb> {
  const db = await openDB<SprintnetSchema>(name, DB_VERSION, {
    upgrade: (d, oldVersion, _newVersion, tx) => upgrade(d as unknown as AnyDb, oldVersion, tx as unknown as AnyTx),
    // Another tab wants a newer schema: step aside rather than block it forever.
    blocking: () => db.close(),
  });
  return new SprintnetDb(db);
}

/** Small typed accessors; later code (engine, ledger) uses these rather than raw IDB. */
export class SprintnetDb {
  constructor(readonly db: IDBPDatabase<SprintnetSchema>) {}

  close(): void {
    this.db.close();
  }

  getKeystore(id = DEFAULT_KEYSTORE_ID): Promise<KeystoreFile | undefined> {
    return this.db.get('keystore', id).then((r) => r?.file);
  }

  /** Adds the keystore; refuses to overwrite an existing one unless `replace` is set. */
  async putKeystore(file: KeystoreFile, opts: { id?: string; replace?: boolean } = {}): Promise<void> {
    const record: KeystoreRecord = { id: opts.id ?? DEFAULT_KEYSTORE_ID, file, updatedAt: Date.now() };
    if (opts.replace) {
      await this.db.put('keystore', record);
      return;
    }
    try {
      await this.db.add('keystore', record);
    } catch (cause) {
      throw new WalletError('WALLET_EXISTS', 'a wallet is already stored in this browser', { cause });
    }
  }

  deleteKeystore(id = DEFAULT_KEYSTORE_ID): Promise<void> {
    return this.db.delete('keystore', id);
  }

  putProof(proof: ProofRecord): Promise<string> {
    return this.db.put('proofs', proof);
  }
  getProof(id: string): Promise<ProofRecord | undefined> {
    return this.db.get('proofs', id);
  }
  /** Oldest first. */
  listProofs(sprintId?: string): Promise<ProofRecord[]> {
    return sprintId === undefined
      ? this.db.getAllFromIndex('proofs', 'byCreatedAt')
      : this.db.getAllFromIndex('proofs', 'bySprint', sprintId);
  }

  /** Appends and returns the entry's sequence number. Entries are never edited. */
  appendLedger(entry: Omit<LedgerEntry, 'seq'>): Promise<number> {
    return this.db.add('ledger', { ...entry });
  }
  listLedger(): Promise<LedgerEntry[]> {
    return this.db.getAll('ledger');
  }

  saveSprintState<T>(sprintId: string, state: T): Promise<string> {
    return this.db.put('sprintState', { sprintId, updatedAt: Date.now(), state });
  }
  async loadSprintState<T>(sprintId: string): Promise<SprintStateRecord<T> | undefined> {
    return (await this.db.get('sprintState', sprintId)) as SprintStateRecord<T> | undefined;
  }
  listSprintStates(): Promise<SprintStateRecord[]> {
    return this.db.getAll('sprintState');
  }
  clearSprintState(sprintId: string): Promise<void> {
    return this.db.delete('sprintState', sprintId);
  }
}

