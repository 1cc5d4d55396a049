/**
 * The browser wallet: one keystore in IndexedDB and, while unlocked, the derived identity in
 * memory. States: `none` (nothing stored), `locked` (stored, secrets not in memory), `unlocked`.
 * No method writes over a stored keystore unless asked to (`replace`), and none writes before
 * the new keystore has been fully built and checked.
 */
import { WalletError } from './errors.ts';
import { openSprintnetDb, type SprintnetDb } from './db.ts';
import {
  DEFAULT_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  parseKeystore,
  serializeKeystore,
  type KdfProgress,
  type KeystoreFile,
  type ScryptParams,
} from './keystore.ts';
import { identityFromMnemonic, wipeIdentity, type WalletIdentity } from './wallet-identity.ts';
import { DEFAULT_NETWORK_ID } from './signing.ts';

export type WalletState = 'none' | 'locked' | 'unlocked';

/** Public facts about the stored wallet, readable while locked. */
export interface WalletInfo {
  address: string;
  peerId: string;
}

export interface WalletOptions {
  /** KDF cost for keystores this wallet writes. Decryption always uses the file's own. */
  scrypt?: ScryptParams;
  /** Lock after this many ms without `touch()`; null = never. */
  autoLockMs?: number | null;
  networkId?: string;
}

export interface WriteOptions extends KdfProgress {
  /** Overwrite an existing stored keystore. */
  replace?: boolean;
}

type Listener = (state: WalletState) => void;

export class Wallet {
  private file: KeystoreFile | undefined;
  private id: WalletIdentity | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private autoLockMs: number | null;
  private readonly listeners = new Set<Listener>();
  private readonly scrypt: ScryptParams;
  private readonly networkId: string;

  private constructor(private readonly db: SprintnetDb, file: KeystoreFile | undefined, opts: WalletOptions) {
    this.file = file;
    this.scrypt = opts.scrypt ?? DEFAULT_SCRYPT;
    this.autoLockMs = opts.autoLockMs ?? null;
    this.networkId = opts.networkId ?? DEFAULT_NETWORK_ID;
  }

  static async open(opts: WalletOptions & { db?: SprintnetDb; dbName?: string } = {}): Promise<Wallet> {
    const db = opts.db ?? (await openSprintnetDb(opts.dbName));
    return new Wallet(db, await db.getKeystore(), opts);
  }

  get state(): WalletState {
    return this.id ? 'unlocked' : this.file ? 'locked' : 'none';
  }

  get info(): WalletInfo | null {
    return this.file ? { address: this.file.address, peerId: this.file.peerId } : null;
  }

  /** The unlocked identity; throws LOCKED otherwise. Do not keep it past a lock. */
  get identity(): WalletIdentity {
    if (!this.id) throw new WalletError('LOCKED', 'wallet is locked');
    return this.id;
  }

  /** The IndexedDB handle, for the proofs / ledger / sprintState accessors. */
  get store(): SprintnetDb {
    return this.db;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stores a keystore for `mnemonic` (a new one from generateMnemonic() after the user confirmed
   * the backup, or a restored one) and unlocks it.
   */
  async restore(mnemonic: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    this.refuseOverwrite(opts);
    const id = await identityFromMnemonic(mnemonic, { networkId: this.networkId });
    try {
      const file = await encryptKeystore(id, passphrase, this.scrypt, opts);
      await this.db.putKeystore(file, { replace: opts.replace });
      this.file = file;
    } catch (e) {
      wipeIdentity(id);
      throw e;
    }
    this.setUnlocked(id);
    return this.info!;
  }

  /** Same as restore(); named for the create flow. */
  create(mnemonic: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    return this.restore(mnemonic, passphrase, opts);
  }

  async unlock(passphrase: string, opts: KdfProgress = {}): Promise<WalletInfo> {
    if (!this.file) throw new WalletError('NO_WALLET', 'no wallet stored in this browser');
    if (this.id) return this.info!;
    this.setUnlocked(await decryptKeystore(this.file, passphrase, { ...opts, networkId: this.networkId }));
    return this.info!;
  }

  /** Zeroes the secrets and forgets them. Listeners hear 'locked' (stop the libp2p node there). */
  lock(): void {
    this.clearTimer();
    if (!this.id) return;
    wipeIdentity(this.id);
    this.id = undefined;
    this.emit();
  }

  /** The stored keystore as a JSON file body (still encrypted: safe to download). */
  exportKeystore(): string {
    if (!this.file) throw new WalletError('NO_WALLET', 'no wallet stored in this browser');
    return serializeKeystore(this.file);
  }

  /** Checks the file decrypts with `passphrase` before storing it, then unlocks it. */
  async importKeystore(json: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    this.refuseOverwrite(opts);
    const file = parseKeystore(json);
    const id = await decryptKeystore(file, passphrase, { ...opts, networkId: this.networkId });
    try {
      await this.db.putKeystore(file, { replace: opts.replace });
    } catch (e) {
      wipeIdentity(id);
      throw e;
    }
    this.lock();
    this.file = file;
    this.setUnlocked(id);
    return this.info!;
  }

  /** Deletes the stored keystore. Only the mnemonic or an exported file can bring it back. */
  async forget(): Promise<void> {
    this.lock();
    await this.db.deleteKeystore();
    this.file = undefined;
    this.emit();
  }

  setAutoLock(ms: number | null): void {
    this.autoLockMs = ms;
    this.touch();
  }

  /** Records user activity: restarts the inactivity timer. */
  touch(): void {
    this.clearTimer();
    if (this.id && this.autoLockMs !== null) this.timer = setTimeout(() => this.lock(), this.autoLockMs);
  }

  close(): void {
    this.lock();
    this.db.close();
  }

  private refuseOverwrite(opts: WriteOptions): void {
    if (this.file && !opts.replace) throw new WalletError('WALLET_EXISTS', 'a wallet is already stored in this browser');
  }

  private setUnlocked(id: WalletIdentity): void {
    if (this.id && this.id !== id) wipeIdentity(this.id);
    this.id = id;
    this.touch();
    this.emit();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(): void {
    for (const l of this.listeners) l(this.state);
  }
}
