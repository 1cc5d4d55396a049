/**
 * The `sprintnet` IndexedDB database: keystore, earned proofs, ledger and in-progress Sprint
 * state. Each write is one transaction, so a reload keeps everything that was committed.
 *
 * Versions (upgrade replays every step from the stored version, so any old layout migrates):
 *   v1  store `wallet` (out-of-line keys), keystore file under key "keystore" (first prototype)
 *   v2  store `keystore` {id, file, updatedAt}; v1 record moved to id "default", `wallet` dropped;
 *       stores `proofs` (by sprint, by time) and `ledger` (auto-increment seq, by time)
 *   v3  store `sprintState` keyed by sprintId
 *
 * Several tabs share the database. Writes that other tabs may race are read-modify-write inside
 * one readwrite transaction (IndexedDB serialises those): keystore writes compare the stored
 * record's revision first, Sprint state merges with what is stored. When a newer tab asks to
 * upgrade the schema (`versionchange`), this connection lets registered hooks finish their
 * writes, closes, and from then on every call throws StorageError UPGRADED_ELSEWHERE.
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
  /** Random per write; absent in records written before it existed (see keystoreRevision). */
  revision?: string;
}

/** Identifies one stored keystore write: tabs compare it to notice a keystore replaced elsewhere. */
export function keystoreRevision(record: KeystoreRecord): string {
  // Every encryption draws a fresh 24-byte nonce, so it tells writes apart in older records too.
  return record.revision ?? `legacy:${record.file.cipher.nonce}`;
}

export type StorageErrorCode =
  /** The browser refused the write: this origin's storage quota is used up. */
  | 'QUOTA_EXCEEDED'
  /** A newer Sprintnet opened in another tab upgraded the database; this page must reload. */
  | 'UPGRADED_ELSEWHERE'
  /** The connection was closed (by this page, or by the browser, e.g. storage cleared). */
  | 'CLOSED'
  /** IndexedDB could not be opened at all (private mode, disabled storage). */
  | 'UNAVAILABLE';

/** Storage failures the UI can name; anything else IndexedDB throws is passed on unchanged. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

export type CloseReason = 'versionchange' | 'terminated' | 'closed';

function closedError(reason: CloseReason, cause?: unknown): StorageError {
  switch (reason) {
    case 'versionchange':
      return new StorageError('UPGRADED_ELSEWHERE', 'Sprintnet was updated in another tab; reload this page', { cause });
    case 'terminated':
      return new StorageError('CLOSED', 'the browser closed the database (storage cleared or failed); reload this page', { cause });
    default:
      return new StorageError('CLOSED', 'the database connection is closed', { cause });
  }
}

const errorName = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : undefined;

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
  for (let v = oldVersion; v < newVersion; v++) {
    const step = STEPS[v];
    if (!step) throw new WalletError('UNSUPPORTED_VERSION', `no migration from wallet database version ${v} to ${v + 1}`);
    step(db, tx);
  }
}

/** How long a versionchange waits for registered hooks (pending saves) before closing anyway. */
export const VERSIONCHANGE_FLUSH_MS = 5000;

export interface OpenOptions {
  /** Upper bound on the wait for onVersionChange hooks; default VERSIONCHANGE_FLUSH_MS. */
  flushMs?: number;
}

