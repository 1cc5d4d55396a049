/**
 * UI state for the wallet panel. The Wallet object (and so every secret) lives outside the
 * zustand state, so devtools and re-renders never see keys. The only secret that passes through
 * here is the new mnemonic and passphrase during the create flow, dropped once the backup is confirmed.
 *
 * Replacing a stored wallet (restore / import over it) goes through the Wallet's own guard: it
 * must be unlocked, exported from this page, or opened with its current passphrase.
 */
import { create } from 'zustand';
import { at } from '../../sprint/indexing.ts';
import { StorageError, Wallet, WalletError, generateMnemonic, type WalletInfo, type WalletState } from '../../wallet/index.ts';
import { getDb, useStorageStore } from '../storage/store.ts';

export type WalletScreen = 'loading' | 'welcome' | 'create-passphrase' | 'backup' | 'confirm' | 'restore' | 'import' | 'unlock' | 'unlocked';

export const MIN_PASSPHRASE_LENGTH = 8;
/** How many words the user re-types to prove they wrote the mnemonic down. */
export const CONFIRM_WORDS = 3;
const AUTO_LOCK_KEY = 'sprintnet.wallet.autoLockMinutes';

export interface WalletUiState {
  status: WalletState | 'loading';
  screen: WalletScreen;
  info: WalletInfo | null;
  /** Label while a slow step (scrypt) runs, e.g. "Unlocking…". */
  busy: string | null;
  progress: number;
  error: { code: string; message: string } | null;
  /** Create flow only. */
  pendingMnemonic: string | null;
  pendingPassphrase: string | null;
  confirmIndices: number[];
  autoLockMinutes: number | null;
  /** A wallet is stored and replacing it needs its current passphrase (it is locked and was not exported here). */
  replaceNeedsPassphrase: boolean;

  init(): Promise<void>;
  go(screen: WalletScreen): void;
  cancel(): void;
  choosePassphrase(passphrase: string, repeat: string): void;
  backupWritten(): void;
  confirmBackup(words: string[]): Promise<void>;
  /** `currentPassphrase`: of the stored wallet, when one is stored and replaceNeedsPassphrase. */
  restore(mnemonic: string, passphrase: string, repeat: string, currentPassphrase?: string): Promise<void>;
  unlock(passphrase: string): Promise<void>;
  lock(): void;
  /** The stored keystore as JSON, to download; counts as a backup that allows replacing it. */
  exportKeystore(): string;
  importKeystore(json: string, passphrase: string, currentPassphrase?: string): Promise<void>;
  setAutoLock(minutes: number | null): void;
  touch(): void;
}

let wallet: Wallet | null = null;
let opening: Promise<Wallet> | null = null;

/** The wallet, once the panel has opened it: other panels read `identity` from it while unlocked. */
export function getWallet(): Wallet | null {
  return wallet;
}

function readAutoLock(): number | null {
  const v = globalThis.localStorage?.getItem(AUTO_LOCK_KEY);
  if (v === 'off') return null;
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 ? n : 15;
}

function pickIndices(wordCount: number): number[] {
  const picked = new Set<number>();
  const rnd = new Uint32Array(1);
  while (picked.size < CONFIRM_WORDS) picked.add(at(crypto.getRandomValues(rnd), 0, 'random word') % wordCount);
  return [...picked].sort((a, b) => a - b);
}

