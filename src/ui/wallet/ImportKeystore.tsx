import type { FormEvent } from 'react';
import { useWalletStore } from './store.ts';
import { field } from './PassphraseFields.tsx';
import { ReplaceGuard } from './ReplaceGuard.tsx';
import { SubmitOrCancel } from './SubmitOrCancel.tsx';

export function ImportKeystore() {
  const busy = useWalletStore((s) => s.busy) !== null;
  const { importKeystore } = useWalletStore.getState();
  const onSubmit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const input = form.elements.namedItem('file');
    const file = input instanceof HTMLInputElement ? input.files?.[0] : undefined;
    if (!file) return;
    await importKeystore(await file.text(), field(form, 'passphrase'), field(form, 'current'));
  };
  return (
    <form onSubmit={(e) => void onSubmit(e)} aria-label="Import keystore">
      <h3>Import a keystore file</h3>
      <ReplaceGuard disabled={busy} />
      <label className="wallet-field">
        Keystore file (.json)
        <input name="file" type="file" accept="application/json,.json" required disabled={busy} data-testid="import-file" />
      </label>
      <label className="wallet-field">
        Passphrase of that file
        <input name="passphrase" type="password" autoComplete="current-password" required disabled={busy} data-testid="import-passphrase" />
      </label>
      <SubmitOrCancel label="Import" testId="import-submit" busy={busy} />
    </form>
  );
}
