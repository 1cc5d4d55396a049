import { useState } from 'react';
import { useWalletStore } from '../wallet/store.ts';
import { download, keystoreFileName } from '../wallet/download.ts';
import { scheduleReset } from '../storage/reset.ts';
import { Term } from '../help/Term.tsx';

/** Deletes everything Sprintnet keeps in this browser, after a confirmation and an offer to save the wallet first. */
export function DataReset() {
  const [asking, setAsking] = useState(false);
  const [understood, setUnderstood] = useState(false);
  const [exported, setExported] = useState(false);
  const walletStatus = useWalletStore((s) => s.status);
  const info = useWalletStore((s) => s.info);
  const hasWallet = walletStatus === 'locked' || walletStatus === 'unlocked';
  const exportFirst = () => {
    download(useWalletStore.getState().exportKeystore(), keystoreFileName(info?.address));
    setExported(true);
  };
  return (
    <section aria-labelledby="settings-reset-title" data-testid="settings-reset">
      <h3 id="settings-reset-title">Delete Sprintnet’s data</h3>
      {!asking ? (
        <>
          <p className="muted">Removes the wallet, Sprint progress, network records, downloaded models, settings and your agreement from this browser.</p>
          <button type="button" className="danger" onClick={() => setAsking(true)} data-testid="reset-start">
            Delete all Sprintnet data…
          </button>
        </>
      ) : (
        <div className="confirm" role="group" aria-labelledby="reset-confirm-title">
          <p id="reset-confirm-title">
            <strong>This deletes everything Sprintnet keeps in this browser.</strong> The page reloads, and a running Sprint stops.
          </p>
          {hasWallet && (
            <>
              <p>
                Your <Term id="wallet" /> is deleted too. Without its <Term id="recovery-phrase" /> or a <Term id="keystore" />, it is lost for good, with the
                rewards credited to it.
              </p>
              <button type="button" className="secondary" onClick={exportFirst} data-testid="reset-export">
                {exported ? 'Keystore file saved: save it again' : 'First save the keystore file'}
              </button>
            </>
          )}
          <label className="check">
            <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} data-testid="reset-understood" />
            <span>{hasWallet ? 'I have my recovery phrase or keystore file, or I do not need this wallet.' : 'I understand that this cannot be undone.'}</span>
          </label>
          <div className="actions">
            <button type="button" className="danger" disabled={!understood} onClick={scheduleReset} data-testid="reset-confirm">
              Delete everything
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setAsking(false);
                setUnderstood(false);
              }}
              data-testid="reset-cancel"
            >
              Cancel
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