const FRIENDLY: Record<string, string> = {
  WRONG_PASSPHRASE: 'Wrong passphrase. Check it (capital letters count) and try again; if it is lost, restore the wallet from its recovery phrase.',
  CORRUPT_KEYSTORE: 'This keystore file is damaged or was edited.',
  UNSUPPORTED_VERSION: 'This keystore file comes from a newer or unknown version of Sprintnet.',
  INVALID_MNEMONIC: 'That is not a valid recovery phrase. Check each word and the word order.',
  WALLET_EXISTS: 'A wallet is already stored in this browser (perhaps created in another tab). Nothing was overwritten.',
  BACKUP_REQUIRED: 'The wallet stored in this browser is not replaced without proof: enter its passphrase, or download a backup of it first.',
  WRONG_CURRENT_PASSPHRASE: 'That is not the passphrase of the wallet stored in this browser. Nothing was changed.',
  KEYSTORE_CHANGED: 'The wallet stored in this browser was changed in another tab. Its address is shown now; check it and try again.',
  QUOTA_EXCEEDED:
    "The browser refused to store the wallet: this site's storage is full. Free some space (site data in the browser settings) and try again. Nothing was changed.",
  UPGRADED_ELSEWHERE: 'Sprintnet was updated in another tab; reload this page.',
  CLOSED: 'The browser closed Sprintnet’s storage; reload this page.',
  UNAVAILABLE: 'This browser does not let Sprintnet store data (private mode or storage disabled), so no wallet can be kept here.',
};

export function describe(e: unknown): { code: string; message: string } {
  if (e instanceof WalletError || e instanceof StorageError) return { code: e.code, message: FRIENDLY[e.code] ?? e.message };
  return { code: 'UNKNOWN', message: e instanceof Error ? e.message : String(e) };
}

