/**
 * The browser user's side of private split inference (docs/split-inference.md): layers [0, k) run
 * in the page's LLM Worker, h_k goes to one volunteer over the page's node (the sealed split-infer
 * request/response), the logits come back and the next token is sampled here. Token ids and text
 * stay in this tab: the prompt is tokenized in the Worker and `splitGenerate` puts only h_k on the
 * wire. After the session the wallet signs the effective-compute proof and it is handed to the
 * volunteer, which publishes it to the ledger.
 *
 * Before that, `planRoute` (split-route.ts) decides where the request runs and the failover order:
 * a volunteer that fails or times out is replaced by the next, which rebuilds from the h_k history.
 *
 * A volunteer that takes session frames gets a per-session key (the steps are sealed here, under it);
 * one that does not gets every call sealed by the node.
 *
 * `observeSplitPlaintext` lets a test see every request body before it is sealed, by the node or here.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { multiaddr } from '@multiformats/multiaddr';
import type { SprintnetNode } from '../node/node.ts';
import { calibrate, DEFAULT_CALIBRATION_PROMPTS } from '../split/calibrate.ts';
import { isSplitError, SplitError } from '../split/errors.ts';
import { submitProof } from '../split/evidence.ts';
import { seedSigner } from '../split/local.ts';
import type { MonitorThresholds } from '../split/metrics.ts';
import { encodeProof } from '../split/proof.ts';
import type { PrivacyChoice } from '../split/router.ts';
import { NodeTransport, peerPublicKey } from '../split/transport.ts';
import { splitGenerate, type StepReport } from '../split/user.ts';
import { failoverSummary, ObservedTransport, ReachingTransport, transportOfLastSegment } from './split-failover.ts';
import { splitModelOf, type LoadedSplitModel, type RangeWorker } from './split-model.ts';
import { genesisHash, type Genesis } from '../protocol/genesis.ts';

export type SplitStepView = Omit<StepReport, 'token'>;

export interface SplitRunOptions {
  readonly worker: RangeWorker;
  readonly node: SprintnetNode;
  /** The unlocked wallet's identity; its key must be the node's (the volunteer authenticates the node, the proof names the wallet). */
  readonly identity: { readonly publicKey: Uint8Array; readonly ed25519Seed: Uint8Array } | null;
  readonly networkId: string;
  /** The network's genesis this page follows: the proof is signed only for a volunteer that names it (none: the volunteer's). */
  readonly genesis?: Genesis | null;
  readonly relays: readonly string[];
  /** Peer ids in failover order (planRoute's `order`): the first serves, the next takes over if it fails. */
  readonly volunteers: readonly string[];
  readonly privacy: PrivacyChoice;
  readonly k: number;
  /** Calibrated noise α (σ = α · RMS of each h_k row). */
  readonly noise: number;
  readonly prompt: string;
  readonly useChatTemplate: boolean;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed?: number;
  readonly onStep?: (s: SplitStepView) => void;
  readonly onText?: (text: string) => void;
  readonly onPhase?: (what: string) => void;
}

export interface SplitRunResult {
  readonly text: string;
  readonly tokens: number;
  readonly stoppedBy: string;
  readonly rewinds: number;
  /** Times generation switched to the next volunteer, and who served, in order. */
  readonly failovers: number;
  readonly served: string[];
  readonly thresholds: MonitorThresholds;
  readonly proofHex: string | null;
  readonly unproven: string | null;
  readonly flops: string;
  /** What the volunteer said about the submitted proof, or why it was not submitted. */
  readonly submitted: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

type PlaintextObserver = (request: Uint8Array, promptTokens: readonly number[]) => void;
let observer: PlaintextObserver | null = null;

/** Tests: see each outgoing split request as plaintext, before it is sealed (and the prompt's ids, which never leave). */
export function observeSplitPlaintext(o: PlaintextObserver | null): void {
  observer = o;
}

const loaded = new WeakMap<RangeWorker, Promise<LoadedSplitModel>>();
const thresholdsByHash = new Map<string, Promise<MonitorThresholds>>();

/** The Worker's model as split sees it; recomputed after a new load (the caller passes a fresh key via `reset`). */
export function splitModelFor(worker: RangeWorker, reset = false): Promise<LoadedSplitModel> {
  let p = loaded.get(worker);
  if (!p || reset) {
    p = splitModelOf(worker);
    loaded.set(worker, p);
    p.catch(() => loaded.delete(worker));
  }
  return p;
}

/** τ and θ_H measured on this model as the CLI does (greedy, unsplit, 8 prompts × 16 tokens), once per model hash. */
async function thresholdsFor(worker: RangeWorker, m: LoadedSplitModel, useChatTemplate: boolean): Promise<MonitorThresholds> {
  const key = bytesToHex(m.hash);
  let p = thresholdsByHash.get(key);
  if (!p) {
    p = (async () => {
      const prompts = await Promise.all(DEFAULT_CALIBRATION_PROMPTS.map((t) => worker.encodePrompt(t, useChatTemplate)));
      const c = await calibrate(m.model, m.normWeight, prompts, 16);
      return { tau: c.tau, maxEntropy: c.maxEntropy };
    })();
    thresholdsByHash.set(key, p);
    p.catch(() => thresholdsByHash.delete(key));
  }
  return p;
}

/**
 * Reaches the volunteer: already connected, or through each relay's circuit. libp2p joins a dial to
 * a peer already under way (discovery's WebRTC upgrade) instead of starting ours; if that one fails,
 * the relayed connection it signalled over may be open (calls ride it), else our own circuit dial
 * is tried once more.
 */
export async function reach(node: SprintnetNode, peerId: string, relays: readonly string[]): Promise<void> {
  const connected = () => node.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId);
  if (connected()) return;
  let last: unknown = null;
  for (const relay of relays.flatMap((r) => [r, r])) {
    try {
      await node.libp2p.dial(multiaddr(`${relay}/p2p-circuit/p2p/${peerId}`), { signal: AbortSignal.timeout(15_000) });
      return;
    } catch (e) {
      last = e;
      if (connected()) return;
    }
  }
  throw new SplitError('NO_VOLUNTEER', `cannot reach volunteer ${peerId.slice(-8)}${last ? `: ${(last as Error).message}` : ': no relay known'}`);
}

