/**
 * Connects the split screen to the page: the LLM Worker, the network node, the wallet, the Sprint
 * ledger this page follows (src/app/page-ledger.ts). The protocol itself is in src/app/split-user.ts and split-volunteer.ts.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { keepRankingFresh, planRoute, volunteerDirectory } from '../../app/split-route.ts';
import { pageLedger } from '../../app/page-ledger.ts';
import { runSplitInference, splitModelFor } from '../../app/split-user.ts';
import { startPageVolunteer, type PageVolunteer } from '../../app/split-volunteer.ts';
import type { LedgerStanding } from '../../split/router-rank.ts';
import { peerPublicKey } from '../../split/transport.ts';
import { getLlmClient, useLlmStore } from '../llm/store.ts';
import { getNode, useNetworkStore } from '../network/store.ts';
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

/** The ledger this page follows (the Sprint runtime's while this tab takes part, else the ledger follower's). */
const ledger = () => pageLedger(useNetworkStore.getState().genesis);

/** Refreshes the list of volunteers announcing the loaded model for the chosen k (the screen calls it every few seconds). */
export async function refreshVolunteerList(): Promise<void> {
  const node = getNode();
  const llm = useLlmStore.getState();
  if (!node || !llm.model || llm.status !== 'ready') return;
  const worker = getLlmClient();
  const m = await splitModelFor(worker, modelChanged());
  const k = useSplitStore.getState().k ?? Math.max(1, Math.floor(llm.model.layers / 2));
  const now = Date.now();
  const l = ledger();
  const listed = volunteerDirectory(node)
    .forModel(m.hash, k)
    .filter((v) => v.peerId !== node.peerId)
    .map((v) => {
      let st: LedgerStanding | undefined;
      let key: string | null = null;
      try {
        key = bytesToHex(peerPublicKey(v.peerId));
        st = l.standing(key);
      } catch {
        st = undefined;
      }
      return {
        peerId: v.peerId,
        weight: st?.weight ?? 0,
        reputation: st?.reputation ?? 0,
        inferenceScore: key === null ? 0 : l.inferenceScore(key),
        flags: st?.flags ?? [],
        announcedTokensPerSecond: v.announcement.decodeTokensPerSecond,
        ageMs: now - v.lastSeenMs,
      };
    })
    .sort((a, b) => b.weight - a.weight || b.inferenceScore - a.inferenceScore || b.reputation - a.reputation || (a.peerId < b.peerId ? -1 : 1));
  set({ listed });
  // While split is on, the listed volunteers are pinged in the background (every 30 s) so Generate ranks from fresh pings.
  if (useSplitStore.getState().privacy === 'allow-split')
    void keepRankingFresh({
      worker,
      node,
      relays: useNetworkStore.getState().relays,
      k,
      standing: l.standing,
      inferenceScore: l.inferenceScore,
      genesis: useNetworkStore.getState().genesis,
    });
}

/** The whole model on this device, through the LLM screen's own engine; its output is mirrored here. */
async function runLocally(prompt: string, o: { maxTokens: number; temperature: number; topP: number; useChatTemplate: boolean }): Promise<void> {
  const unsubscribe = useLlmStore.subscribe((st) => set({ output: st.output }));
  try {
    await useLlmStore.getState().generate(prompt, o);
    const st = useLlmStore.getState();
    set({ output: st.output });
    if (st.error) throw new Error(st.error);
  } finally {
    unsubscribe();
  }
}

export async function runSplit(prompt: string, o: { maxTokens: number; temperature: number; topP: number; useChatTemplate: boolean }): Promise<void> {
  const s = useSplitStore.getState();
  const model = useLlmStore.getState().model;
  if (s.running || !model) return;
  set({ running: true, phase: null, output: '', steps: [], result: null, error: null, plan: null });
  try {
    const node = await nodeUnderWallet(unlockedIdentity()?.publicKey ?? null);
    if (!node) throw new Error('the page is not connected to the network (see the Network screen)');
    const worker = getLlmClient();
    if (modelChanged()) await splitModelFor(worker, true);
    const k = s.k ?? Math.max(1, Math.floor(model.layers / 2));
    const relays = useNetworkStore.getState().relays;
    const l = ledger();
    const plan = await planRoute({
      worker,
      node,
      relays,
      privacy: s.privacy,
      k,
      mode: s.route,
      targetTokensPerSecond: s.targetTokensPerSecond,
      chosenPeerId: s.volunteerPeerId,
      standing: l.standing,
      inferenceScore: l.inferenceScore,
      genesis: useNetworkStore.getState().genesis,
      onPhase: (phase) => set({ phase }),
    });
    set({ plan });
    if (plan.route === 'local') {
      set({ phase: 'running the whole model on this device' });
      await runLocally(prompt, o);
      set({ phase: null });
      return;
    }
    const result = await runSplitInference({
      worker,
      node,
      identity: unlockedIdentity(),
      networkId: node.config.networkId,
      genesis: useNetworkStore.getState().genesis,
      relays,
      volunteers: plan.order,
      privacy: s.privacy,
      k,
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

/** Before the followed ledger has a state (ledgerWeighs decides after), the genesis's initial weights are the weighted keys. */
function weighted(key: string): boolean {
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
      receiveOwn: (bytes) => void ledger().receiveOwn(bytes),
      onChange: (served) => set({ served }),
    });
    set({ serving: 'on', servingModelHash: serving.modelHash, served: serving.stats() });
  } catch (e) {
    serving = null;
    set({ serving: 'off', servingError: (e as Error).message });
  }
}
