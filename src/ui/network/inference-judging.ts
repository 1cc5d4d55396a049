/**
 * Connects the page's Sprint runtime to the model on "Run a model", so that a page that takes part
 * (Contribute) and has a model loaded judges other volunteers' inference proofs of that model
 * (src/app/inference-judge.ts, page-judge.ts). The runtime's snapshot carries what it published,
 * shown on the Network & ledger screen (LedgerParts.tsx).
 */
import { pageJudging } from '../../app/page-judge.ts';
import { getLlmClient, useLlmStore } from '../llm/store.ts';
import { currentRuntime, useSprintStore } from '../sprint/store.ts';
import { startLedgerFollowing } from './ledger-store.ts';
import { useNetworkStore } from './store.ts';

let started = false;

export function startInferenceJudging(): void {
  if (started) return;
  started = true;
  // The page's ledger, for pages that do not take part too (the follower): started with the judging, once per page.
  startLedgerFollowing();
  let runtime: unknown = null;
  let model: unknown = null;
  const sync = () => {
    const r = currentRuntime();
    const llm = useLlmStore.getState();
    // 'generating' keeps the same model loaded; only a new load (or none) changes what is judged.
    const m = llm.model && (llm.status === 'ready' || llm.status === 'generating') ? llm.model : null;
    if (r === runtime && m === model) return;
    const newModel = m !== model;
    runtime = r;
    model = m;
    r?.judgeInferenceWith(m ? pageJudging(getLlmClient(), () => useNetworkStore.getState().relays, { reset: newModel }) : null);
  };
  useSprintStore.subscribe(sync);
  useLlmStore.subscribe(sync);
  sync();
}
