/**
 * `ProtocolStore` in IndexedDB for the browser: its own database (`sprintnet-protocol`, one object
 * store of key → bytes), so the wallet's schema (src/wallet/db.ts) is untouched.
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { ProtocolStore } from '../protocol/interfaces.ts';

export const PROTOCOL_DB = 'sprintnet-protocol';
const STORE = 'kv';

export async function idbStore(name = PROTOCOL_DB): Promise<ProtocolStore & { close(): void }> {
  const db: IDBPDatabase = await openDB(name, 1, {
    upgrade(d) {
      d.createObjectStore(STORE);
    },
  });
  return {
    async get(key) {
      const v = (await db.get(STORE, key)) as Uint8Array | undefined;
      return v === undefined ? undefined : new Uint8Array(v);
    },
    async put(key, value) {
      await db.put(STORE, value.slice(), key);
    },
    async delete(key) {
      await db.delete(STORE, key);
    },
    async keys(prefix) {
      const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
      return ((await db.getAllKeys(STORE, range)) as string[]).sort();
    },
    close: () => db.close(),
  };
}
