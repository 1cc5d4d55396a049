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
  | 'BAD_PARAMS';

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
