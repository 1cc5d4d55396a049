/**
 * The browser wallet: one keystore in IndexedDB and, while unlocked, the derived identity in
 * memory. States: `none` (nothing stored), `locked` (stored, secrets not in memory), `unlocked`.
 * No method writes over a stored keystore unless asked to (`replace`), and then only with proof
 * that its owner agrees or has a backup: it is unlocked, it was exported, or `currentPassphrase`
 * opens it. None writes before the new keystore has been fully built and checked.
 *
 * Tabs: every keystore write names the revision it replaces, checked inside the write's
 * transaction; unlock re-reads the stored revision after the KDF; and a BroadcastChannel notice
 * makes other tabs re-read the keystore at once (locking an identity that is no longer stored).
 */
import { WalletError, isWalletError } from './errors.ts';
import { keystoreRevision, openSprintnetDb, type KeystoreRecord, type SprintnetDb } from './db.ts';
import {
  DEFAULT_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  importKeystoreFile,
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
  /** Tell other tabs about keystore writes and listen for theirs (BroadcastChannel). Default true. */
  broadcast?: boolean;
}

export interface WriteOptions extends KdfProgress {
  /**
   * Overwrite the stored keystore. Allowed only while it is unlocked, after exportKeystore()
   * of it in this page, or with `currentPassphrase`; otherwise BACKUP_REQUIRED.
   */
  replace?: boolean;
  /** Passphrase of the stored keystore: proves the right to replace it while it is locked. */
  currentPassphrase?: string;
}

/** Why listeners are called besides a state change: another tab wrote or deleted the keystore. */
export type WalletEvent = 'changed-elsewhere';
type Listener = (state: WalletState, event?: WalletEvent) => void;

/** Notice on the wallet's BroadcastChannel after a keystore write or delete. */
interface KeystoreNotice {
  type: 'keystore-changed';
  revision: string | null;
}

export class Wallet {
  private record: KeystoreRecord | undefined;
  private id: WalletIdentity | undefined;
  /** Revision of the keystore `id` was decrypted from. */
  private unlockedRevision: string | null = null;
  /** Revision of the keystore last exported (downloaded) from this page. */
  private exportedRevision: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private autoLockMs: number | null;
  private readonly listeners = new Set<Listener>();
  private readonly scrypt: ScryptParams;
  private readonly networkId: string;
  private readonly channel: BroadcastChannel | null;

  private constructor(
    private readonly db: SprintnetDb,
    record: KeystoreRecord | undefined,
    opts: WalletOptions,
  ) {
    this.record = record;
    this.scrypt = opts.scrypt ?? DEFAULT_SCRYPT;
    this.autoLockMs = opts.autoLockMs ?? null;
    this.networkId = opts.networkId ?? DEFAULT_NETWORK_ID;
    this.channel = opts.broadcast !== false && typeof BroadcastChannel === 'function' ? new BroadcastChannel(`sprintnet-wallet/${db.db.name}`) : null;
    if (this.channel) {
      // Node keeps the process alive for an open channel; a browser has no unref.
      (this.channel as { unref?: () => void }).unref?.();
      this.channel.onmessage = (e: MessageEvent<KeystoreNotice>) => {
        if (e.data?.type === 'keystore-changed') void this.refresh().catch(() => undefined);
      };
    }
  }

  static async open(opts: WalletOptions & { db?: SprintnetDb; dbName?: string } = {}): Promise<Wallet> {
    const db = opts.db ?? (await openSprintnetDb(opts.dbName));
    return new Wallet(db, await db.getKeystoreRecord(), opts);
  }

  get state(): WalletState {
    return this.id ? 'unlocked' : this.record ? 'locked' : 'none';
  }

  get info(): WalletInfo | null {
    return this.record ? { address: this.record.file.address, peerId: this.record.file.peerId } : null;
  }

  /** Revision of the keystore this page knows as stored (null: none). */
  get revision(): string | null {
    return this.record ? keystoreRevision(this.record) : null;
  }

