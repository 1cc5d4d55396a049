/**
 * The ledger as this page sees it, for the Network & ledger screen: the Sprint runtime's snapshot
 * while this tab takes part, else the ledger follower's (src/app/ledger-follower.ts), which runs
 * while something here needs the ledger: the screen is open, the page serves split inference or
 * lets requests split. A tab without the GPU lock follows too. The follower is handed over to the
 * runtime inside BrowserRuntime (one host per genesis per page); this store only decides when one
 * follows and copies snapshots, so components stay free of protocol logic.
 */
import { create } from 'zustand';
import { LedgerFollower, type FollowerMode } from '../../app/ledger-follower.ts';
import { keyOfPeer } from '../../app/transport.ts';
import type { RuntimeSnapshot } from '../../app/runtime.ts';
import { genesisId } from '../../protocol/genesis.ts';
import type { InferenceRecord } from '../../protocol/inference-reputation.ts';
import { fromHex } from '../../sprint/bytes.ts';
import { useSplitStore } from '../split/store.ts';
import { useSprintStore } from '../sprint/store.ts';
import { getWallet, useWalletStore } from '../wallet/store.ts';
import { getNode, useNetworkStore } from './store.ts';

/** Why the page follows the ledger. */
export type LedgerNeed = 'network-screen' | 'split';

export interface LedgerUiState {
  /** Where the view comes from: this tab's Sprint runtime, the follower, or nothing yet. */
  source: 'runtime' | 'follower' | 'none';
  followerMode: FollowerMode;
  runtime: RuntimeSnapshot | null;
  inferenceReputation: readonly InferenceRecord[];
  needs: readonly LedgerNeed[];
  need(why: LedgerNeed, on: boolean): void;
}

let follower: LedgerFollower | null = null;
let offFollower: (() => void) | null = null;

export const useLedgerStore = create<LedgerUiState>()((set, get) => ({
  source: 'none',
  followerMode: 'off',
  runtime: null,
  inferenceReputation: [],
  needs: [],
  need(why, on) {
    const has = get().needs.includes(why);
    if (on === has) return;
    set({ needs: on ? [...get().needs, why] : get().needs.filter((n) => n !== why) });
    reconcile();
  },
}));

const set = useLedgerStore.setState;

function walletKey(): Uint8Array | null {
  const hex = getWallet()?.info ? keyOfPeer(getWallet()!.info!.peerId) : null;
  return hex ? fromHex(hex, 32, 'BAD_PUBLIC_KEY', 'wallet public key') : null;
}

/** The view to show: the runtime's while it runs in this tab, else the follower's. */
function copy(): void {
  const rt = useSprintStore.getState().snapshot;
  if (rt?.runtime && rt.status === 'running') {
    set({ source: 'runtime', runtime: rt.runtime, inferenceReputation: rt.inferenceReputation ?? [] });
    return;
  }
  const f = follower?.snapshot;
  set(
    f?.runtime
      ? { source: 'follower', runtime: f.runtime, inferenceReputation: f.inferenceReputation, followerMode: f.mode }
      : { source: 'none', runtime: null, inferenceReputation: [], followerMode: f?.mode ?? 'off' },
  );
}

/** Starts the follower when the ledger is needed and a genesis is known; stops it when not (or when the network or the wallet changes). */
function reconcile(): void {
  const genesis = useNetworkStore.getState().genesis;
  const wanted = useLedgerStore.getState().needs.length > 0 && !!genesis;
  const key = walletKey();
  const stale = follower && (!wanted || follower.genesisId !== genesisId(genesis!) || !sameKey(follower.publicKey, key));
  if (stale) stopFollower();
  if (wanted && !follower && genesis) {
    const f = new LedgerFollower({ genesis, publicKey: key });
    follower = f;
    offFollower = f.subscribe(copy);
    void f.start(getNode()).catch(() => stopFollower());
  }
  copy();
}

function stopFollower(): void {
  const f = follower;
  follower = null;
  offFollower?.();
  offFollower = null;
  void f?.stop();
}

const sameKey = (a: Uint8Array | null, b: Uint8Array | null) => (a ? a.join() : '') === (b ? b.join() : '');

let started = false;

/** Wires the store to the network, wallet, Sprint and split stores (once per page). */
export function startLedgerFollowing(): void {
  if (started) return;
  started = true;
  useNetworkStore.subscribe((n, prev) => {
    // The node restarts when the wallet locks or unlocks: the follower moves with it, like the runtime.
    if (n.nodeGeneration !== prev.nodeGeneration) follower?.node.attach(getNode());
    if (n.genesis !== prev.genesis) reconcile();
  });
  useWalletStore.subscribe((w, prev) => {
    if (w.info !== prev.info) reconcile();
  });
  useSprintStore.subscribe(copy);
  const split = () => {
    const s = useSplitStore.getState();
    useLedgerStore.getState().need('split', s.serving !== 'off' || s.privacy === 'allow-split');
  };
  useSplitStore.subscribe(split);
  split();
}
