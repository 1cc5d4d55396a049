import { useWalletStore } from './store.ts';
import { download, keystoreFileName } from './download.ts';

/**
 * On the restore and import screens while a wallet is stored: says it will be replaced and, if
 * this page has neither unlocked nor exported it, asks for its passphrase (form field `current`)
 * or a backup download first. The Wallet refuses the replace without one of them.
 */
export function ReplaceGuard({ disabled }: { disabled: boolean }) {
  const status = useWalletStore((s) => s.status);
  const info = useWalletStore((s) => s.info);
  const needsPassphrase = useWalletStore((s) => s.replaceNeedsPassphrase);
  const { exportKeystore } = useWalletStore.getState();
  if (status === 'none') return null;
  return (
    <div className="wallet-replace" data-testid="replace-guard">
      <p className="error">
        This replaces the wallet stored in this browser (<span className="mono">{info?.address}</span>) once the new one is accepted.
      </p>
      {needsPassphrase ? (
        <>
          <label className="wallet-field">
            Passphrase of the stored wallet (proves it is yours)
            <input name="current" type="password" autoComplete="current-password" disabled={disabled} data-testid="replace-current-passphrase" />
          </label>
          <p className="muted">
            Or keep a copy of it first:{' '}
            <button
              type="button"
              className="wallet-secondary"
              disabled={disabled}
              onClick={() => download(exportKeystore(), keystoreFileName(info?.address))}
              data-testid="replace-export"
            >
              Download a backup of the stored wallet
            </button>
          </p>
        </>
      ) : (
        <p className="muted" data-testid="replace-allowed">
          {status === 'unlocked' ? 'It is unlocked in this page.' : 'A backup of it was downloaded from this page.'}
        </p>
      )}
    </div>
  );
}
