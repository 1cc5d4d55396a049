import type { FormEvent } from 'react';
import { useWalletStore } from './store.ts';
import { field } from './PassphraseFields.tsx';
import { Identity } from './WalletView.tsx';
import { Term } from '../help/Term.tsx';

/** Shown with state `none`: how to get a wallet. */
export function Welcome() {
  const { go } = useWalletStore.getState();
  return (
    <div>
      <p className="muted">
        A <Term id="wallet">wallet</Term> signs your Sprint <Term id="proof">proofs</Term> and receives your <Term id="reward">rewards</Term>. Create one, or
        bring one you already have with its <Term id="recovery-phrase">recovery phrase</Term> or <Term id="keystore">keystore file</Term>.
      </p>
      <div className="wallet-actions">
        <button type="button" onClick={() => go('create-passphrase')} data-testid="wallet-create">
          Create a new wallet
        </button>
        <button type="button" className="wallet-secondary" onClick={() => go('restore')} data-testid="wallet-restore">
          Restore from recovery phrase
        </button>
        <button type="button" className="wallet-secondary" onClick={() => go('import')} data-testid="wallet-import">
          Import keystore file
        </button>
      </div>
    </div>
  );
}

/** State `locked`: public identity from the stored keystore, passphrase to unlock. */
export function Unlock() {
  const busy = useWalletStore((s) => s.busy) !== null;
  const { unlock, go } = useWalletStore.getState();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    void unlock(field(form, 'passphrase')).then(() => form.reset());
  };
  return (
    <div>
      <Identity />
      <form onSubmit={onSubmit} aria-label="Unlock wallet">
        <label className="wallet-field">
          Passphrase
          <input name="passphrase" type="password" autoComplete="current-password" required disabled={busy} data-testid="unlock-passphrase" />
        </label>
        <div className="wallet-actions">
          <button type="submit" disabled={busy} data-testid="unlock-submit">
            {busy ? 'Unlocking…' : 'Unlock'}
          </button>
          <button type="button" className="wallet-secondary" disabled={busy} onClick={() => go('restore')} data-testid="wallet-restore">
            Restore from recovery phrase
          </button>
          <button type="button" className="wallet-secondary" disabled={busy} onClick={() => go('import')} data-testid="wallet-import">
            Import keystore file
          </button>
        </div>
      </form>
    </div>
  );
}
