/**
 * One error type for everything the wallet refuses, with a stable `code` the UI and the
 * headless host can switch on. Messages never include secrets (passphrases, words, keys).
 */
export type WalletErrorCode =
  | 'WRONG_PASSPHRASE'
  | 'CORRUPT_KEYSTORE'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_MNEMONIC'
  | 'BAD_ADDRESS'
  | 'LOCKED'
  | 'NO_WALLET'
  | 'WALLET_EXISTS'
  /** The passphrase given to prove the right to replace the stored keystore does not open it. */
  | 'WRONG_CURRENT_PASSPHRASE'
  /** Replacing or deleting the stored keystore without its passphrase or an exported backup. */
  | 'BACKUP_REQUIRED'
  /** Another tab replaced, created or deleted the stored keystore since this tab read it. */
  | 'KEYSTORE_CHANGED'
  | 'BAD_PARAMS'
  /** A keystore asks for scrypt parameters outside the accepted range (refused before any KDF work). */
  | 'KDF_PARAMS_OUT_OF_RANGE'
  /** An Ed25519 public key that is malformed, non-canonical, of small order or not in the prime-order subgroup. */
  | 'BAD_PUBLIC_KEY';

export class WalletError extends Error {
  override readonly name = 'WalletError';
  constructor(
    readonly code: WalletErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isWalletError(e: unknown, code?: WalletErrorCode): e is WalletError {
  return e instanceof WalletError && (code === undefined || e.code === code);
}
