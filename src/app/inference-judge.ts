/**
 * A validator of other volunteers' split-inference proofs (docs/split-inference.md §7 "Judge",
 * docs/protocol.md §9a), shared by the headless host (`host --genesis … --serve-model DIR`) and the
 * browser page that follows the ledger with a model loaded.
 *
 * Every round it looks at the `inference` messages in the pool of each epoch still in validation,
 * and judges those that name neither itself nor a model it does not hold, while its key has voting
 * weight (a verdict without weight is not counted, so it is not worth the re-run), one at a time in
 * the order of judge-order.ts (against bursts of made-up proofs from fresh keys): the volunteer's
 * evidence is fetched, `judgeInference` re-runs its own sample, and the signed verdict goes into the
 * local pool and out on `sprint-validation`. A proof whose evidence did not come (or whose judging
 * failed) is tried again `retryMs` later, not every round; a volunteer whose evidence did not come
 * has all its proofs wait, `retryMs · 2^(failures − 1)` (at most an epoch).
 *
 * A signer with `ready` (the browser's lazy wallet signer) is asked before anything is fetched: the
 * evidence is given to the wallet's key only, and the node runs under it only while unlocked. While
 * it waits the snapshot says so ("unlock to judge"); if the validation window closes first, the
 * proof is listed as missed and not tried again.
 */
import { peerIdFromPublicKeyBytes, type SprintnetNode } from '../node/node.ts';
import { hex } from '../protocol/bytes.ts';
import { walletVerifier, type Signer } from '../protocol/crypto.ts';
import { epochAt, schedule, type Genesis } from '../protocol/genesis.ts';
import type { ProtocolHost } from '../protocol/host.ts';
import { judgeInference, signVerdict, type HeldModel } from '../protocol/inference-check.ts';
import { inferenceReputation, type InferenceRecord } from '../protocol/inference-reputation.ts';
import type { Topic } from '../protocol/interfaces.ts';
import type { InferenceMessage } from '../protocol/messages.ts';
import { votingWeights } from '../protocol/ledger.ts';
import { fetchEvidence } from '../split/evidence.ts';
import { decodeProof, proofId, type ComputeProof } from '../split/proof.ts';
import { NodeTransport, type SplitTransport } from '../split/transport.ts';
import { nextToJudge, type JudgeCandidate } from './judge-order.ts';

export type VerdictName = 'consistent' | 'inconsistent' | 'invalid';
const VERDICT_NAMES: readonly VerdictName[] = ['consistent', 'inconsistent', 'invalid'];

/** The protocol host's parts the judge reads and feeds (ProtocolHost fits). */
export type JudgeLedger = Pick<ProtocolHost, 'pool' | 'view' | 'head' | 'receive'>;

export interface InferenceJudgeOptions {
  readonly genesis: Genesis;
  readonly host: JudgeLedger;
  /** Signs verdicts as this validator; its key seeds the sample and must hold voting weight. */
  readonly signer: Signer;
  /** Whether the signer cannot sign now (a locked wallet): shown as "unlock to judge" while `ready` waits. */
  readonly locked?: () => boolean;
  /** The model of a hash when this validator holds it (with the τ it uses for that hash). */
  readonly model: (hash: Uint8Array) => HeldModel | undefined | Promise<HeldModel | undefined>;
  /** A split-infer link to a proof's volunteer (its Ed25519 key), for the evidence. */
  readonly transport: (volunteerKey: Uint8Array) => SplitTransport;
  readonly publish: (topic: Topic, bytes: Uint8Array) => Promise<void>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Default 1 000 ms; 0 = no timer (the caller runs `tick`). */
  readonly everyMs?: number;
  /** After missing evidence or a failure, the wait before the proof is tried again (default 10 s). */
  readonly retryMs?: number;
  /**
   * The judge order and per-volunteer backoff of judge-order.ts (default true). False takes proofs in
   * pool order with a per-proof retry only, as before them: the flood test's baseline.
   */
  readonly floodDefence?: boolean;
}

