import { useEffect, type ReactElement } from 'react';
import { useWalletStore, type WalletScreen } from './store.ts';
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
    <section className="panel wallet" aria-labelledby="wallet-title" data-testid="wallet-panel">
      <h2 id="wallet-title">
        Wallet{' '}
        <span className={`wallet-badge wallet-${status}`} data-testid="wallet-state">{status}</span>
      </h2>
      <Screen />
      <Feedback />
    </section>
  );
}
