/**
 * "Delete all Sprintnet data in this browser". The deletion runs at the next start-up, before any
 * store opens a database: the page that asked only sets a flag and reloads, so its own open
 * connections cannot block the deletion. Other Sprintnet tabs can: their databases close on the
 * version change (the wallet's does), and what stays blocked is reported and tried again next start.
 *
 * Deleted: every IndexedDB database whose name starts with "sprintnet" (wallet and practice Sprints,
 * protocol records, GPU tuning), the Cache API caches whose names start with "sprintnet" (downloaded
 * models), and localStorage keys starting with "sprintnet" (settings, consent, backend choice).
 * Kept: the service worker's copy of the app itself, which holds nothing personal.
 */
import { DB_NAME } from '../../wallet/index.ts';
import { PROTOCOL_DB } from '../../app/idb-store.ts';

export const RESET_PENDING_KEY = 'sprintnet.reset-pending';
const PREFIX = 'sprintnet';
/** Named here too for browsers without indexedDB.databases(); 'sprintnet-gpu' is src/gpu/gpu-browser.ts's tuning cache. */
export const KNOWN_DATABASES = [DB_NAME, PROTOCOL_DB, 'sprintnet-gpu'] as const;
const BLOCKED_WAIT_MS = 5000;

export interface ResetEnv {
  readonly indexedDB?: Pick<IDBFactory, 'deleteDatabase'> & { databases?: IDBFactory['databases'] };
  readonly caches?: Pick<CacheStorage, 'keys' | 'delete'>;
  readonly storage?: Pick<Storage, 'length' | 'key' | 'removeItem'>;
}

export interface ResetResult {
  readonly databases: string[];
  readonly caches: string[];
  readonly settings: string[];
  /** Databases another tab held open; deleted when it closes, or at the next start. */
  readonly blocked: string[];
}

function deleteDatabase(idb: NonNullable<ResetEnv['indexedDB']>, name: string): Promise<'deleted' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const req = idb.deleteDatabase(name);
    let timer: ReturnType<typeof setTimeout> | undefined;
    req.onsuccess = () => {
      clearTimeout(timer);
      resolve('deleted');
    };
    req.onerror = () => {
      clearTimeout(timer);
      reject(req.error ?? new Error(`deleting ${name} failed`));
    };
    req.onblocked = () => {
      timer = setTimeout(() => resolve('blocked'), BLOCKED_WAIT_MS);
    };
  });
}

export async function deleteSiteData(env: ResetEnv): Promise<ResetResult> {
  const result: ResetResult = { databases: [], caches: [], settings: [], blocked: [] };
  if (env.indexedDB) {
    const listed = (await env.indexedDB.databases?.().catch(() => [])) ?? [];
    const names = new Set<string>([...KNOWN_DATABASES, ...listed.map((d) => d.name ?? '').filter((n) => n.startsWith(PREFIX))]);
    for (const name of names) {
      if ((await deleteDatabase(env.indexedDB, name)) === 'blocked') result.blocked.push(name);
      else if (listed.length === 0 || listed.some((d) => d.name === name)) result.databases.push(name);
    }
  }
  if (env.caches) {
    for (const name of await env.caches.keys()) {
      if (name.startsWith(PREFIX) && (await env.caches.delete(name))) result.caches.push(name);
    }
  }
  if (env.storage) {
    const keys: string[] = [];
    for (let i = 0; i < env.storage.length; i++) {
      const key = env.storage.key(i);
      if (key?.startsWith(PREFIX) && key !== RESET_PENDING_KEY) keys.push(key);
    }
    for (const key of keys) env.storage.removeItem(key);
    result.settings.push(...keys);
  }
  return result;
}

/** Asks for the deletion and reloads: the next start does it before anything opens. */
export function scheduleReset(): void {
  localStorage.setItem(RESET_PENDING_KEY, String(Date.now()));
  window.location.reload();
}

/** At start-up: performs a pending deletion, if one was asked for. The flag stays while something is blocked. */
export async function runPendingReset(): Promise<ResetResult | null> {
  let pending: string | null = null;
  try {
    pending = localStorage.getItem(RESET_PENDING_KEY);
  } catch {
    return null;
  }
  if (!pending) return null;
  const result = await deleteSiteData({ indexedDB: globalThis.indexedDB, caches: globalThis.caches, storage: localStorage });
  if (result.blocked.length === 0) localStorage.removeItem(RESET_PENDING_KEY);
  return result;
}
