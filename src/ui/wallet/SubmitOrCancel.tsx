import { useWalletStore } from './store.ts';

/** A wallet form's submit button and its Cancel, both off while the wallet is busy. */
export function SubmitOrCancel({ label, testId, busy }: { label: string; testId: string; busy: boolean }) {
  const { cancel } = useWalletStore.getState();
  return (
    <div className="wallet-actions">
      <button type="submit" disabled={busy} data-testid={testId}>
        {label}
      </button>
      <button type="button" className="wallet-secondary" disabled={busy} onClick={cancel}>
        Cancel
      </button>
    </div>
  );
}
