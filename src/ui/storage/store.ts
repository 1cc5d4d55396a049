/**
 * The page's one connection to the `sprintnet` IndexedDB database, shared by the wallet and the
 * Sprint view, and what the page must tell the volunteer about storage: that a newer Sprintnet
 * in another tab upgraded the database (this page must reload), and whether the browser agreed
 * to keep the data persistently (navigator.storage.persist()).
 */
import { create } from 'zustand';
import { isStorageError, openSprintnetDb, type CloseReason, type SprintnetDb } from '../../wallet/index.ts';

export interface StorageUiState {
  /** Why the database connection closed under this page; null while it is open. */
  closed: CloseReason | null;
  /** navigator.storage.persist() result: true granted, false refused, null not asked or unavailable. */
  persisted: boolean | null;
  /** Asks the browser not to evict this origin's data under storage pressure; idempotent. */
  requestPersistence(): Promise<boolean | null>;
}

export const useStorageStore = create<StorageUiState>()((set) => ({
  closed: null,
  persisted: null,
  async requestPersistence() {
    const storage = globalThis.navigator?.storage;
    if (typeof storage?.persist !== 'function') return null;
    try {
      const persisted = (await storage.persisted?.()) || (await storage.persist());
      set({ persisted });
      return persisted;
    } catch {
      // Some browsers throw outside a secure context: the data is then best-effort, as without it.
      set({ persisted: false });
      return false;
    }
  },
}));

let opening: Promise<SprintnetDb> | null = null;

/** The shared connection (opened on first use). Its closing, for whatever reason, lands in `closed`. */
export function getDb(): Promise<SprintnetDb> {
  opening ??= openSprintnetDb().then(
    (db) => {
      db.onClose((reason) => {
        if (reason !== 'closed') useStorageStore.setState({ closed: reason });
      });
      return db;
    },
    (e: unknown) => {
      // This page is older than the stored database: the same message as an upgrade under it.
      if (isStorageError(e, 'UPGRADED_ELSEWHERE')) useStorageStore.setState({ closed: 'versionchange' });
      opening = null;
      throw e;
    },
  );
  return opening;
}
