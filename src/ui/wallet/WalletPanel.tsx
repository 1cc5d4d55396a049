import { useEffect, type ReactElement } from 'react';
import { useWalletStore, type WalletScreen, type WalletUiState } from './store.ts';
import { Feedback } from './Feedback.tsx';
import { ChoosePassphrase, ConfirmMnemonic, ShowMnemonic } from './CreateWallet.tsx';
import { RestoreWallet } from './RestoreWallet.tsx';
import { ImportKeystore } from './ImportKeystore.tsx';
import { Unlock, Welcome } from './Unlock.tsx';
import { WalletView } from './WalletView.tsx';
import './wallet.css';

const SCREENS: Record<WalletScreen, () => ReactElement> = {
  loading: () => <p className="muted">Loading wallet…</p>,
  welcome: Welcome,
  'create-passphrase': ChoosePassphrase,
  backup: ShowMnemonic,
  confirm: ConfirmMnemonic,
  restore: RestoreWallet,
  import: ImportKeystore,
  unlock: Unlock,
  unlocked: WalletView,
};

const STATE_SENTENCE: Record<WalletUiState['status'], string> = {
  loading: 'Opening your wallet…',
  none: 'There is no wallet in this browser yet.',
  locked: 'Your wallet is locked: unlock it with your passphrase when something must be signed.',
  unlocked: 'Your wallet is unlocked: this browser can sign your Sprint proofs.',
};

/** Activity that postpones auto-lock. */
const ACTIVITY = ['pointerdown', 'keydown'] as const;

export function WalletPanel() {
  const screen = useWalletStore((s) => s.screen);
  const status = useWalletStore((s) => s.status);
  useEffect(() => {
    const { init, touch } = useWalletStore.getState();
    void init();
    for (const ev of ACTIVITY) window.addEventListener(ev, touch, { passive: true });
    return () => {
      for (const ev of ACTIVITY) window.removeEventListener(ev, touch);
    };
  }, []);
  const Screen = SCREENS[screen];
  return (
    <section className="panel wallet" aria-label="Your wallet" data-testid="wallet-panel">
      <p className={`wallet-state wallet-${status}`} data-testid="wallet-state" data-state={status}>
        {STATE_SENTENCE[status]}
      </p>
      <Screen />
      <Feedback />
    </section>
  );
}
