import type { FormEvent } from 'react';
import { useWalletStore } from './store.ts';
import { PassphraseFields, field } from './PassphraseFields.tsx';
import { SubmitOrCancel } from './SubmitOrCancel.tsx';

/** Step 1: choose the passphrase that encrypts the wallet in this browser. */
export function ChoosePassphrase() {
  const { choosePassphrase } = useWalletStore.getState();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    choosePassphrase(field(e.currentTarget, 'passphrase'), field(e.currentTarget, 'repeat'));
  };
  return (
    <form onSubmit={onSubmit} aria-label="Create wallet">
      <h3>Create a wallet</h3>
      <p className="muted">The passphrase encrypts your keys in this browser. It cannot recover them: the recovery phrase can.</p>
      <PassphraseFields prefix="create" disabled={false} />
      <SubmitOrCancel label="Continue" testId="create-passphrase-submit" busy={false} />
    </form>
  );
}

/** Step 2: the recovery phrase, shown this once. */
export function ShowMnemonic() {
  const mnemonic = useWalletStore((s) => s.pendingMnemonic) ?? '';
  const { backupWritten, cancel } = useWalletStore.getState();
  return (
    <div>
      <h3>Write down your recovery phrase</h3>
      <p className="muted">
        These words are the only way to restore this wallet on another device. Anyone who has them controls it. They will not be shown again.
      </p>
      <ol className="wallet-words mono" data-testid="mnemonic" aria-label="Recovery phrase">
        {mnemonic.split(' ').map((w, i) => (
          <li key={i} data-testid={`mnemonic-word-${i + 1}`}>
            {w}
          </li>
        ))}
      </ol>
      <div className="wallet-actions">
        <button type="button" onClick={backupWritten} data-testid="mnemonic-written">
          I have written it down
        </button>
        <button type="button" className="wallet-secondary" onClick={cancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** Step 3: re-type a few words; only then is the wallet encrypted and stored. */
export function ConfirmMnemonic() {
  const indices = useWalletStore((s) => s.confirmIndices);
  const busy = useWalletStore((s) => s.busy) !== null;
  const { confirmBackup, go } = useWalletStore.getState();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    void confirmBackup(indices.map((i) => field(form, `word${i}`)));
  };
  return (
    <form onSubmit={onSubmit} aria-label="Confirm recovery phrase">
      <h3>Confirm your recovery phrase</h3>
      <p className="muted">Type these words from the copy you wrote down, to check it is complete.</p>
      {indices.map((i) => (
        <label className="wallet-field" key={i}>
          Word #{i + 1}
          <input name={`word${i}`} autoComplete="off" spellCheck={false} required disabled={busy} data-testid={`confirm-word-${i + 1}`} />
        </label>
      ))}
      <div className="wallet-actions">
        <button type="submit" disabled={busy} data-testid="confirm-submit">
          Confirm and create wallet
        </button>
        <button type="button" className="wallet-secondary" disabled={busy} onClick={() => go('backup')}>
          Show the words again
        </button>
      </div>
    </form>
  );
}