  /** True when `replace` needs no `currentPassphrase`: nothing stored, or it is unlocked or was exported here. */
  get canReplaceWithoutPassphrase(): boolean {
    const rev = this.revision;
    return rev === null || (this.id !== undefined && this.unlockedRevision === rev) || this.exportedRevision === rev;
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
   * Re-reads the stored keystore. If another tab replaced, created or deleted it, adopts the
   * stored one, locks (wiping an identity that is no longer the stored wallet's) and tells the
   * listeners with event 'changed-elsewhere'. Returns whether it changed.
   */
  async refresh(): Promise<boolean> {
    return this.adopt(await this.db.getKeystoreRecord());
  }

  /**
   * Stores a keystore for `mnemonic` (a new one from generateMnemonic() after the user confirmed
   * the backup, or a restored one) and unlocks it.
   */
  async restore(mnemonic: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    const steps = progressSteps(opts, this.needsProof(opts));
    const replaces = await this.authorizeWrite(opts, steps.proof);
    const id = await identityFromMnemonic(mnemonic, { networkId: this.networkId });
    return this.storeUnlocked(id, () => encryptKeystore(id, passphrase, this.scrypt, steps.encrypt), replaces);
  }

  /** Same as restore(); named for the create flow. */
  create(mnemonic: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    return this.restore(mnemonic, passphrase, opts);
  }

  /**
   * Decrypts the stored keystore. Refuses with KEYSTORE_CHANGED (and adopts the stored one) if
   * another tab replaced it since this page read it, checked before and again after the KDF.
   */
  async unlock(passphrase: string, opts: KdfProgress = {}): Promise<WalletInfo> {
    if (this.id) return this.info!;
    if (await this.refresh()) throw changedElsewhere();
    const record = this.record;
    if (!record) throw new WalletError('NO_WALLET', 'no wallet stored in this browser');
    const id = await decryptKeystore(record.file, passphrase, { ...opts, networkId: this.networkId });
    try {
      // The KDF took a second or two: the keystore may have been replaced meanwhile.
      const stored = await this.db.getKeystoreRecord();
      if (this.record !== record || this.adopt(stored)) throw changedElsewhere();
    } catch (e) {
      wipeIdentity(id);
      throw e;
    }
    if (this.id) {
      wipeIdentity(id); // a concurrent unlock won
      return this.info!;
    }
    this.setUnlocked(id);
    return this.info!;
  }

  /** Zeroes the secrets and forgets them. Listeners hear 'locked' (stop the libp2p node there). */
  lock(): void {
    this.clearTimer();
    if (!this.id) return;
    this.wipe();
    this.emit();
  }

  /**
   * The stored keystore as a JSON file body (still encrypted: safe to download). Marks it as
   * backed up, which lets `replace` go ahead without its passphrase.
   */
  exportKeystore(): string {
    if (!this.record) throw new WalletError('NO_WALLET', 'no wallet stored in this browser');
    const json = serializeKeystore(this.record.file);
    this.exportedRevision = keystoreRevision(this.record);
    return json;
  }

  /** Checks the file decrypts with `passphrase` before storing it, then unlocks it. */
  async importKeystore(json: string, passphrase: string, opts: WriteOptions = {}): Promise<WalletInfo> {
    const file = parseKeystore(json);
    const steps = progressSteps(opts, this.needsProof(opts));
    const replaces = await this.authorizeWrite(opts, steps.proof);
    // A file made with other scrypt parameters (an N = 2^10 test file, say) is re-encrypted with ours.
    const { identity: id, file: stored } = await importKeystoreFile(file, passphrase, this.scrypt, {
      ...steps.encrypt,
      networkId: this.networkId,
    });
    return this.storeUnlocked(id, async () => stored, replaces);
  }

  /**
   * Deletes the stored keystore. Only the mnemonic or an exported file can bring it back, so it
   * needs the same proof as `replace` (unlocked, exported, or `currentPassphrase`).
   */
  async forget(opts: Pick<WriteOptions, 'currentPassphrase'> & KdfProgress = {}): Promise<void> {
    if (!this.record) return;
    const revision = await this.authorizeWrite({ ...opts, replace: true }, opts);
    try {
      await this.db.deleteKeystore(revision!);
    } catch (e) {
      if (isWalletError(e, 'KEYSTORE_CHANGED')) await this.refresh().catch(() => undefined);
      throw e;
    }
    this.clearTimer();
    if (this.id) this.wipe();
    this.record = undefined;
    this.notifyTabs();
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
    this.channel?.close();
    this.db.close();
  }

  private needsProof(opts: WriteOptions): boolean {
    return this.record !== undefined && opts.replace === true && !this.canReplaceWithoutPassphrase && opts.currentPassphrase !== undefined;
  }

  /**
   * Decides whether a write may go ahead and returns the revision it replaces (undefined: the
   * slot must be empty). Throws WALLET_EXISTS without `replace`, BACKUP_REQUIRED without proof,
   * WRONG_CURRENT_PASSPHRASE if `currentPassphrase` does not open the stored keystore.
   */
  private async authorizeWrite(opts: WriteOptions, progress: KdfProgress): Promise<string | undefined> {
    const record = this.record;
    if (!record) return undefined;
    if (!opts.replace) throw new WalletError('WALLET_EXISTS', 'a wallet is already stored in this browser');
    const revision = keystoreRevision(record);
    if (this.canReplaceWithoutPassphrase) return revision;
    if (opts.currentPassphrase === undefined) {
      throw new WalletError('BACKUP_REQUIRED', 'replacing the stored wallet needs its passphrase, or an exported backup of it first');
    }
    try {
      wipeIdentity(await decryptKeystore(record.file, opts.currentPassphrase, { ...progress, networkId: this.networkId }));
    } catch (cause) {
      if (isWalletError(cause, 'WRONG_PASSPHRASE')) {
        throw new WalletError('WRONG_CURRENT_PASSPHRASE', 'that is not the passphrase of the wallet stored in this browser', { cause });
      }
      throw cause;
    }
    return revision;
  }

  /** Stores `file` in place of revision `replaces`; on a conflict adopts what another tab stored. */
  /** Stores the keystore `file()` makes for `id` and unlocks it; if either step fails, the identity's secrets are wiped. */
  private async storeUnlocked(id: WalletIdentity, file: () => Promise<KeystoreFile>, replaces: string | undefined): Promise<WalletInfo> {
    let record: KeystoreRecord;
    try {
      record = await this.write(await file(), replaces);
    } catch (e) {
      wipeIdentity(id);
      throw e;
    }
    this.record = record;
    this.setUnlocked(id);
    return this.info!;
  }

  private async write(file: KeystoreFile, replaces: string | undefined): Promise<KeystoreRecord> {
    let record: KeystoreRecord;
    try {
      record = await this.db.putKeystore(file, { replaces });
    } catch (e) {
      if (isWalletError(e, 'KEYSTORE_CHANGED') || isWalletError(e, 'WALLET_EXISTS')) await this.refresh().catch(() => undefined);
      throw e;
    }
    this.channel?.postMessage({ type: 'keystore-changed', revision: record.revision ?? null } satisfies KeystoreNotice);
    return record;
  }

  private notifyTabs(): void {
    this.channel?.postMessage({ type: 'keystore-changed', revision: this.revision } satisfies KeystoreNotice);
  }

  /** Takes `stored` as the current record if its revision differs from ours; see refresh(). */
  private adopt(stored: KeystoreRecord | undefined): boolean {
    const revision = stored ? keystoreRevision(stored) : null;
    if (revision === this.revision) return false;
    this.record = stored;
    this.clearTimer();
    if (this.id) this.wipe();
    this.emit('changed-elsewhere');
    return true;
  }

  private wipe(): void {
    if (this.id) wipeIdentity(this.id);
    this.id = undefined;
    this.unlockedRevision = null;
  }

  private setUnlocked(id: WalletIdentity): void {
    if (this.id && this.id !== id) wipeIdentity(this.id);
    this.id = id;
    this.unlockedRevision = this.revision;
    this.touch();
    this.emit();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(event?: WalletEvent): void {
    for (const l of this.listeners) l(this.state, event);
  }
}

function changedElsewhere(): WalletError {
  return new WalletError('KEYSTORE_CHANGED', 'the wallet stored in this browser was changed in another tab; check the address and try again');
}

/** Splits one progress callback over the KDF run that proves the right to replace (when needed) and the encryption run. */
function progressSteps(opts: KdfProgress, withProof: boolean): { proof: KdfProgress; encrypt: KdfProgress } {
  const { onProgress } = opts;
  const n = withProof ? 2 : 1;
  const step = (i: number): KdfProgress => ({ onProgress: onProgress && ((f: number) => onProgress((i + f) / n)) });
  return { proof: step(0), encrypt: step(n - 1) };
}
