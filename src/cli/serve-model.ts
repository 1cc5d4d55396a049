/**
 * `sprintnet host --serve-model DIR`: the headless host as a split-inference volunteer and, when it
 * runs the Sprint protocol (`--genesis`), as a validator of other volunteers' proofs
 * (docs/split-inference.md §7):
 *  - it serves sessions of layers [1, L) over the node's sealed `split-infer` request/response;
 *  - a user's submitted proof of one of its sessions is signed into an `inference` message, added
 *    to its own pool and gossiped on `inference-proof`;
 *  - it keeps closed sessions' evidence and gives it only to peers with weight in the current
 *    epoch (the evidence is h_k, from which the prompt can be recovered);
 *  - every second it judges the inference proofs in its pool that name its model and not itself
 *    (its own sample, evidence fetched from the volunteer), and gossips its verdict.
 */
import type { KvCache } from '../llm/model-types.ts';
import type { SprintnetNode } from '../node/node.ts';
import { peerIdFromPublicKeyBytes } from '../node/node.ts';
import type { Signer } from '../protocol/crypto.ts';
import { epochAt, schedule, type Genesis } from '../protocol/genesis.ts';
import type { ProtocolHost } from '../protocol/host.ts';
import { judgeInference, signInference, signVerdict, type HeldModel } from '../protocol/inference-check.ts';
import type { Topic } from '../protocol/interfaces.ts';
import { votingWeights } from '../protocol/ledger.ts';
import { decodeProof, proofId } from '../split/proof.ts';
import { fetchEvidence } from '../split/evidence.ts';
import { seedSigner } from '../split/local.ts';
import { NodeTransport, serveSplit } from '../split/transport.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { walletVerifier } from '../protocol/crypto.ts';
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
  stop(): void;
}

const VERDICT_NAMES = ['consistent', 'inconsistent', 'invalid'];

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
  const weighted = (key: string): boolean => {
    if (!l) return false;
    const e = Math.max(0, epochAt(l.genesis, l.now()));
    const prev = e > 0 ? ((l.host.view(e - 1) ?? l.host.view(l.host.head))?.state ?? null) : null;
    const committers = l.host.pool
      .messages(e)
      .filter((m) => m.kind === 'commit')
      .map((m) => hex(m.sender));
    return (votingWeights(l.genesis, prev, committers).get(key) ?? 0) > 0;
  };
  const volunteer = new SplitVolunteer<K>({
    model: o.held.model,
    lowestK: 1,
    modelHash: o.held.record.hash,
    normWeight: o.held.normWeight,
    signer: seedSigner(o.ed25519Seed),
    networkId: o.networkId,
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

  const verdicts = new Map<string, string>();
  /** When a proof's judgement last found no evidence or failed: it is tried again 10 s later, not every round. */
  const retryAt = new Map<string, number>();
  let busy = false;
  const judgeNew = async () => {
    if (!l || busy) return;
    busy = true;
    try {
      for (const e of l.host.pool.epochs()) {
        const s = schedule(l.genesis, e);
        if (l.now() > s.validationEnd) continue;
        for (const m of l.host.pool.messages(e)) {
          if (m.kind !== 'inference') continue;
          const p = decodeProof(m.proof);
          const id = hex(proofId(p));
          if (verdicts.has(id) || (retryAt.get(id) ?? 0) > l.now() || [p.receipt.user, p.receipt.volunteer].some((k) => hex(k) === hex(l.signer.publicKey)))
            continue;
          if (!weighted(hex(l.signer.publicKey))) continue; // a verdict without weight is not counted
          verdicts.set(id, 'pending');
          try {
            const transport = new NodeTransport(o.node, peerIdFromPublicKeyBytes(p.receipt.volunteer), 30_000);
            const j = await judgeInference(m.proof, {
              networkId: l.genesis.networkId,
              verifier: walletVerifier(),
              seed: l.signer.publicKey,
              model: (h) => (hex(h) === hex(o.held.record.hash) ? (o.held as unknown as HeldModel) : undefined),
              evidence: (proof, sample) =>
                fetchEvidence(transport, proof, sample).catch((err: unknown) => {
                  o.log(`no evidence for proof ${id.slice(0, 12)}…: ${(err as Error).message}`);
                  return null;
                }),
            });
            if (!j) {
              verdicts.delete(id);
              retryAt.set(id, l.now() + 10_000);
              continue;
            }
            const v = await signVerdict(l.signer, l.genesis, e, m.proof, j, l.now());
            l.host.receive(v.bytes, 'gossip');
            await l.publish('sprint-validation', v.bytes);
            verdicts.set(id, VERDICT_NAMES[j.verdict]!);
            o.log(`judged inference proof ${id.slice(0, 12)}…: ${VERDICT_NAMES[j.verdict]} (${j.detail})`);
          } catch (err) {
            verdicts.delete(id);
            retryAt.set(id, l.now() + 10_000);
            o.log(`judging inference proof ${id.slice(0, 12)}… failed: ${(err as Error).message}`);
          }
        }
      }
    } catch (err) {
      o.log(`judging inference proofs failed: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const timer = l ? setInterval(() => void judgeNew(), o.judgeEveryMs ?? 1000) : undefined;
  return {
    volunteer: volunteer as unknown as SplitVolunteer,
    verdicts,
    stop: () => {
      if (timer) clearInterval(timer);
      void o.node.unhandle('split-infer').catch(() => {});
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