/** A verdict this validator signed and published. */
export interface PublishedVerdict {
  /** Hex of the split proof id. */
  readonly proofId: string;
  readonly epoch: number;
  readonly volunteer: string;
  readonly verdict: VerdictName;
  /** Decode steps re-run. */
  readonly checked: number;
  readonly detail: string;
  readonly at: number;
}

export interface JudgeSnapshot {
  /** Newest first, at most MAX_LISTED. */
  readonly published: readonly PublishedVerdict[];
  /** A proof waits for the wallet to be unlocked, until the end of its validation window. */
  readonly waiting: { readonly proofId: string; readonly until: number } | null;
  /** Proofs not judged because the wallet stayed locked until their window closed (newest last). */
  readonly missed: readonly { readonly proofId: string; readonly at: number }[];
  /** The last failure (no evidence, judging failed), for the screen. */
  readonly lastProblem: string | null;
}

const MAX_LISTED = 50;

interface Candidate extends JudgeCandidate {
  readonly m: InferenceMessage;
  readonly p: ComputeProof;
  readonly user: string;
  readonly validationEnd: number;
}
export const JUDGE_RETRY_MS = 10_000;

/** Voting weights in force in the epoch of `now` (the previous epoch's state, else the genesis, plus this epoch's committers). */
export function weightsNow(genesis: Genesis, host: JudgeLedger, now: number): ReadonlyMap<string, number> {
  const e = Math.max(0, epochAt(genesis, now));
  return weightsIn(genesis, host, e);
}

export function weightsIn(genesis: Genesis, host: JudgeLedger, e: number): ReadonlyMap<string, number> {
  const prev = e > 0 ? ((host.view(e - 1) ?? host.view(host.head))?.state ?? null) : null;
  const committers = host.pool
    .messages(e)
    .filter((m) => m.kind === 'commit')
    .map((m) => hex(m.sender));
  return votingWeights(genesis, prev, committers);
}

/** Whether `key` (hex) has voting weight now: who may fetch evidence, and whether this validator's verdict would count. */
export const hasWeightNow = (genesis: Genesis, host: JudgeLedger, now: number, key: string): boolean => (weightsNow(genesis, host, now).get(key) ?? 0) > 0;

