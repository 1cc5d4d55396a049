import { useWalletStore } from './store.ts';

/** Error line and the progress bar shown while scrypt runs (it takes a second or two). */
export function Feedback() {
  const busy = useWalletStore((s) => s.busy);
  const progress = useWalletStore((s) => s.progress);
  const error = useWalletStore((s) => s.error);
  return (
    <>
      {busy && (
        <div className="wallet-busy" role="status" data-testid="wallet-busy">
          <span>{busy}</span>
          <progress max={1} value={progress} aria-label={busy} />
        </div>
      )}
      {error && (
        <p className="error" role="alert" data-testid="wallet-error" data-code={error.code}>
          {error.message}
        </p>
      )}
    </>
  );
}