export const useWalletStore = create<WalletUiState>()((set, get) => {
  const screenFor = (s: WalletState): WalletScreen => (s === 'none' ? 'welcome' : s === 'locked' ? 'unlock' : 'unlocked');
  const sync = () => {
    if (!wallet) return;
    set({ status: wallet.state, info: wallet.info, replaceNeedsPassphrase: !wallet.canReplaceWithoutPassphrase });
  };
  /** After a wallet is stored: ask the browser to keep it (not evict it under storage pressure). */
  const stored = () => void useStorageStore.getState().requestPersistence();
  /** Runs a slow wallet step with a progress label; errors land in `error`, never thrown to React. */
  const slow = async (label: string, fn: (onProgress: (f: number) => void) => Promise<unknown>): Promise<boolean> => {
    set({ busy: label, progress: 0, error: null });
    try {
      await fn((progress) => set({ progress }));
      return true;
    } catch (e) {
      set({ error: describe(e) });
      return false;
    } finally {
      set({ busy: null });
    }
  };
  const clearPending = () => set({ pendingMnemonic: null, pendingPassphrase: null, confirmIndices: [] });

  return {
    status: 'loading',
    screen: 'loading',
    info: null,
    busy: null,
    progress: 0,
    error: null,
    pendingMnemonic: null,
    pendingPassphrase: null,
    confirmIndices: [],
    autoLockMinutes: readAutoLock(),
    replaceNeedsPassphrase: false,

    async init() {
      // Idempotent: React StrictMode runs the panel's effect twice.
      opening ??= getDb()
        .then((db) => Wallet.open({ db, autoLockMs: minutesToMs(get().autoLockMinutes) }))
        .then((w) => {
          w.subscribe((s, event) => {
            sync();
            const screen = get().screen;
            if (event === 'changed-elsewhere') {
              // Another tab stored, replaced or deleted the wallet: show what is stored now.
              set({ error: describe(new WalletError('KEYSTORE_CHANGED', 'changed in another tab')) });
              if (screen === 'unlock' || screen === 'unlocked' || screen === 'welcome') set({ screen: screenFor(s) });
            } else if (s === 'locked' && screen === 'unlocked') {
              // Auto-lock or a lock elsewhere: leave any screen that showed secrets.
              set({ screen: 'unlock' });
            }
          });
          return w;
        });
      try {
        wallet = await opening;
      } catch (e) {
        set({ error: describe(e), screen: 'welcome', status: 'none' });
        return;
      }
      sync();
      set({ screen: screenFor(wallet.state) });
      if (wallet.state !== 'none') stored();
    },

    go(screen) {
      set({ screen, error: null });
    },

    cancel() {
      clearPending();
      set({ screen: screenFor(wallet?.state ?? 'none'), error: null });
    },

    choosePassphrase(passphrase, repeat) {
      const problem = passphraseProblem(passphrase, repeat);
      if (problem) return set({ error: { code: 'BAD_PARAMS', message: problem } });
      const mnemonic = generateMnemonic(128);
      set({
        pendingPassphrase: passphrase,
        pendingMnemonic: mnemonic,
        confirmIndices: pickIndices(mnemonic.split(' ').length),
        screen: 'backup',
        error: null,
      });
    },

    backupWritten() {
      set({ screen: 'confirm', error: null });
    },

    async confirmBackup(words) {
      const { pendingMnemonic, pendingPassphrase, confirmIndices } = get();
      if (!wallet || !pendingMnemonic || !pendingPassphrase) return;
      const all = pendingMnemonic.split(' ');
      const wrong = confirmIndices.some((i, k) => (words[k] ?? '').trim().toLowerCase() !== all[i]);
      if (wrong) {
        set({ error: { code: 'BACKUP_MISMATCH', message: 'Those words do not match your recovery phrase. Check your copy.' } });
        return;
      }
      const w = wallet;
      // The create flow starts from "no wallet": it never replaces one (WALLET_EXISTS if another tab stored one meanwhile).
      if (await slow('Encrypting your wallet…', (onProgress) => w.create(pendingMnemonic, pendingPassphrase, { onProgress }))) {
        clearPending();
        set({ screen: 'unlocked' });
        stored();
      }
    },

    async restore(mnemonic, passphrase, repeat, currentPassphrase) {
      if (!wallet) return;
      const problem = passphraseProblem(passphrase, repeat);
      if (problem) return set({ error: { code: 'BAD_PARAMS', message: problem } });
      const w = wallet;
      const opts = replaceOptions(w, currentPassphrase);
      if (await slow('Restoring…', (onProgress) => w.restore(mnemonic, passphrase, { onProgress, ...opts }))) {
        set({ screen: 'unlocked' });
        stored();
      }
    },

    async unlock(passphrase) {
      const w = wallet;
      if (!w) return;
      if (await slow('Unlocking…', (onProgress) => w.unlock(passphrase, { onProgress }))) set({ screen: 'unlocked' });
    },

    lock() {
      wallet?.lock();
      set({ screen: screenFor(wallet?.state ?? 'none') });
    },

    exportKeystore() {
      if (!wallet) throw new WalletError('NO_WALLET', 'no wallet');
      const json = wallet.exportKeystore();
      sync();
      return json;
    },

    async importKeystore(json, passphrase, currentPassphrase) {
      const w = wallet;
      if (!w) return;
      const opts = replaceOptions(w, currentPassphrase);
      if (await slow('Decrypting keystore…', (onProgress) => w.importKeystore(json, passphrase, { onProgress, ...opts }))) {
        set({ screen: 'unlocked' });
        stored();
      }
    },

    setAutoLock(minutes) {
      globalThis.localStorage?.setItem(AUTO_LOCK_KEY, minutes === null ? 'off' : String(minutes));
      set({ autoLockMinutes: minutes });
      wallet?.setAutoLock(minutesToMs(minutes));
    },

    touch() {
      wallet?.touch();
    },
  };
});

export function passphraseProblem(passphrase: string, repeat: string): string | null {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) return `Use at least ${MIN_PASSPHRASE_LENGTH} characters.`;
  if (passphrase !== repeat) return 'The passphrases do not match.';
  return null;
}

/** Replace only what is stored, and prove the right to with the current passphrase when asked for it. */
function replaceOptions(w: Wallet, currentPassphrase: string | undefined): { replace: boolean; currentPassphrase?: string } {
  if (w.state === 'none') return { replace: false };
  return w.canReplaceWithoutPassphrase || !currentPassphrase ? { replace: true } : { replace: true, currentPassphrase };
}

function minutesToMs(m: number | null): number | null {
  return m === null ? null : m * 60_000;
}
