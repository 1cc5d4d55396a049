/**
 * What a browser page needs to judge other volunteers' inference proofs (inference-judge.ts): the
 * model loaded in its LLM Worker as a validator holds it — hash, layers through the Worker (CPU or
 * WebGPU, whichever engine loaded it), final norm and a τ measured here the way the headless host
 * measures it (greedy, unsplit, 8 prompts × 16 tokens, chat template when the model has one) —
 * and a link to a volunteer through the page's node, dialled through the relays' circuits when not
 * connected yet.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { peerIdFromPublicKeyBytes, type SprintnetNode } from '../node/node.ts';
import type { HeldModel } from '../protocol/inference-check.ts';
import { calibrate, DEFAULT_CALIBRATION_PROMPTS } from '../split/calibrate.ts';
import { NodeTransport, type SplitTransport } from '../split/transport.ts';
import { ReachingTransport } from './split-failover.ts';
import type { RangeWorker } from './split-model.ts';
import { reach, splitModelFor } from './split-user.ts';

/** Given to BrowserRuntime.judgeInferenceWith. */
export interface InferenceJudging {
  /** The loaded model when its hash is `hash`, else undefined. */
  readonly model: (hash: Uint8Array) => Promise<HeldModel | undefined>;
  /** `node` is the page's node now (undefined while it restarts or is offline). */
  readonly transport: (node: SprintnetNode | undefined, volunteerKey: Uint8Array) => SplitTransport;
}

const held = new WeakMap<RangeWorker, Promise<HeldModel>>();

/** The Worker's model as a validator holds it; `reset` after a new model was loaded. */
export function workerHeldModel(worker: RangeWorker, reset = false): Promise<HeldModel> {
  let p = held.get(worker);
  if (!p || reset) {
    p = (async () => {
      const m = await splitModelFor(worker, reset);
      const prompts = await Promise.all(DEFAULT_CALIBRATION_PROMPTS.map((t) => worker.encodePrompt(t, true)));
      const { tau } = await calibrate(m.model, m.normWeight, prompts, 16);
      return { record: { hash: m.hash, config: m.model.config, tau }, model: m.model, normWeight: m.normWeight };
    })();
    held.set(worker, p);
    p.catch(() => held.delete(worker));
  }
  return p;
}

export function pageJudging(worker: RangeWorker, relays: () => readonly string[], o: { reset?: boolean } = {}): InferenceJudging {
  let first = o.reset ?? false;
  return {
    model: async (hash) => {
      const reset = first;
      first = false;
      const facts = await splitModelFor(worker, reset);
      if (bytesToHex(facts.hash) !== bytesToHex(hash)) return undefined;
      return workerHeldModel(worker, reset);
    },
    transport: (node, volunteerKey) => {
      if (!node) throw new Error('this page is offline: the volunteer cannot be reached');
      const peerId = peerIdFromPublicKeyBytes(volunteerKey);
      return new ReachingTransport(new NodeTransport(node, peerId, 30_000), () => reach(node, peerId, relays()));
    },
  };
}
