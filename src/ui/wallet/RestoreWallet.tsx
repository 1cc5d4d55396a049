import type { FormEvent } from 'react';
import { useWalletStore } from './store.ts';
import { PassphraseFields, field } from './PassphraseFields.tsx';
import { ReplaceGuard } from './ReplaceGuard.tsx';
import { SubmitOrCancel } from './SubmitOrCancel.tsx';

export function RestoreWallet() {
  const busy = useWalletStore((s) => s.busy) !== null;
  const { restore } = useWalletStore.getState();
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = e.currentTarget;
    void restore(field(f, 'mnemonic'), field(f, 'passphrase'), field(f, 'repeat'), field(f, 'current'));
  };
  return (
    <form onSubmit={onSubmit} aria-label="Restore wallet">
      <h3>Restore from recovery phrase</h3>
      <ReplaceGuard disabled={busy} />
      <label className="wallet-field">
        Recovery phrase (12 or 24 words)
        <textarea name="mnemonic" rows={3} autoComplete="off" spellCheck={false} required disabled={busy} data-testid="restore-mnemonic" />
      </label>
      <PassphraseFields prefix="restore" disabled={busy} />
      <SubmitOrCancel label="Restore" testId="restore-submit" busy={busy} />
    </form>
  );
}
