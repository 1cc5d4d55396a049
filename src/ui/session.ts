/**
 * Glue between the concern stores: while the wallet is unlocked, its key is the node's peer
 * identity; when it locks, the node restarts with a throwaway identity that owns nothing.
 */
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { setIdentitySource, urlOrEphemeralIdentity } from './network/sources.ts';
import { useNetworkStore } from './network/store.ts';
import { getWallet, useWalletStore } from './wallet/store.ts';

export function connectWalletToNetwork(): () => void {
  // The wallet zeroes its own key bytes on lock, so the node gets a copy, which we zero too.
  let seedCopy: Uint8Array | null = null;
  const forget = () => {
    seedCopy?.fill(0);
    seedCopy = null;
  };
  const unsubscribe = useWalletStore.subscribe((state, prev) => {
    if (state.status === prev.status) return;
    if (state.status === 'unlocked') {
      const wallet = getWallet();
      if (!wallet) return;
      forget();
      const seed = (seedCopy = wallet.identity.ed25519Seed.slice());
      setIdentitySource(() => identityFromEd25519Seed(seed));
      void useNetworkStore.getState().restart();
    } else if (prev.status === 'unlocked') {
      forget();
      setIdentitySource(urlOrEphemeralIdentity);
      void useNetworkStore.getState().restart();
    }
  });
  return () => {
    unsubscribe();
    forget();
  };
}
