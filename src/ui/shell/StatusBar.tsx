import { useSprintStore, type SprintStatus } from '../sprint/store.ts';
import { useWalletStore } from '../wallet/store.ts';
import { useConsentStore } from '../welcome/consent.ts';
import { useOnline } from './useOnline.ts';

const CONTRIBUTION: Record<SprintStatus, string> = {
  loading: 'Loading…',
  idle: 'Not contributing.',
  preparing: 'Getting the GPU ready…',
  running: 'Contributing this GPU.',
  stopping: 'Stopping…',
  error: 'Stopped by a problem: see Contribute.',
};

const WALLET: Record<string, string> = {
  loading: 'Opening the wallet…',
  none: 'No wallet yet.',
  locked: 'Wallet locked.',
  unlocked: 'Wallet unlocked.',
};

/** One line of plain-language state at the top of every screen, announced politely when it changes. */
export function StatusBar() {
  const online = useOnline();
  const sprint = useSprintStore((s) => s.status);
  const elsewhere = useSprintStore((s) => s.gpuElsewhere);
  const wallet = useWalletStore((s) => s.status);
  const consented = useConsentStore((s) => s.consent !== null);
  const contribution = !consented
    ? 'Not contributing: nothing runs on your GPU until you agree on the welcome screen.'
    : elsewhere && sprint !== 'running'
      ? 'Another Sprintnet tab is contributing this GPU.'
      : CONTRIBUTION[sprint];
  return (
    <div className="status-bar" role="status" aria-live="polite" data-testid="status-bar">
      {!online && (
        <span className="status-offline" data-testid="offline-notice">
          Offline: this app still opens and your wallet works, but it cannot reach the network.
        </span>
      )}
      <span data-testid="status-contribution" data-status={sprint}>
        {contribution}
      </span>
      <span data-testid="status-wallet">{WALLET[wallet] ?? ''}</span>
    </div>
  );
}
