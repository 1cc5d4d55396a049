import type { FormEvent } from 'react';
import { useWalletStore } from './store.ts';
import { PassphraseFields, field } from './PassphraseFields.tsx';

export function RestoreWallet() {
  const busy = useWalletStore((s) => s.busy) !== null;
  const replacing = useWalletStore((s) => s.status) !== 'none';
  const { restore, cancel } = useWalletStore.getState();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    void restore(field(f, 'mnemonic'), field(f, 'passphrase'), field(f, 'repeat'));
  };
  return (
    <form onSubmit={onSubmit} aria-label="Restore wallet">
      <h3>Restore from recovery phrase</h3>
      {replacing && <p className="error">This replaces the wallet stored in this browser once the phrase is accepted.</p>}
      <label className="wallet-field">
        Recovery phrase (12 or 24 words)
        <textarea name="mnemonic" rows={3} autoComplete="off" spellCheck={false} required disabled={busy} data-testid="restore-mnemonic" />
      </label>
      <PassphraseFields prefix="restore" disabled={busy} />
      <div className="wallet-actions">
        <button type="submit" disabled={busy} data-testid="restore-submit">Restore</button>
        <button type="button" className="wallet-secondary" disabled={busy} onClick={cancel}>Cancel</button>
      </div>
    </form>
  );
}