export async function openSprintnetDb(name = DB_NAME, opts: OpenOptions = {}): Promise<SprintnetDb> {
  let wrapper: SprintnetDb | undefined;
  let db: IDBPDatabase<SprintnetSchema>;
  try {
    db = await openDB<SprintnetSchema>(name, DB_VERSION, {
      upgrade: (d, oldVersion, _newVersion, tx) => upgrade(d as unknown as AnyDb, oldVersion, tx as unknown as AnyTx),
      // Another tab wants a newer schema: finish our writes, then step aside rather than block it.
      blocking: () => {
        if (wrapper) void wrapper.versionChange();
        else db?.close();
      },
      terminated: () => wrapper?.markClosed('terminated'),
    });
  } catch (cause) {
    if (errorName(cause) === 'VersionError') {
      throw new StorageError(
        'UPGRADED_ELSEWHERE',
        'this page is older than the Sprintnet data in this browser (a newer version ran in another tab); reload this page',
        { cause },
      );
    }
    throw new StorageError('UNAVAILABLE', `IndexedDB could not be opened: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  wrapper = new SprintnetDb(db, opts);
  return wrapper;
}

/** Small typed accessors; later code (engine, ledger) uses these rather than raw IDB. */
export class SprintnetDb {
  private closed: CloseReason | null = null;
  private closing = false;
  private readonly flushHooks = new Set<() => unknown>();
  private readonly closeListeners = new Set<(reason: CloseReason) => void>();
  private readonly flushMs: number;

  constructor(
    readonly db: IDBPDatabase<SprintnetSchema>,
    opts: OpenOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? VERSIONCHANGE_FLUSH_MS;
  }

  /** Why the connection is closed, or null while it is usable. */
  get closedReason(): CloseReason | null {
    return this.closed;
  }

  /**
   * `hook` runs when another tab asks to upgrade the database, before this connection closes:
   * stop producing data and await the last saves there (bounded by `flushMs`).
   */
  onVersionChange(hook: () => unknown): () => void {
    this.flushHooks.add(hook);
    return () => this.flushHooks.delete(hook);
  }

  /** `listener` hears once why the connection closed. */
  onClose(listener: (reason: CloseReason) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Called for idb's `blocking` (the versionchange event). Public for openSprintnetDb only. */
  async versionChange(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hooks = [...this.flushHooks].map((h) => Promise.resolve().then(h));
    await Promise.race([Promise.allSettled(hooks), new Promise((resolve) => (timer = setTimeout(resolve, this.flushMs)))]);
    clearTimeout(timer);
    this.markClosed('versionchange');
  }

  /** Marks the connection closed (closing it if it is not) and tells the listeners. */
  markClosed(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = reason;
    this.db.close();
    for (const l of this.closeListeners) l(reason);
  }

  close(): void {
    this.markClosed('closed');
  }

  /** The open connection; throws the typed reason once it is closed. */
  private get live(): IDBPDatabase<SprintnetSchema> {
    if (this.closed) throw closedError(this.closed);
    return this.db;
  }

  /** Runs one IndexedDB operation, turning quota and closed-connection failures into StorageError. */
  private async op<T>(fn: (db: IDBPDatabase<SprintnetSchema>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.live);
    } catch (e) {
      if (e instanceof StorageError || e instanceof WalletError) throw e;
      const name = errorName(e);
      if (name === 'QuotaExceededError') {
        throw new StorageError('QUOTA_EXCEEDED', "the browser refused to store more data: this site's storage quota is used up", { cause: e });
      }
      if (this.closed && (name === 'InvalidStateError' || name === 'AbortError')) throw closedError(this.closed, e);
      throw e;
    }
  }

  getKeystore(id = DEFAULT_KEYSTORE_ID): Promise<KeystoreFile | undefined> {
    return this.getKeystoreRecord(id).then((r) => r?.file);
  }

  getKeystoreRecord(id = DEFAULT_KEYSTORE_ID): Promise<KeystoreRecord | undefined> {
    return this.op((db) => db.get('keystore', id));
  }

  /**
   * Stores a keystore and returns its record. Without `replaces` it only adds (WALLET_EXISTS if
   * one is stored). With `replaces` it overwrites only the record of that revision: if another
   * tab replaced, deleted or created the keystore meanwhile, nothing is written and it throws
   * KEYSTORE_CHANGED. Check and write are one readwrite transaction, so tabs cannot interleave.
   */
  putKeystore(file: KeystoreFile, opts: { id?: string; replaces?: string } = {}): Promise<KeystoreRecord> {
    const record: KeystoreRecord = { id: opts.id ?? DEFAULT_KEYSTORE_ID, file, updatedAt: Date.now(), revision: newRevision() };
    return this.op(async (db) => {
      const tx = db.transaction('keystore', 'readwrite');
      const current = await tx.store.get(record.id);
      const refusal = keystoreRefusal(current, opts.replaces);
      if (refusal) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw refusal;
      }
      await Promise.all([tx.store.put(record), tx.done]);
      return record;
    });
  }

  /** Deletes the keystore of revision `revision`; KEYSTORE_CHANGED if the stored one is another. */
  deleteKeystore(revision: string, id = DEFAULT_KEYSTORE_ID): Promise<void> {
    return this.op(async (db) => {
      const tx = db.transaction('keystore', 'readwrite');
      const refusal = keystoreRefusal(await tx.store.get(id), revision);
      if (refusal) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw refusal;
      }
      await Promise.all([tx.store.delete(id), tx.done]);
    });
  }

  putProof(proof: ProofRecord): Promise<string> {
    return this.op((db) => db.put('proofs', proof));
  }
  getProof(id: string): Promise<ProofRecord | undefined> {
    return this.op((db) => db.get('proofs', id));
  }
  /** Oldest first. */
  listProofs(sprintId?: string): Promise<ProofRecord[]> {
    return this.op((db) => (sprintId === undefined ? db.getAllFromIndex('proofs', 'byCreatedAt') : db.getAllFromIndex('proofs', 'bySprint', sprintId)));
  }

  /** Appends and returns the entry's sequence number. Entries are never edited. */
  appendLedger(entry: Omit<LedgerEntry, 'seq'>): Promise<number> {
    return this.op((db) => db.add('ledger', { ...entry }));
  }
  listLedger(): Promise<LedgerEntry[]> {
    return this.op((db) => db.getAll('ledger'));
  }

  /** Overwrites the state. Use updateSprintState where another tab may write the same Sprint. */
  saveSprintState<T>(sprintId: string, state: T): Promise<string> {
    return this.op((db) => db.put('sprintState', { sprintId, updatedAt: Date.now(), state }));
  }

  /**
   * Read-modify-write in one readwrite transaction: `merge` gets the stored state (undefined if
   * none) and returns what to store, which is also returned. Two tabs saving the same Sprint are
   * serialised by IndexedDB, so a merge that keeps both sides loses nothing. `merge` must be
   * synchronous (the transaction would commit during an await).
   */
  updateSprintState<T>(sprintId: string, merge: (stored: T | undefined) => T): Promise<T> {
    return this.op(async (db) => {
      const tx = db.transaction('sprintState', 'readwrite');
      const stored = await tx.store.get(sprintId);
      const next = merge(stored?.state as T | undefined);
      await Promise.all([tx.store.put({ sprintId, updatedAt: Date.now(), state: next }), tx.done]);
      return next;
    });
  }
  async loadSprintState<T>(sprintId: string): Promise<SprintStateRecord<T> | undefined> {
    return (await this.op((db) => db.get('sprintState', sprintId))) as SprintStateRecord<T> | undefined;
  }
  listSprintStates(): Promise<SprintStateRecord[]> {
    return this.op((db) => db.getAll('sprintState'));
  }
  clearSprintState(sprintId: string): Promise<void> {
    return this.op((db) => db.delete('sprintState', sprintId));
  }
}

function newRevision(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Why a keystore write expecting `expected` (undefined: an empty slot) must not happen, if it must not. */
function keystoreRefusal(current: KeystoreRecord | undefined, expected: string | undefined): WalletError | null {
  if (expected === undefined) {
    return current ? new WalletError('WALLET_EXISTS', 'a wallet is already stored in this browser') : null;
  }
  if (!current || keystoreRevision(current) !== expected) {
    return new WalletError('KEYSTORE_CHANGED', 'the stored wallet was changed in another tab since this page read it');
  }
  return null;
}