export async function runSplitInference(o: SplitRunOptions): Promise<SplitRunResult> {
  // "On this device only" is checked before anything is computed or sent (splitGenerate refuses too).
  if (o.privacy !== 'allow-split') throw new SplitError('PRIVACY', 'you chose "on this device only": h_k is not sent');
  if (!o.identity) throw new SplitError('BAD_ARGUMENT', 'unlock your wallet first: it signs the effective-compute proof that credits the volunteer');
  if (bytesToHex(peerPublicKey(o.node.peerId)) !== bytesToHex(o.identity.publicKey)) {
    throw new SplitError('BAD_ARGUMENT', 'the network node is not running with your wallet key yet (it restarts after an unlock): try again in a moment');
  }
  const peerIds = o.volunteers.map(checkedPeerId);
  if (peerIds.length === 0) throw new SplitError('NO_VOLUNTEER', 'no volunteer to split with');
  o.onPhase?.('reading the model');
  const m = await splitModelFor(o.worker);
  o.onPhase?.('measuring τ and θ_H on this model');
  const thresholds = await thresholdsFor(o.worker, m, o.useChatTemplate);
  const prompt = await o.worker.encodePrompt(o.prompt, o.useChatTemplate);
  const signer = seedSigner(o.identity.ed25519Seed);
  // Each volunteer is reached only when its turn comes; an unreachable one is a failed link, so the next one is tried.
  const transports = peerIds.map(
    (peerId) =>
      new ObservedTransport(new ReachingTransport(new NodeTransport(o.node, peerId, CALL_TIMEOUT_MS), () => reach(o.node, peerId, o.relays)), (plaintext) =>
        observer?.(plaintext, prompt),
      ),
  );
  const tokens: number[] = [];
  let decoding = Promise.resolve();
  o.onPhase?.('generating');
  const result = await (async () => {
    try {
      return await splitGenerate(prompt, {
        model: m.model,
        k: o.k,
        modelHash: m.hash,
        privacy: o.privacy,
        volunteers: transports,
        thresholds,
        signer,
        networkId: o.networkId,
        ...(o.genesis ? { genesis: genesisHash(o.genesis) } : {}),
        maxTokens: o.maxTokens,
        temperature: o.temperature,
        topP: o.topP,
        seed: o.seed ?? 0,
        noise: o.noise,
        tokenizer: null,
        maxContext: Math.min(prompt.length + o.maxTokens, m.model.config.maxPositions),
        onStep: ({ token, ...view }) => {
          o.onStep?.(view);
          if (token === null) return;
          tokens.push(token);
          const upTo = tokens.slice();
          // Text is decoded in the Worker, in order; a late one never overwrites a longer one.
          decoding = decoding.then(() =>
            o.worker.decodeTokens(upTo).then(
              (t) => o.onText?.(t),
              () => undefined,
            ),
          );
        },
      });
    } catch (e) {
      const why = transports.filter((t) => t.lastProblem).map((t) => `${t.label}: ${t.lastProblem}`);
      if (isSplitError(e) && e.code === 'NO_VOLUNTEER' && why.length > 0) throw new SplitError('NO_VOLUNTEER', `${e.message} (${why.join('; ')})`);
      throw e;
    }
  })();
  await decoding;
  const text = await o.worker.decodeTokens(result.tokens);
  o.onText?.(text);
  const segment = result.segments[result.segments.length - 1]!;
  const proof = segment.proof ? encodeProof(segment.proof) : null;
  let submitted = 'not submitted: no proof';
  const last = transportOfLastSegment(result, transports);
  if (proof && last) {
    o.onPhase?.('submitting the proof');
    submitted = await submitProof(last, proof).catch((e: unknown) => `not published: ${(e as Error).message}`);
  }
  const summary = failoverSummary(result);
  return {
    text,
    tokens: result.tokens.length,
    stoppedBy: result.stoppedBy,
    rewinds: result.rewinds,
    failovers: summary.switches,
    served: summary.served,
    thresholds,
    proofHex: proof ? bytesToHex(proof) : null,
    unproven: segment.unproven ?? null,
    flops: segment.flops.toString(),
    submitted,
    bytesSent: result.segments.reduce((n, s) => n + s.bytesSent, 0),
    bytesReceived: result.segments.reduce((n, s) => n + s.bytesReceived, 0),
  };
}

/** A call (open, step, close) that takes longer than this counts as a failed volunteer: the next one takes over. */
const CALL_TIMEOUT_MS = 30_000;
export function checkedPeerId(peerId: string): string {
  const p = peerId.trim();
  if (!/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(p))
    throw new SplitError('BAD_ARGUMENT', `a volunteer must be a peer id (12D3Koo…), got ${JSON.stringify(p.slice(0, 20))}`);
  return p;
}