export class InferenceJudge {
  /** Proof id (hex) → 'pending' while judged, then the verdict's name, or 'missed'; kept while the pool holds the proof. */
  readonly verdicts = new Map<string, string>();
  private readonly retryAt = new Map<string, number>();
  private snap: JudgeSnapshot = { published: [], waiting: null, missed: [], lastProblem: null };
  private readonly listeners = new Set<(s: JudgeSnapshot) => void>();
  private busy: Promise<void> | null = null;
  /** Candidates by pool message id, decoded once. */
  private readonly decoded = new Map<string, Candidate>();
  /** Volunteers whose evidence did not come: how often since they last gave it, and none of their proofs is tried before `at`. */
  private readonly unanswered = new Map<string, { failures: number; at: number }>();
  /** Per epoch, the volunteers this judge found inconsistent or invalid: judged after everyone else. */
  private readonly caught = new Map<number, Set<string>>();
  /** The tiebreak's salt (judge-order.ts): drawn here, never sent, so no proof id can be ground to come first. */
  private readonly salt = crypto.getRandomValues(new Uint8Array(32));
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly o: InferenceJudgeOptions) {
    const every = o.everyMs ?? 1000;
    if (every > 0) this.timer = setInterval(() => void this.tick(), every);
  }

  get snapshot(): JudgeSnapshot {
    return this.snap;
  }

  subscribe(fn: (s: JudgeSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One round over the pool; a round already running is awaited instead of started again. */
  tick(): Promise<void> {
    if (!this.busy) this.busy = this.round().finally(() => (this.busy = null));
    return this.busy;
  }

  private set(patch: Partial<JudgeSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const fn of this.listeners) fn(this.snap);
  }

  private async round(): Promise<void> {
    const me = hex(this.o.signer.publicKey);
    // One lookup per model hash per round: a burst of proofs naming one model asks the store once.
    const models = new Map<string, Promise<HeldModel | undefined>>();
    const held = (hash: Uint8Array) => {
      const k = hex(hash);
      if (!models.has(k)) models.set(k, Promise.resolve(this.o.model(hash)));
      return models.get(k)!;
    };
    // Each proof at most once per round, whatever retryMs is: a round always ends.
    const tried = new Set<string>();
    try {
      for (;;) {
        if (this.stopped) return;
        const next = await this.next(me, held, tried);
        if (!next) return;
        tried.add(next.id);
        await this.judgeOne(next, (await held(next.p.receipt.modelHash))!);
      }
    } catch (err) {
      this.problem(`judging inference proofs failed: ${(err as Error).message}`);
    }
  }

  /**
   * The proof to judge next (judge-order.ts), chosen again after each verdict so that a proof that
   * arrived meanwhile takes its place: one of an epoch still in validation, not judged or waiting
   * for a retry, naming neither this judge nor a model it lacks, while this judge has weight.
   */
  private async next(me: string, held: (hash: Uint8Array) => Promise<HeldModel | undefined>, tried: ReadonlySet<string>): Promise<Candidate | undefined> {
    const { o } = this;
    const now = o.now();
    const weights = weightsNow(o.genesis, o.host, now);
    if (!((weights.get(me) ?? 0) > 0)) return undefined;
    const candidates: Candidate[] = [];
    const live = new Set<string>();
    const liveProofs = new Set<string>();
    const judging = new Set<number>();
    for (const e of o.host.pool.epochs()) {
      const s = schedule(o.genesis, e);
      const open = now <= s.validationEnd;
      if (open) judging.add(e);
      for (const m of o.host.pool.messages(e)) {
        if (m.kind !== 'inference') continue;
        live.add(m.id);
        const c = this.candidate(m, e, s.validationEnd);
        liveProofs.add(c.id);
        if (!open) continue;
        const waits = (this.retryAt.get(c.id) ?? 0) > now || (o.floodDefence !== false && (this.unanswered.get(c.volunteer)?.at ?? 0) > now);
        if (this.verdicts.has(c.id) || tried.has(c.id) || waits) continue;
        if (c.user === me || c.volunteer === me) continue;
        if (await held(c.p.receipt.modelHash)) candidates.push(c);
      }
    }
    // What the judge remembers lives as long as the pool holds the proof (KEEP_EPOCHS): a long-running host keeps no more.
    for (const id of this.decoded.keys()) if (!live.has(id)) this.decoded.delete(id);
    for (const id of this.verdicts.keys()) if (!liveProofs.has(id)) this.verdicts.delete(id);
    for (const id of this.retryAt.keys()) if (!liveProofs.has(id)) this.retryAt.delete(id);
    for (const e of this.caught.keys()) if (!judging.has(e)) this.caught.delete(e);
    for (const [v, u] of this.unanswered) if (u.at + o.genesis.timings.epochMs < now) this.unanswered.delete(v);
    if (o.floodDefence === false) return candidates[0];
    const credited = new Map((o.host.view(o.host.head)?.state.hosts ?? []).map((h) => [hex(h.publicKey), h.totalInferenceFlops]));
    return nextToJudge(
      candidates,
      {
        creditedFlops: (v) => credited.get(v) ?? 0n,
        weight: (v) => weights.get(v) ?? 0,
        caught: (e, v) => this.caught.get(e)?.has(v) ?? false,
        unanswered: (v) => this.unanswered.get(v)?.failures ?? 0,
      },
      this.salt,
    );
  }

  /** A pool message as a candidate, decoded once while it stays in the pool. */
  private candidate(m: InferenceMessage, epoch: number, validationEnd: number): Candidate {
    let c = this.decoded.get(m.id);
    if (!c) {
      const p = decodeProof(m.proof);
      const idBytes = proofId(p);
      c = { m, p, epoch, validationEnd, id: hex(idBytes), idBytes, volunteer: hex(p.receipt.volunteer), user: hex(p.receipt.user) };
      this.decoded.set(m.id, c);
    }
    return c;
  }

  private async judgeOne(c: Candidate, model: HeldModel): Promise<void> {
    const { o } = this;
    const { id, m, p, epoch: e } = c;
    this.verdicts.set(id, 'pending');
    const retryMs = o.retryMs ?? JUDGE_RETRY_MS;
    const later = () => o.now() + retryMs;
    try {
      if (!(await this.readyToSign(id, c.validationEnd))) {
        this.verdicts.set(id, 'missed');
        this.set({ missed: [...this.snap.missed, { proofId: id, at: o.now() }].slice(-MAX_LISTED) });
        return;
      }
      const transport = o.transport(p.receipt.volunteer);
      const j = await judgeInference(m.proof, {
        genesis: o.genesis,
        verifier: walletVerifier(),
        seed: o.signer.publicKey,
        model: (h) => (hex(h) === hex(model.record.hash) ? model : undefined),
        evidence: (proof, sample) =>
          fetchEvidence(transport, proof, sample).catch((err: unknown) => {
            this.problem(`no evidence for proof ${id.slice(0, 12)}…: ${(err as Error).message}`);
            return null;
          }),
      });
      if (!j) {
        // No evidence: the volunteer's other proofs wait too, so one that never answers costs one timeout per retry, not one per proof.
        this.verdicts.delete(id);
        this.retryAt.set(id, later());
        const failures = (this.unanswered.get(c.volunteer)?.failures ?? 0) + 1;
        const wait = Math.min(o.genesis.timings.epochMs, retryMs * 2 ** (failures - 1));
        this.unanswered.set(c.volunteer, { failures, at: o.now() + wait });
        return;
      }
      this.unanswered.delete(c.volunteer);
      const v = await signVerdict(o.signer, o.genesis, e, m.proof, j, o.now());
      o.host.receive(v.bytes, 'gossip');
      await o.publish('sprint-validation', v.bytes);
      const name = VERDICT_NAMES[j.verdict]!;
      this.verdicts.set(id, name);
      if (name !== 'consistent') this.caught.set(e, (this.caught.get(e) ?? new Set()).add(c.volunteer));
      const published: PublishedVerdict = { proofId: id, epoch: e, volunteer: c.volunteer, verdict: name, checked: j.checked, detail: j.detail, at: o.now() };
      this.set({ published: [published, ...this.snap.published].slice(0, MAX_LISTED) });
      o.log(`judged inference proof ${id.slice(0, 12)}…: ${name} (${j.detail})`);
    } catch (err) {
      this.verdicts.delete(id);
      this.retryAt.set(id, later());
      this.problem(`judging inference proof ${id.slice(0, 12)}… failed: ${(err as Error).message}`);
    }
  }

  private problem(line: string): void {
    this.o.log(line);
    this.set({ lastProblem: line });
  }

  /** True when the signer can sign (at once without `ready`); shows the wait while a locked wallet holds it up. */
  private async readyToSign(id: string, until: number): Promise<boolean> {
    const { signer, locked } = this.o;
    if (!signer.ready) return true;
    if (locked?.()) this.set({ waiting: { proofId: id, until } });
    try {
      return await signer.ready('inference verdict', until);
    } finally {
      if (this.snap.waiting) this.set({ waiting: null });
    }
  }
}

/** A split-infer link to a volunteer over a libp2p node, by its key (the headless host's transport factory). */
export const nodeVolunteerLink = (node: SprintnetNode, volunteerKey: Uint8Array, timeoutMs = 30_000): SplitTransport =>
  new NodeTransport(node, peerIdFromPublicKeyBytes(volunteerKey), timeoutMs);

/** Inference reputation (src/protocol/inference-reputation.ts) over every epoch the host's pool still holds. */
export function poolReputation(genesis: Genesis, host: JudgeLedger): InferenceRecord[] {
  const messages = host.pool.epochs().flatMap((e) => host.pool.messages(e).filter((m) => m.kind === 'inference' || m.kind === 'inferenceVerdict'));
  if (!messages.some((m) => m.kind === 'inference')) return [];
  const records = inferenceReputation({ genesis, messages, weightsIn: (e) => weightsIn(genesis, host, e), verifier: walletVerifier() });
  return [...records.values()];
}
