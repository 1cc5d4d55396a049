/**
 * `sprintnet host --serve-model DIR`: the headless host as a split-inference volunteer and, when it
 * runs the Sprint protocol (`--genesis`), as a validator of other volunteers' proofs
 * (docs/split-inference.md §7):
 *  - it serves sessions of layers [1, L) over the node's sealed `split-infer` request/response, and
 *    keyed sessions' frames on `split-session` (stop() unhandles both);
 *  - a user's submitted proof of one of its sessions is signed into an `inference` message, added
 *    to its own pool and gossiped on `inference-proof`;
 *  - it keeps closed sessions' evidence and gives it only to peers with weight in the current
 *    epoch (the evidence is h_k, from which the prompt can be recovered);
 *  - every second it judges the inference proofs in its pool that name its model and not itself
 *    (its own sample, evidence fetched from the volunteer), and gossips its verdict
 *    (src/app/inference-judge.ts, shared with the browser page).
 */
import type { KvCache } from '../llm/model-types.ts';
import { hasWeightNow, InferenceJudge, nodeVolunteerLink } from '../app/inference-judge.ts';
import type { SprintnetNode } from '../node/node.ts';
import type { Signer } from '../protocol/crypto.ts';
import { genesisHash, type Genesis } from '../protocol/genesis.ts';
import type { ProtocolHost } from '../protocol/host.ts';
import { signInference, type HeldModel } from '../protocol/inference-check.ts';
import type { Topic } from '../protocol/interfaces.ts';
import { SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME } from '../split/constants.ts';
import { decodeProof } from '../split/proof.ts';
import { seedSigner } from '../split/local.ts';
import { serveSplit } from '../split/transport.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { hex } from '../protocol/bytes.ts';

/** The host's ledger, for a volunteer that publishes proofs and judges others'. */
export interface LedgerLink {
  readonly genesis: Genesis;
  readonly host: ProtocolHost;
  /** Signs protocol messages as this host (the same wallet as the node). */
  readonly signer: Signer;
  /** Gossips a protocol message on a topic. */
  readonly publish: (topic: Topic, bytes: Uint8Array) => Promise<void>;
  readonly now: () => number;
}

export interface ModelService {
  readonly volunteer: SplitVolunteer;
  /** Verdicts this host published, by proof id (hex) → 'consistent' | 'inconsistent' | 'invalid'. */
  readonly verdicts: Map<string, string>;
  /** Stops judging and serving: both protocols serveSplit registered (the pings are serve-announce.ts's to stop). */
  stop(): Promise<void>;
}

export async function startModelService<K extends KvCache>(o: {
  readonly node: SprintnetNode;
  /** The node's wallet seed: it signs receipts. */
  readonly ed25519Seed: Uint8Array;
  readonly held: HeldModel<K>;
  readonly networkId: string;
  readonly ledger?: LedgerLink;
  readonly log: (line: string) => void;
  readonly judgeEveryMs?: number;
}): Promise<ModelService> {
  const l = o.ledger;
  const weighted = (key: string): boolean => !!l && hasWeightNow(l.genesis, l.host, l.now(), key);
  const volunteer = new SplitVolunteer<K>({
    model: o.held.model,
    lowestK: 1,
    modelHash: o.held.record.hash,
    normWeight: o.held.normWeight,
    signer: seedSigner(o.ed25519Seed),
    networkId: o.networkId,
    // Receipts name the genesis we publish to, so a session is credited in that ledger only; without one, in none.
    genesis: l ? genesisHash(l.genesis) : undefined,
    mayFetchEvidence: l ? (peer) => weighted(hex(peer)) : undefined,
    onProof: l
      ? async (proof) => {
          const m = await signInference(l.signer, l.genesis, proof, l.now());
          l.host.receive(m.bytes, 'gossip');
          await l.publish('inference-proof', m.bytes);
          o.log(`published an inference proof of ${decodeProof(proof).receipt.flops} FLOPs for epoch ${m.epoch}`);
          return `published for epoch ${m.epoch}`;
        }
      : undefined,
  });
  await serveSplit(o.node, volunteer);
  o.log(
    `serving split inference: model ${hex(o.held.record.hash).slice(0, 16)}…, layers [1, ${o.held.record.config.numLayers}), τ = ${o.held.record.tau.toFixed(4)}`,
  );

  const judge = l
    ? new InferenceJudge({
        genesis: l.genesis,
        host: l.host,
        signer: l.signer,
        model: (h) => (hex(h) === hex(o.held.record.hash) ? (o.held as unknown as HeldModel) : undefined),
        transport: (volunteerKey) => nodeVolunteerLink(o.node, volunteerKey),
        publish: l.publish,
        now: l.now,
        log: o.log,
        everyMs: o.judgeEveryMs ?? 1000,
      })
    : null;
  return {
    volunteer: volunteer as unknown as SplitVolunteer,
    verdicts: judge?.verdicts ?? new Map(),
    stop: async () => {
      judge?.stop();
      await Promise.all([SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME].map((name) => o.node.unhandle(name).catch(() => undefined)));
    },
  };
}

/** Loads a model folder for serving: the engine (`backend`), its hash, final norm and τ (measured here unless given). */
export async function loadHeldModel(
  dir: string,
  o: { backend: import('../cpu/backend.ts').BackendChoice; tau?: number; log: (line: string) => void },
): Promise<HeldModel & { destroy(): void }> {
  const [
    { DirectorySource },
    { loadLanguageModel, whereItRuns },
    { getGpu },
    { nodeSpawner },
    { modelHash },
    { loadFinalNorm },
    { calibrate, DEFAULT_CALIBRATION_PROMPTS },
  ] = await Promise.all([
    import('../llm/node-source.ts'),
    import('../llm/cpu-select.ts'),
    import('../gpu/gpu-node.ts'),
    import('../cpu/threads-node.ts'),
    import('../split/digest.ts'),
    import('../split/engines.ts'),
    import('../split/calibrate.ts'),
  ]);
  const source = new DirectorySource(dir);
  const { model } = await loadLanguageModel(source, {
    backend: o.backend,
    gpu: o.backend === 'cpu' ? null : await getGpu().catch(() => null),
    spawner: nodeSpawner,
    maxContext: 4096,
  });
  const { manifest } = model;
  const norm = await loadFinalNorm(source, manifest);
  const hash = await modelHash(source, manifest);
  let tau = o.tau;
  if (tau === undefined) {
    const tokenizer = manifest.tokenizer;
    if (!tokenizer) throw new Error(`${source.label} has no tokenizer.json: give --model-tau`);
    o.log('measuring τ on the served model (greedy, unsplit, 8 prompts × 16 tokens)…');
    const prompts = DEFAULT_CALIBRATION_PROMPTS.map((p) =>
      tokenizer.hasChatTemplate ? tokenizer.encodeChat([{ role: 'user', content: p }]) : tokenizer.encode(p),
    );
    tau = (await calibrate(model as import('../llm/model-types.ts').CausalLM, norm, prompts, 16)).tau;
  }
  o.log(`model ${source.label}: ${manifest.config.numLayers} layers on ${whereItRuns(model)}`);
  return { record: { hash, config: manifest.config, tau }, model: model as unknown as HeldModel['model'], normWeight: norm, destroy: () => model.destroy() };
}
