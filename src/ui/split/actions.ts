/**
 * Connects the split screen to the page: the LLM Worker, the network node, the wallet, the Sprint
 * runtime's ledger. The protocol itself is in src/app/split-user.ts and split-volunteer.ts.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { runSplitInference, splitModelFor } from '../../app/split-user.ts';
import { startPageVolunteer, type PageVolunteer } from '../../app/split-volunteer.ts';
import { peerPublicKey } from '../../split/transport.ts';
import { getLlmClient, useLlmStore } from '../llm/store.ts';
import { getNode, useNetworkStore } from '../network/store.ts';
import { currentRuntime } from '../sprint/store.ts';
import { getWallet } from '../wallet/store.ts';
import { useSplitStore } from './store.ts';

const set = useSplitStore.setState;

function unlockedIdentity() {
  const w = getWallet();
  if (!w || w.state !== 'unlocked') return null;
  return w.identity;
}

/** After an unlock the node restarts under the wallet's key: wait for that (and a relay) rather than fail. */
async function nodeUnderWallet(publicKey: Uint8Array | null, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const node = getNode();
    const ok =
      node &&
      publicKey &&
      node.peerId === useNetworkStore.getState().peerId &&
      useNetworkStore.getState().status === 'online' &&
      peerPublicKey(node.peerId).every((b, i) => b === publicKey[i]);
    if (ok || !publicKey || Date.now() > until) return node;
    await new Promise((r) => setTimeout(r, 250));
  }
}

let lastModel: unknown = null;
/** The Worker's model changed since split last looked at it: hash it again. */
const modelChanged = (): boolean => {
  const m = useLlmStore.getState().model;
  const changed = m !== lastModel;
  lastModel = m;
  return changed;
};

export async function runSplit(prompt: string, o: { maxTokens: number; temperature: number; topP: number; useChatTemplate: boolean }): Promise<void> {
  const s = useSplitStore.getState();
  const model = useLlmStore.getState().model;
  if (s.running || !model) return;
  set({ running: true, phase: null, output: '', steps: [], result: null, error: null });
  try {
    const node = await nodeUnderWallet(unlockedIdentity()?.publicKey ?? null);
    if (!node) throw new Error('the page is not connected to the network (see the Network screen)');
    const worker = getLlmClient();
    if (modelChanged()) await splitModelFor(worker, true);
    const result = await runSplitInference({
      worker,
      node,
      identity: unlockedIdentity(),
      networkId: node.config.networkId,
      relays: useNetworkStore.getState().relays,
      volunteerPeerId: s.volunteerPeerId,
      privacy: s.privacy,
      k: s.k ?? Math.max(1, Math.floor(model.layers / 2)),
      noise: s.noise,
      prompt,
      ...o,
      onPhase: (phase) => set({ phase }),
      onStep: (step) => set((st) => ({ steps: [...st.steps, step] })),
      onText: (output) => set({ output }),
    });
    set({ result, output: result.text, phase: null });
  } catch (e) {
    set({ error: (e as Error).message, phase: null });
  } finally {
    set({ running: false });
  }
}

let serving: PageVolunteer | null = null;

/** Weighted keys of this page's ledger (Sprint runtime), the only ones given a session's h_k as evidence. */
function weighted(key: string): boolean {
  const rows = currentRuntime()?.snapshot.runtime?.ledger?.rows ?? [];
  if (rows.some((r) => r.publicKey === key && (r.weight > 0 || r.votingWeight > 0))) return true;
  // Before the ledger has derived an epoch, the genesis's initial weights are the weighted keys.
  const g = useNetworkStore.getState().genesis;
  return !!g && g.initialWeights.some((w) => w.weight > 0 && bytesToHex(w.publicKey) === key);
}

export async function setServing(on: boolean): Promise<void> {
  if (!on) {
    const v = serving;
    serving = null;
    set({ serving: 'off' });
    await v?.stop().catch(() => undefined);
    return;
  }
  if (useSplitStore.getState().serving !== 'off') return;
  set({ serving: 'starting', servingError: null });
  try {
    const identity = unlockedIdentity();
    const node = await nodeUnderWallet(identity?.publicKey ?? null);
    if (!useLlmStore.getState().model) throw new Error('load a model first');
    if (!node) throw new Error('the page is not connected to the network');
    if (!identity) throw new Error('unlock your wallet first: it signs the receipts and is the key credited with CU');
    modelChanged();
    serving = await startPageVolunteer({
      worker: getLlmClient(),
      node,
      identity,
      networkId: node.config.networkId,
      genesis: useNetworkStore.getState().genesis,
      mayFetchEvidence: weighted,
      receiveOwn: (bytes) => currentRuntime()?.sprintRuntime?.host.receive(bytes, 'gossip'),
      onChange: (served) => set({ served }),
    });
    set({ serving: 'on', servingModelHash: serving.modelHash, served: serving.stats() });
  } catch (e) {
    serving = null;
    set({ serving: 'off', servingError: (e as Error).message });
  }
}
