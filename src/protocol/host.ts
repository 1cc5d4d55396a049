/**
 * One peer of the Sprint protocol (docs/protocol.md §"A host's timeline"): it commits to and
 * reveals seed secrets, searches nonces in the Sprint window, publishes its proof, validates the
 * proofs its lottery picks, syncs, derives the epoch state, votes for its hash and follows the
 * certificate. Everything outside the protocol comes in through interfaces.ts, so the same class
 * runs in the browser, in `sprintnet host` and in the in-memory simulation.
 */
import { BinaryWriter } from '../codec/binary.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { MessageType } from '../wallet/signing.ts';
import { SECRET_BYTES, MAX_HEAD_PROBES, MAX_SYNC_IDS, SYNC_GET_PASSES } from './constants.ts';
import type { Signer, Verifier } from './crypto.ts';
import { assembleCertificate, certifyingWeights, decodeCertificate, encodeCertificate, verifyCertificate, type Certificate } from './certificate.ts';
import { decodeNonceList, encodeNonceList, nonceListRoot } from './claims.ts';
import { isProtocolError, ProtocolError } from './errors.ts';
import { epochAt, genesisHash, hitRate, schedule, sprintConfig, type EpochSchedule, type Genesis } from './genesis.ts';
import type { Clock, ProtocolEngine, ProtocolStore, SearchResult, Topic, Transport } from './interfaces.ts';
import { inferenceGenesisProblem, inferenceSignatureProblem } from './inference.ts';
import { decodeState, deriveEpoch, encodeState, stateHash, votingWeights, type Derivation, type EpochState } from './ledger.ts';
import {
  decodeMessage,
  signMessage,
  verifyMessage,
  type Body,
  type KindName,
  type Message,
  type ProofMessage,
  type Unsigned,
  type ValidationEntry,
} from './messages.ts';
import { PeerBook, probeHeads, rotate } from './peer-choice.ts';
import { ProgressWriter, readProgress, type Progress } from './progress.ts';
import { MessagePool } from './pool.ts';
import { seedCommitment, sprintSeed } from './seed.ts';
import { lotteryMessage, sampleSize } from './selection.ts';
import { fetchInOrder, judgeProof, proofsToCheck } from './validator.ts';
import { epochKey } from './store.ts';
import {
  bucketHashes,
  bucketOf,
  decodeHead,
  decodeIds,
  decodeList,
  decodeMessages,
  decodeRequest,
  decodeStateResponse,
  decodeSummary,
  encodeHead,
  encodeIds,
  encodeList,
  encodeMessages,
  encodeRequest,
  encodeStateResponse,
  encodeSummary,
  NOT_FOUND,
} from './sync.ts';
import { compareBytes, equalBytes, hex, hexBytes } from './bytes.ts';
import { inWindow, liveProblem, messageWindow } from './windows.ts';
import { sha256 } from '@noble/hashes/sha2.js';

const TOPIC_OF: Record<KindName, Topic> = {
  commit: 'sprint-seed',
  reveal: 'sprint-seed',
  proof: 'sprint-proof',
  validation: 'sprint-validation',
  vote: 'sprint-vote',
  inference: 'inference-proof',
  inferenceVerdict: 'sprint-validation',
};

/** Simulation hooks; a real host leaves them out. */
export interface HostStrategy {
  /** false: commit but never reveal (the `withholder`). */
  readonly reveal?: boolean;
  /**
   * Reveal this long after commitEnd instead of at once, and count the own secret as revealed
   * meanwhile: the `late-revealer`, who knows the seed from the last honest reveal on while the
   * others wait for its reveal (docs/protocol.md §6, §14).
   */
  readonly revealLateMs?: number;
  /** false: search from sprintStart only, as hosts did before the early search (for comparison runs). */
  readonly searchEarly?: boolean;
  /** Replaces the engine's finds at proof time (the `copier`). */
  readonly proofClaims?: (ctx: ClaimContext) => Promise<{ claims: NonceClaim[]; tried: number }>;
  /** Waits this long after the Sprint before publishing the proof. */
  readonly proofDelayMs?: number;
  /**
   * Replaces fetching and re-running each selected proof's sample: what it returns is published
   * as the entry's verdict (the `lazy-validator`, which answers `ok` without any work).
   */
  readonly verdict?: (ctx: VerdictContext) => Pick<ValidationEntry, 'verdict' | 'checked' | 'mismatches'>;
}

export interface VerdictContext {
  readonly epoch: number;
  readonly proof: ProofMessage;
  /** m = min(count, 130): the `checked` a sampled verdict must carry to be counted. */
  readonly sampleSize: number;
}

export interface ClaimContext {
  readonly epoch: number;
  readonly seed: Uint8Array;
  readonly proofs: () => ProofMessage[];
  readonly fetchList: (proof: ProofMessage) => Promise<NonceClaim[] | null>;
}

export type CertificateStatus = 'none' | 'pending' | 'certified' | 'adopted';

/** The state matches a certificate this host verified: derived and certified here, or fetched and adopted. */
export const isCertified = (status: CertificateStatus): boolean => status === 'certified' || status === 'adopted';

export interface EpochView {
  readonly epoch: number;
  readonly hash: string;
  readonly state: EpochState;
  readonly certificate: CertificateStatus;
  readonly derivation?: Derivation;
}

export type HostEvent =
  | { type: 'phase'; epoch: number; phase: string }
  | { type: 'found'; epoch: number; found: number; tried: number }
  | { type: 'state'; view: EpochView }
  | { type: 'rejected'; code: string; detail: string };

export interface HostOptions {
  readonly genesis: Genesis;
  readonly signer: Signer;
  readonly verifier: Verifier;
  readonly engine: ProtocolEngine;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly store: ProtocolStore;
  /** Cryptographic randomness (seed secrets). */
  readonly random: (bytes: number) => Uint8Array;
  readonly strategy?: HostStrategy;
  /** Peers asked per sync round (default 3). */
  readonly syncPeers?: number;
  /** Passes of `get` per peer per sync round (default SYNC_GET_PASSES). */
  readonly syncGetPasses?: number;
  readonly requestTimeoutMs?: number;
  readonly log?: (line: string) => void;
  readonly onEvent?: (e: HostEvent) => void;
}

interface Local {
  seed?: Uint8Array;
  search?: Promise<SearchResult>;
  /** The seed `search` runs on, and its abort (an early search whose seed the sync round changed). */
  searchSeed?: Uint8Array;
  searchAbort?: AbortController;
  /** The search ended with an error (engine failure): startSprint runs it again, from its stored progress. */
  searchFailed?: boolean;
  /** Simulation only (HostStrategy.revealLateMs): our secret, not yet revealed. */
  heldSecret?: Uint8Array;
  done: Set<string>;
}

export interface HostCounters {
  received: number;
  accepted: number;
  rejected: Record<string, number>;
  /** The latest refusal's detail per code, for a reason shown to a person (which peer, which epoch, why). */
  lastRejected: Record<string, string>;
  published: number;
  requestsSent: number;
  /** Requests that got no usable answer: unreachable, timed out, no handler (not refused messages). */
  requestsFailed: number;
  requestsServed: number;
}

/** How soon a host whose catch-up found nobody to ask tries again. */
const PEER_RETRY_MS = 2_000;

/** Kinds that only hosts with weight in W_e sign (commit, reveal, validation, vote, inference verdicts): the ledger ignores them from anyone else. */
const WEIGHTED_ONLY: ReadonlySet<KindName> = new Set(['commit', 'reveal', 'validation', 'vote', 'inferenceVerdict']);

/** How far back one certified-state fetch may replace uncertified states of ours (takeCertifiedPrev). */
const MAX_PREVIOUS_WALK = 3;

/** How many past epochs of messages a host keeps (memory and store). */
export const KEEP_EPOCHS = 3;
/**
 * How many past epochs a host keeps the messages of an epoch it holds no certificate of. When the
 * weight that could certify an epoch was away at its close (a volunteer holding most of it closed
 * the tab), the others go on on their pending state; with the messages pruned after KEEP_EPOCHS,
 * the volunteer coming back later derived that epoch from what it had kept, carried its weight on
 * a fork of its own and never took another certificate (seen by hand, docs/protocol.md §11), and a
 * host joining later could not build on the certified states after it either.
 */
export const UNCERTIFIED_KEEP_EPOCHS = 48;

export class ProtocolHost {
  readonly genesis: Genesis;
  readonly publicKey: Uint8Array;
  readonly key: string;
  readonly pool = new MessagePool();
  readonly counters: HostCounters = {
    received: 0,
    accepted: 0,
    rejected: {},
    lastRejected: {},
    published: 0,
    requestsSent: 0,
    requestsFailed: 0,
    requestsServed: 0,
  };
  private readonly views = new Map<number, EpochView>();
  private readonly certs = new Map<number, Certificate>();
  /** Nonce lists we hold (ours and fetched), by root, with the epoch they belong to. */
  private readonly lists = new Map<string, { epoch: number; bytes: Uint8Array }>();
  private readonly locals = new Map<number, Local>();
  /** Recovery attempts of an epoch whose state differs from its certificate: how many, and the next one's time. */
  private readonly retries = new Map<number, { attempts: number; at: number }>();
  /** Epochs whose vote the signer was not ready for (a locked wallet): sent once it is (retryOwedVotes). */
  private readonly votesOwed = new Set<number>();
  /** Peers whose sync request failed, asked last for an epoch (peer-choice.ts, docs/protocol.md §12). */
  private readonly peerBook: PeerBook;
  /** The last catch-up found nobody to ask; `waitLogged`: said so once for this wait. */
  private waitingForPeers = false;
  private waitLogged = false;
  private queue: Promise<void> = Promise.resolve();
  private cancelTimer: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private readonly rTarget: number;
  /** genesisHash(genesis): what an inference proof must name (inference.ts). */
  private readonly genesisHash: Uint8Array;

  constructor(private readonly o: HostOptions) {
    this.genesis = o.genesis;
    this.genesisHash = genesisHash(o.genesis);
    this.publicKey = o.signer.publicKey;
    this.key = hex(this.publicKey);
    this.rTarget = rTarget(sprintConfig(o.genesis), hitRate(o.genesis));
    this.peerBook = new PeerBook(() => o.clock.now(), o.genesis.timings.epochMs);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.running) return;
    await this.load();
    this.running = true;
    this.unsubscribe = this.o.transport.subscribe((topic, bytes) => {
      const m = this.receive(bytes, 'gossip');
      if (m?.kind === 'reveal') this.revealArrived(m.epoch);
    });
    this.o.transport.handle((req, from) => this.serve(req, from));
    this.runStep();
  }

  stop(): void {
    this.running = false;
    this.cancelTimer?.();
    this.unsubscribe?.();
    // A stopped host searches no more: its search would go on writing progress (beside a process
    // started over the same store) and emitting finds until the Sprint's end (stop-search.test.ts).
    for (const l of this.locals.values()) {
      l.searchAbort?.abort();
      l.search = undefined;
    }
  }

  /** Waits until queued work (actions, recovery) has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** The newest derived epoch, or -1. */
  get head(): number {
    return Math.max(-1, ...this.views.keys());
  }

  view(epoch: number): EpochView | undefined {
    return this.views.get(epoch);
  }

  certificate(epoch: number): Certificate | undefined {
    return this.certs.get(epoch);
  }

  private log(line: string): void {
    this.o.log?.(`${this.key.slice(0, 8)} ${line}`);
  }

  private enqueue(what: string, fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((e: unknown) => this.log(`${what} failed: ${(e as Error).message}`));
    return this.queue;
  }

  private local(epoch: number): Local {
    let l = this.locals.get(epoch);
    if (!l) this.locals.set(epoch, (l = { done: new Set() }));
    return l;
  }

  // ---------------------------------------------------------------- timeline

  /**
   * Sets the timer for the first phase boundary after `after` (when the last step began). A step
   * that ran past a boundary (it waited for the network) is followed at once by the next one.
   */
  private schedule(after = this.o.clock.now()): void {
    if (!this.running) return;
    const e = Math.max(0, epochAt(this.genesis, after));
    const s = schedule(this.genesis, e);
    const k = this.genesis.skewMs;
    const marks = [
      s.start,
      s.commitEnd,
      s.commitEnd + 2 * k,
      s.revealEnd + k,
      s.sprintStart,
      s.sprintEnd + (this.o.strategy?.proofDelayMs ?? 0),
      s.proofEnd + k,
      s.validationEnd + k,
      s.close,
      s.certifyEnd,
      s.end,
    ];
    // Waiting for a peer to catch up from: look again soon, not at the next boundary (a Sprint is long).
    const next = Math.min(marks.find((t) => t > after) ?? s.end, this.waitingForPeers ? after + PEER_RETRY_MS : Infinity);
    this.cancelTimer?.();
    this.cancelTimer = this.o.clock.setTimer(Math.max(next, this.o.clock.now()), () => this.runStep());
  }

  private runStep(): void {
    const began = this.o.clock.now();
    void this.enqueue('step', () => this.step()).then(() => this.schedule(began));
  }

  /** Runs every action that is due now (each at most once per epoch). */
  private async step(): Promise<void> {
    if (!this.running) return;
    const now = this.o.clock.now();
    const e = epochAt(this.genesis, now);
    if (e < 0) return;
    await this.catchUp(e);
    await this.retryRecovery();
    await this.retryOutvoted(e);
    await this.retryOwedVotes(e);
    const s = schedule(this.genesis, e);
    const l = this.local(e);
    // Commit, Sprint, proof and validation build on the previous state (weights, seed): while it is
    // missing (catch-up waits for a peer) or some state before e is known to differ from its
    // certificate, the host sits them out, unmarked, so that a catch-up or recovery within their
    // window still lets them run.
    const sitOut = (e > 0 && !this.views.has(e - 1)) || this.knownWrong(e) !== undefined;
    const once = async (name: string, fn: () => Promise<void>, buildsOnState = false) => {
      if (l.done.has(name) || (buildsOnState && sitOut)) return;
      l.done.add(name);
      this.o.onEvent?.({ type: 'phase', epoch: e, phase: name });
      await fn();
    };
    if (now < s.commitEnd) await once('commit', () => this.commit(e), true);
    if (now >= s.commitEnd && now < s.revealEnd + this.genesis.skewMs) await once('reveal', () => this.reveal(e));
    if (now >= this.earlyFrom(s) && now < s.sprintStart && !sitOut) await this.startEarly(e, s);
    if (now >= s.sprintStart && now < s.sprintEnd) await once('sprint', () => this.startSprint(e, s), true);
    const proofAt = s.sprintEnd + (this.o.strategy?.proofDelayMs ?? 0);
    if (now >= proofAt && now < s.proofEnd) await once('proof', () => this.publishProof(e, s), true);
    if (now >= s.proofEnd + this.genesis.skewMs && now < s.validationEnd) await once('validate', () => this.validate(e, s), true);
    if (now >= s.validationEnd + this.genesis.skewMs && now < s.close) await once('sync', async () => void (await this.syncEpoch(e, s.close)));
    if (now >= s.close) await once('close', () => this.close(e));
    if (now >= s.certifyEnd) await once('certify', () => this.settle(e));
    this.prune(e);
  }

  /** Voting weights of `epoch` as this host knows them (needs the previous state). */
  private weightsOf(epoch: number): Map<string, number> | null {
    if (epoch === 0) return votingWeights(this.genesis, null, this.openJoinCommitters(0));
    const prev = this.views.get(epoch - 1);
    return prev ? votingWeights(this.genesis, prev.state) : null;
  }

  private openJoinCommitters(epoch: number): string[] {
    return this.pool
      .messages(epoch)
      .filter((m) => m.kind === 'commit')
      .map((m) => hex(m.sender));
  }

  private prevHash(epoch: number): Uint8Array | null {
    if (epoch === 0) return null;
    const v = this.views.get(epoch - 1);
    return v ? stateHash(v.state) : null;
  }

  private async commit(e: number): Promise<void> {
    const eligible = e === 0 && this.genesis.initialWeights.length === 0 ? true : (this.weightsOf(e)?.get(this.key) ?? 0) > 0;
    if (!eligible) return;
    const secret = (await this.o.store.get(`secret/${epochKey(e)}`)) ?? this.o.random(SECRET_BYTES);
    await this.o.store.put(`secret/${epochKey(e)}`, secret); // before the commitment leaves: a restart can still reveal
    await this.publish(e, { kind: 'commit', commitment: seedCommitment(this.genesis.networkId, e, this.publicKey, secret) });
  }

  private async reveal(e: number): Promise<void> {
    if (this.o.strategy?.reveal === false) return;
    if (!(await this.o.store.get(`own/${epochKey(e)}/commit`))) return;
    const secret = await this.o.store.get(`secret/${epochKey(e)}`);
    if (!secret) return;
    const late = this.o.strategy?.revealLateMs;
    if (late === undefined) return this.publish(e, { kind: 'reveal', secret });
    this.local(e).heldSecret = secret;
    this.o.clock.setTimer(
      schedule(this.genesis, e).commitEnd + late,
      () => void this.enqueue('late reveal', () => this.publish(e, { kind: 'reveal', secret })),
    );
  }

  /** The epoch's seed from the reveals we hold (after one sync round), or null without the previous state. */
  private async seedOf(e: number): Promise<Uint8Array | null> {
    const l = this.local(e);
    if (l.seed) return l.seed;
    const d = this.seedFromPool(e);
    if (d) l.seed = d.seed;
    return d?.seed ?? null;
  }

  /**
   * The seed from the reveals held now, and whether every commitment that counts is opened (then
   * no later reveal can change it, short of a commitment we have not seen). Not cached: before the
   * Sprint's sync round it is provisional.
   */
  private seedFromPool(e: number): { seed: Uint8Array; allOpened: boolean } | null {
    const prevHash = e === 0 ? genesisHash(this.genesis) : this.prevHash(e);
    const weights = this.weightsOf(e);
    if (!prevHash || !weights) return null;
    const commits = new Map<string, Message & { kind: 'commit' }>();
    const equivocated = new Set<string>();
    for (const m of this.pool.messages(e)) {
      if (m.kind !== 'commit' || !inWindow(this.genesis, 'commit', e, m.timestampMs)) continue;
      const k = hex(m.sender);
      const have = commits.get(k);
      if (have && have.bodyKey !== m.bodyKey) equivocated.add(k);
      commits.set(k, m);
    }
    const w =
      e === 0 && this.genesis.initialWeights.length === 0 ? new Map([...commits.keys()].filter((k) => !equivocated.has(k)).map((k) => [k, 1])) : weights;
    const reveals: { publicKey: Uint8Array; secret: Uint8Array }[] = [];
    let counted = 0;
    for (const [k, c] of commits) {
      if (equivocated.has(k) || !((w.get(k) ?? 0) > 0)) continue;
      counted++;
      const r = this.pool
        .messages(e)
        .find(
          (m) =>
            m.kind === 'reveal' &&
            hex(m.sender) === k &&
            inWindow(this.genesis, 'reveal', e, m.timestampMs) &&
            equalBytes(seedCommitment(this.genesis.networkId, e, c.sender, m.secret), c.commitment),
        );
      const secret = r?.kind === 'reveal' ? r.secret : k === this.key ? this.locals.get(e)?.heldSecret : undefined;
      if (secret) reveals.push({ publicKey: c.sender, secret });
    }
    return { seed: sprintSeed(prevHash, e, reveals), allOpened: counted > 0 && reveals.length === counted };
  }

  /**
   * When the early search may start: a commitment stamped up to commitEnd + skew is in window, and
   * live gossip may arrive up to skew after its stamp, so none can turn up after commitEnd + 2·skew.
   */
  private earlyFrom(s: EpochSchedule): number {
    return s.commitEnd + 2 * this.genesis.skewMs;
  }

  /** A reveal may open the last commitment: start the early search now rather than at the next mark. */
  private revealArrived(e: number): void {
    const s = schedule(this.genesis, e);
    const now = this.o.clock.now();
    if (!this.running || this.local(e).done.has('early') || now < this.earlyFrom(s) || now >= s.sprintStart) return;
    if (this.knownWrong(e) !== undefined) return;
    void this.enqueue('early search', () => this.startEarly(e, s));
  }

  /**
   * Starts the search before the Sprint once the seed can no longer change: every commitment we
   * hold is opened (from earlyFrom on), or the reveal window is over. Anyone who holds every reveal
   * can compute the seed and search from then on, and only the proof deadline is enforced, so an
   * honest host that waited for sprintStart would give such a host a head start (docs/protocol.md
   * §6). startSprint keeps this search if its synced seed is the same.
   */
  private async startEarly(e: number, s: EpochSchedule): Promise<void> {
    const l = this.local(e);
    if (l.done.has('early') || l.done.has('sprint') || this.o.strategy?.proofClaims || this.o.strategy?.searchEarly === false) return;
    const d = this.seedFromPool(e);
    const now = this.o.clock.now();
    if (!d || (!d.allOpened && now < s.revealEnd + this.genesis.skewMs)) return;
    l.done.add('early');
    this.o.onEvent?.({ type: 'phase', epoch: e, phase: 'early' });
    const why = d.allOpened ? 'every commitment opened' : 'reveal window over, some commitments unopened';
    this.log(`epoch ${e}: ${why}, searching ${s.sprintStart - now} ms before the Sprint`);
    await this.runSearch(e, s, d.seed);
  }

  private async startSprint(e: number, s: EpochSchedule): Promise<void> {
    // Reveals that reached others but not us.
    const { reconciled } = await this.syncRound(e, s.sprintStart + Math.max(2 * this.genesis.skewMs, s.sprintEnd / 20 - s.sprintStart / 20));
    const seed = await this.seedOf(e);
    if (!seed) {
      this.log(`epoch ${e}: no previous state, cannot search`);
      return;
    }
    if (reconciled === 0) void this.confirmSeed(e, s);
    const l = this.local(e);
    if (l.search && l.searchSeed) {
      if (equalBytes(l.searchSeed, seed) && !l.searchFailed) return; // the early search already runs on this seed
      if (l.searchFailed) this.log(`epoch ${e}: the early search failed, searching again from its progress`);
      // A reveal we lacked arrived in the sync round: the early search was on another seed.
      else this.log(`epoch ${e}: the synced seed differs from the early one, restarting the search`);
    }
    await this.restartSearch(e, s, seed);
  }

  /** Drops the search running for epoch e, if any (on another seed, or failed), and searches `seed` from its stored progress. */
  private async restartSearch(e: number, s: EpochSchedule, seed: Uint8Array): Promise<void> {
    const l = this.local(e);
    l.searchAbort?.abort();
    await l.search?.catch(() => undefined);
    await this.runSearch(e, s, seed);
  }

  /**
   * The Sprint's sync round reconciled with no peer (a node still connecting, every request
   * failing), so the seed came from a pool that may lack commitments and reveals the others hold: a
   * search on a wrong seed is wasted (every find `wrongSeed`), as would be our verdicts on others'
   * proofs. Seen by hand: a page that started contributing mid-Sprint, its node just restarted under
   * the new wallet's key, searched a whole Sprint on a seed without the host's reveal and was
   * credited 0 of 2 512 finds. Syncs again every skew until a peer reconciles or the Sprint's last
   * skew; a seed that changed restarts the search on it.
   */
  private async confirmSeed(e: number, s: EpochSchedule): Promise<void> {
    const k = this.genesis.skewMs;
    for (;;) {
      await new Promise<void>((resolve) => this.o.clock.setTimer(this.o.clock.now() + k, resolve));
      if (!this.running || this.o.clock.now() >= s.sprintEnd - k) return;
      if ((await this.syncRound(e, s.sprintEnd - k)).reconciled > 0) break;
    }
    const l = this.local(e);
    const synced = this.seedFromPool(e)?.seed;
    if (!this.running || !synced || !l.seed || equalBytes(synced, l.seed) || this.o.clock.now() >= s.sprintEnd - k) return;
    this.log(`epoch ${e}: the seed synced during the Sprint differs from ours, restarting the search`);
    l.seed = synced;
    await this.restartSearch(e, s, synced);
  }

  private async runSearch(e: number, s: EpochSchedule, seed: Uint8Array): Promise<void> {
    const l = this.local(e);
    const abort = new AbortController();
    l.searchSeed = seed;
    l.searchAbort = abort;
    const current = () => !abort.signal.aborted;
    const loaded = await this.loadProgress(e, seed);
    const progress = loaded ?? { nextNonce: 0, tried: 0, found: [] };
    // Finds in order of discovery, appended only (the writer rewrites only the last chunk of them).
    const found = [...progress.found];
    const known = new Set(found.map((c) => c.nonce));
    const add = (claims: readonly NonceClaim[]) => {
      for (const c of claims) {
        if (known.has(c.nonce)) continue;
        known.add(c.nonce);
        found.push(c);
      }
    };
    const writer = new ProgressWriter(this.o.store, e, seed, found.length);
    abort.signal.addEventListener('abort', () => writer.stop(), { once: true });
    let tried = progress.tried;
    l.search = this.o.engine
      .search({
        config: sprintConfig(this.genesis),
        seed,
        publicKey: this.publicKey,
        hitRate: hitRate(this.genesis),
        startNonce: progress.nextNonce,
        found: progress.found,
        deadline: s.sprintEnd,
        signal: abort.signal,
        onProgress: (p) => {
          if (!current()) return;
          add(p.newlyFound);
          tried = progress.tried + p.tried;
          void writer.save({ nextNonce: p.nextNonce, tried, found });
          this.o.onEvent?.({ type: 'found', epoch: e, found: found.length, tried });
        },
      })
      .then(async (r) => {
        add(r.found);
        const total = { found: [...found], tried: progress.tried + r.tried, nextNonce: r.nextNonce };
        if (current()) await writer.save(total);
        return total;
      });
    l.searchFailed = false;
    l.search.catch((err: unknown) => {
      if (l.searchAbort === abort) l.searchFailed = true;
      this.log(`epoch ${e}: search failed: ${(err as Error).message}`);
    });
  }

  private async publishProof(e: number, s: EpochSchedule): Promise<void> {
    const seed = await this.seedOf(e);
    if (!seed) return;
    const l = this.local(e);
    let claims: NonceClaim[];
    let tried: number;
    if (this.o.strategy?.proofClaims) {
      ({ claims, tried } = await this.o.strategy.proofClaims({
        epoch: e,
        seed,
        proofs: () => this.pool.proofs(e).filter((p) => !equalBytes(p.sender, this.publicKey)),
        fetchList: (p) => this.fetchClaims(p),
      }));
    } else {
      // A search that failed still claims what it stored.
      const running = l.search && l.searchSeed && equalBytes(l.searchSeed, seed) ? await l.search.catch(() => undefined) : undefined;
      const r = running ?? (await this.loadProgress(e, seed));
      if (!r) return;
      claims = [...r.found];
      tried = r.tried;
    }
    if (this.o.clock.now() > s.proofEnd) return; // too late: it would be ignored
    const list = encodeNonceList(claims);
    const root = nonceListRoot(list);
    this.lists.set(hex(root), { epoch: e, bytes: list });
    await this.o.store.put(`list/${epochKey(e)}/${hex(root)}`, list);
    await this.publish(e, { kind: 'proof', seed, count: claims.length, root, noncesTried: tried });
    this.log(`epoch ${e}: proof of ${claims.length} nonces (${tried} tried)`);
  }

  // ---------------------------------------------------------------- validation

  private async validate(e: number, s: EpochSchedule): Promise<void> {
    const weights = this.weightsOf(e);
    const seed = await this.seedOf(e);
    if (!weights || !seed || !((weights.get(this.key) ?? 0) > 0)) return;
    if (this.o.signer.ready && !(await this.o.signer.ready('validation', s.validationEnd))) return;
    const lottery = await this.o.signer.lottery({ type: MessageType.ValidationLottery, networkId: this.genesis.networkId }, lotteryMessage(e, seed));
    const lotteryValue = sha256(lottery);
    const picked = proofsToCheck(
      {
        genesis: this.genesis,
        epoch: e,
        seed,
        lotteryValue,
        weights,
        prev: this.views.get(e - 1)?.state,
        self: this.key,
        arrivedBy: s.proofEnd + this.genesis.skewMs,
        arrivedAt: (id) => this.pool.arrivedAt(id),
      },
      this.pool.proofs(e),
    );
    const answer = this.o.strategy?.verdict;
    if (answer) {
      const entries = picked.map((p) => ({ host: p.sender, proofId: fromHex32(p.id), ...answer({ epoch: e, proof: p, sampleSize: sampleSize(p.count) }) }));
      entries.sort((a, b) => compareBytes(a.host, b.host));
      if (this.o.clock.now() > s.validationEnd) return;
      await this.publish(e, { kind: 'validation', binding: this.o.signer.binding, lottery, entries });
      return;
    }
    // Lists are fetched only until half the validation window has passed.
    const fetchBy = s.proofEnd + this.genesis.skewMs + Math.floor(this.genesis.timings.validationMs / 2);
    const lists = await fetchInOrder(picked, {
      fetchBy,
      now: () => this.o.clock.now(),
      held: (p) => this.lists.has(hex(p.root)),
      fetch: (p) => this.fetchClaims(p, fetchBy),
    });
    // One message per epoch, and none after validationEnd: re-runs stop at a cutoff and what was
    // judged by then is published, so a slow engine leaves out proofs instead of every verdict (its
    // quick `unavailable` ones included, which alone would then decide the claims it could not
    // finish). Verdicts that need no re-run come first, then re-runs in the validation order.
    const cutoff = s.validationEnd - Math.max(this.genesis.skewMs, Math.floor(this.genesis.timings.validationMs / 10));
    const needsRun = (i: number) => !!lists[i]!.claims;
    const order = picked
      .map((_, i) => i)
      .filter((i) => !lists[i]!.skipped)
      .sort((a, b) => Number(needsRun(a)) - Number(needsRun(b)) || a - b);
    const judging = { genesis: this.genesis, engine: this.o.engine, rTarget: this.rTarget, seed, lotteryValue };
    const entries: ValidationEntry[] = [];
    let longest = 0; // the longest re-run so far: the next one is not started unless it would end by the cutoff
    for (const i of order) {
      const began = this.o.clock.now();
      if (needsRun(i) && began + longest >= cutoff) {
        this.log(`epoch ${e}: validation cut off with ${entries.length} of ${picked.length} proofs judged`);
        break;
      }
      entries.push(await judgeProof(judging, picked[i]!, lists[i]!));
      if (needsRun(i)) longest = Math.max(longest, this.o.clock.now() - began);
    }
    if (entries.length === 0 || this.o.clock.now() > s.validationEnd) return;
    entries.sort((a, b) => compareBytes(a.host, b.host));
    await this.publish(e, { kind: 'validation', binding: this.o.signer.binding, lottery, entries });
    this.log(`epoch ${e}: validated ${entries.length} proofs`);
  }

  /**
   * The proof's list: ours, or fetched from its host and then from other peers, checked against
   * the root. Null when nobody had it; throws ProtocolError when the list that matches the root is
   * itself invalid (DUPLICATE_NONCE, MALFORMED).
   */
  private async fetchClaims(p: ProofMessage, deadline?: number): Promise<NonceClaim[] | null> {
    const root = hex(p.root);
    let list = this.lists.get(root)?.bytes;
    if (!list) {
      const peers = [hex(p.sender), ...this.o.transport.peers().filter((x) => x !== hex(p.sender))].slice(0, 1 + (this.o.syncPeers ?? 3));
      for (const peer of peers) {
        const got = await this.ask(peer, { op: 'list', root: p.root }, decodeList, deadline);
        if (got && equalBytes(nonceListRoot(got), p.root)) {
          list = got;
          break;
        }
      }
      if (!list) return null;
      this.lists.set(root, { epoch: p.epoch, bytes: list });
      await this.o.store.put(`list/${epochKey(p.epoch)}/${root}`, list);
    }
    return decodeNonceList(list);
  }

  // ---------------------------------------------------------------- ledger and certificate

  private async close(e: number): Promise<void> {
    const prev = e === 0 ? null : this.views.get(e - 1)?.state;
    if (prev === undefined) return;
    const weighted = (this.weightsOf(e)?.get(this.key) ?? 0) > 0;
    // A process that (re)started after this epoch's sync phase holds only what its store kept from
    // before it went down (a reload mid-epoch): a voter syncs now, before it derives what to vote for.
    const synced = this.local(e).done.has('sync') || (weighted && (await this.syncBeforeVote(e, this.certifiesAlone(e))));
    // After the sync: open join's weights come from the commits we hold, which it may have added to.
    const alone = this.certifiesAlone(e);
    const d = deriveEpoch(this.genesis, prev, e, this.pool.messages(e), this.o.verifier);
    await this.setView(e, d.state, d);
    const cert = this.certs.get(e);
    const differs = cert !== undefined && !equalBytes(cert.stateHash, d.hash);
    if (weighted) {
      // A vote is power: never for a state derived from a pool not synced since the restart (unless
      // it is the certified one), nor for one known to differ from its certificate or built on a wrong one.
      const why = differs
        ? 'our state differs from the certificate'
        : !synced && !cert && !alone
          ? 'no peer synced this epoch with us before the deadline'
          : this.wrongStateBefore(e);
      if (why) this.log(`epoch ${e}: not voting: ${why}`);
      else {
        // No other vote can outweigh ours: whatever we vote is the certificate, and no peer's view can contradict it.
        if (!synced && !cert) this.log(`epoch ${e}: voting alone: no peer synced with us, and our weight alone certifies`);
        await this.voteOrOwe(e, d.hash);
      }
    }
    if (differs) void this.enqueue('recover', () => this.recover(e));
    else this.checkCertificate(e);
  }

  /**
   * The sync of a process that missed the epoch's own sync phase, bounded by the current phase's end
   * (certify, else work). It retries while no peer could be reconciled with (after a reload the
   * transport may not know any peer yet); false when none was before the deadline.
   */
  private async syncBeforeVote(e: number, alone: boolean): Promise<boolean> {
    const s = schedule(this.genesis, e);
    const deadline = this.o.clock.now() < s.certifyEnd ? s.certifyEnd : s.end;
    const began = this.o.clock.now();
    for (;;) {
      if ((await this.syncRound(e, deadline)).reconciled > 0) return true;
      const next = this.o.clock.now() + this.genesis.skewMs;
      if (!this.running || next >= deadline) return false;
      // A host whose weight alone certifies waits for a peer to appear only 2 skews (a restarted
      // transport finding its peers); a peer it knows is still tried until the deadline.
      if (alone && this.o.transport.peers().length === 0 && next > began + 2 * this.genesis.skewMs) return false;
      await new Promise<void>((resolve) => this.o.clock.setTimer(next, resolve));
    }
  }

  /**
   * Our voting weight in epoch e is more than half of W_e as we know it (the previous state's
   * weights, genesis's, or in open-join epoch 0 one per commit we hold): our vote alone is a
   * certificate, so we need no reconciled peer to vote.
   */
  private certifiesAlone(e: number): boolean {
    const weights = this.weightsOf(e);
    if (!weights) return false;
    let total = 0;
    for (const w of weights.values()) total += w;
    return 2 * (weights.get(this.key) ?? 0) > total;
  }

  /** Records our state of epoch e; its status follows from the certificate we hold, if any. */
  private async setView(e: number, state: EpochState, derivation?: Derivation, adopted = false): Promise<void> {
    // On disk first: a certificate can only be announced for a state that a restart will find.
    await this.o.store.put(`state/${epochKey(e)}`, encodeState(state));
    const hash = hex(stateHash(state));
    const cert = this.certs.get(e);
    const certificate: CertificateStatus = adopted ? 'adopted' : cert && hex(cert.stateHash) === hash ? 'certified' : 'pending';
    const view: EpochView = { epoch: e, hash, state, certificate, derivation };
    const replaced = this.views.get(e);
    this.views.set(e, view);
    // The next epoch's seed is built on this state's hash: one computed from the state we replaced
    // (re-derived after a sync, or adopted) is wrong too, and startSprint/publishProof recompute it.
    if (replaced && replaced.hash !== hash) {
      const next = this.locals.get(e + 1);
      if (next) next.seed = undefined;
    }
    await this.o.store.put('head', new BinaryWriter().u64(this.head).finish());
    this.o.onEvent?.({ type: 'state', view });
  }

  /** Votes for epoch e: if some hash holds > 50% of the weight, record the certificate. */
  private checkCertificate(e: number): void {
    if (this.certs.has(e)) return;
    const view = this.views.get(e);
    const prev = e === 0 ? null : this.views.get(e - 1)?.state;
    if (prev === undefined) return;
    const votes = this.pool.votes(e);
    const hashes = new Set(votes.map((v) => hex(v.stateHash)));
    for (const h of hashes) {
      const hashBytes = fromHex32(h);
      const weights = certifyingWeights(this.genesis, prev, view && view.hash === h ? view.state : undefined);
      const cert = assembleCertificate(e, hashBytes, votes, weights);
      if (!cert) continue;
      this.certs.set(e, cert);
      const saved = this.o.store.put(`cert/${epochKey(e)}`, encodeCertificate(cert));
      if (!view) return; // close() compares when we have derived our own state
      if (view.hash === h) {
        // Announced once it is on disk, like the state itself (setView).
        void saved.then(() => {
          const v = this.views.get(e);
          if (!v || v.hash !== h || v.certificate !== 'pending') return;
          this.views.set(e, { ...v, certificate: 'certified' });
          this.o.onEvent?.({ type: 'state', view: this.views.get(e)! });
          this.log(`epoch ${e}: certified ${h.slice(0, 16)} by ${cert.votes.length} votes`);
        });
      } else {
        this.log(`epoch ${e}: certificate for ${h.slice(0, 16)} differs from ours ${view.hash.slice(0, 16)}: recovering`);
        void this.enqueue('recover', () => this.recover(e));
      }
      return;
    }
  }

  /** After the certify window: if the certificate is not for our state, sync and, failing that, adopt. */
  private async settle(e: number): Promise<void> {
    const v = this.views.get(e);
    if (!v) return;
    if (!this.certs.has(e)) await this.syncEpoch(e, schedule(this.genesis, e).end);
    this.checkCertificate(e);
    const cert = this.certs.get(e);
    if (cert && hex(cert.stateHash) !== v.hash) await this.recover(e);
  }

  /** Brings epoch e in line with its certificate: re-derive after sync, else fetch the certified state. */
  private async recover(e: number): Promise<void> {
    const prev = e === 0 ? null : this.views.get(e - 1)?.state;
    if (prev === undefined) return;
    let cert = this.certs.get(e);
    await this.syncEpoch(e);
    const d = deriveEpoch(this.genesis, prev, e, this.pool.messages(e), this.o.verifier);
    if (!cert) {
      this.checkCertificate(e);
      cert = this.certs.get(e);
    }
    if (!cert || equalBytes(cert.stateHash, d.hash)) {
      await this.setView(e, d.state, d);
      return;
    }
    for (const peer of this.stateHolders(cert.votes.map((v) => hex(v.sender)))) {
      const got = await this.fetchCertifiedState(peer, e, prev, cert.stateHash);
      if (got) return this.adoptServed(e, got, `epoch ${e}: adopted the certified state from ${peer.slice(0, 8)}`);
    }
  }

  /** Takes a certified state a peer served (fetchCertifiedState checked it) in place of ours, and keeps its certificate. */
  private async adoptServed(e: number, got: { state: EpochState; cert: Certificate }, line: string): Promise<void> {
    this.certs.set(e, got.cert);
    await this.setView(e, got.state, undefined, true);
    await this.o.store.put(`cert/${epochKey(e)}`, encodeCertificate(got.cert));
    this.log(line);
  }

  /**
   * Whom to ask for the certified state of an epoch, given the keys that voted for it (a
   * certificate's signers, or the votes for a hash other than ours): anyone who holds it will do,
   * since what it serves is checked (fetchCertifiedState). Connected peers first — voters, then up to
   * syncPeers others (ledger followers, hosts that caught up) — then the voters we are not connected
   * to, dialled by key; at most 3 × syncPeers requests in all.
   */
  private stateHolders(voters: readonly string[]): string[] {
    const n = this.o.syncPeers ?? 3;
    const signers = voters.filter((k) => k !== this.key);
    const signed = new Set(signers);
    const listed = this.o.transport.peers().filter((k) => k !== this.key);
    const ordered = [...listed.filter((k) => signed.has(k)), ...listed.filter((k) => !signed.has(k)).slice(0, n), ...signers];
    return [...new Set(ordered)].slice(0, 3 * n);
  }

  /**
   * A certified state of epoch e from `peer`, or null. A state that is not the one its certificate
   * names, not the one `expected` (the certificate we hold) names, or not built on `prev`, is
   * refused BAD_STATE; a certificate that does not verify against our weights, BAD_CERTIFICATE.
   */
  private async fetchCertifiedState(
    peer: string,
    e: number,
    prev: EpochState | null,
    expected?: Uint8Array,
    depth = 0,
  ): Promise<{ state: EpochState; cert: Certificate } | null> {
    const got = await this.ask(peer, { op: 'state', epoch: e }, decodeStateResponse);
    if (!got) return null;
    try {
      const state = decodeState(got.state);
      const cert = decodeCertificate(got.cert);
      const hash = stateHash(state);
      const bad = (why: string): never => {
        throw new ProtocolError('BAD_STATE', `state of epoch ${e} from ${peer.slice(0, 8)}: ${why}`);
      };
      if (state.epoch !== e || cert.epoch !== e) bad(`it is for epoch ${state.epoch} with a certificate of epoch ${cert.epoch}`);
      if (!equalBytes(hash, cert.stateHash)) bad(`hash ${hex(hash).slice(0, 16)} is not the certificate's ${hex(cert.stateHash).slice(0, 16)}`);
      if (expected && !equalBytes(hash, expected)) bad(`hash ${hex(hash).slice(0, 16)} is not the certified ${hex(expected).slice(0, 16)} we hold`);
      if (prev && !equalBytes(state.prevHash, stateHash(prev))) {
        if (!(await this.takeCertifiedPrev(peer, e, state.prevHash, depth))) bad('it is not built on our previous state');
        prev = this.views.get(e - 1)!.state;
      }
      verifyCertificate(this.genesis, cert, certifyingWeights(this.genesis, prev, state), this.o.verifier);
      return { state, cert };
    } catch (err) {
      this.reject(err);
      return null;
    }
  }

  /**
   * A peer served a certified state of e built on a state of e − 1 other than ours. When ours has no
   * certificate (derived from a pool we could not sync: a host that came after the epoch's votes were
   * gossiped and whose requests failed until it ended holds no vote for or against it, so neither
   * recovery nor `outvoted` ever looks at it again), asks the same peer for the certified state of
   * e − 1 that its state builds on, and takes it when it verifies against our state e − 2 (or the
   * genesis's weights): its certificate must carry more than half of W_{e−1}, so no peer moves us
   * without that weight. A certified state is never replaced here; open-join epoch 0 (whose weights
   * are the served state's own) neither. At most MAX_PREVIOUS_WALK epochs back per fetch. Seen in CI
   * (uncertified-prev.test.ts): before, every certified state served was refused BAD_STATE for good.
   */
  private async takeCertifiedPrev(peer: string, e: number, prevHash: Uint8Array, depth: number): Promise<boolean> {
    const ours = this.views.get(e - 1);
    if (!ours || ours.certificate !== 'pending' || this.certs.has(e - 1) || depth >= MAX_PREVIOUS_WALK) return false;
    if (e - 1 === 0 && this.genesis.initialWeights.length === 0) return false;
    const before = e - 1 === 0 ? null : this.views.get(e - 2)?.state;
    if (before === undefined) return false;
    const got = await this.fetchCertifiedState(peer, e - 1, before, prevHash, depth + 1);
    if (!got) return false;
    await this.adoptServed(
      e - 1,
      got,
      `epoch ${e - 1}: ours had no certificate; ${peer.slice(0, 8)} served the certified one its certified epoch ${e} builds on: adopted`,
    );
    return true;
  }

  /** Why not to vote in epoch e because an earlier state of ours is known wrong, or null. */
  private wrongStateBefore(e: number): string | null {
    const wrong = this.knownWrong(e);
    return wrong === undefined ? null : `our state of epoch ${wrong} is wrong (not the certified one)`;
  }

  /** The oldest epoch (before `before`) whose state we hold and know to be wrong (isWrong). */
  private knownWrong(before = Infinity): number | undefined {
    let oldest: number | undefined;
    for (const e of this.views.keys()) if (e < before && this.isWrong(e) && (oldest === undefined || e < oldest)) oldest = e;
    return oldest;
  }

  /** Our state of e differs from the certificate we hold, or (none held) was built on a state we have since replaced. */
  private isWrong(e: number): boolean {
    const v = this.views.get(e);
    if (!v) return false;
    const cert = this.certs.get(e);
    if (cert) return v.hash !== hex(cert.stateHash);
    const prev = this.views.get(e - 1);
    return e > 0 && prev !== undefined && hex(v.state.prevHash) !== prev.hash;
  }

  /**
   * Tries again to recover the oldest state known to differ from its certificate (no signer served
   * the certified state last time: offline, or not reachable yet). Each step is a chance, with a
   * backoff that doubles from the skew up to one epoch, so a host never gives up on a certified
   * state it lacks, and never hammers the signers either.
   */
  private async retryRecovery(): Promise<void> {
    // Oldest first: each recovered state lets the next one (built on it) be checked and recovered.
    for (let e = this.knownWrong(); e !== undefined; e = this.knownWrong()) {
      const r = this.retries.get(e) ?? { attempts: 0, at: -Infinity };
      if (this.o.clock.now() < r.at) return;
      await this.recover(e);
      for (const done of [...this.retries.keys()]) if (!this.isWrong(done)) this.retries.delete(done);
      if (!this.isWrong(e)) continue;
      this.backOff(e, r);
      this.log(`epoch ${e}: still differs from its certificate (recovery attempt ${r.attempts}): sitting out, next try after ${r.at}`);
      return;
    }
  }

  /**
   * The oldest ended epoch (before `current`) whose state we hold `pending`, with no certificate,
   * while peers voted another hash for it: votes we cannot weigh (open-join epoch 0, whose weights
   * are the certified state's own) or that do not make a certificate by our weights, because our
   * state, or one before it, was derived from a pool we could not sync. Nothing marks such a state
   * wrong (isWrong needs a certificate held, or a replaced previous state), so without asking for the
   * certified state it stays ours for good. Seen by hand: a page that started in epoch 0's validation
   * window, its node still connecting after the wallet was made, derived epoch 0 from an empty pool
   * and never took the certified one; every later proof of it had the wrong seed.
   */
  private outvoted(current: number): { epoch: number; voters: string[] } | undefined {
    const epochs = [...this.views.keys()].filter((e) => e < current).sort((a, b) => a - b);
    for (const e of epochs) {
      const v = this.views.get(e)!;
      if (v.certificate !== 'pending' || this.certs.has(e)) continue;
      const voters = this.votesAgainst(e, v.hash);
      if (voters.length > 0) return { epoch: e, voters };
    }
    return undefined;
  }

  /**
   * The keys that voted for epoch e a hash other than `ours`, counting only keys that hold weight in
   * W_e by our previous state (or the genesis): a vote of a weightless key could never certify
   * anything, and without this any fresh key could make every host with a pending epoch ask around
   * at each backoff (outvoted.test.ts). Open-join epoch 0 has no such weights before its certified
   * state (they are its own), so there every voter counts.
   */
  private votesAgainst(e: number, ours: string): string[] {
    const weights = e === 0 && this.genesis.initialWeights.length === 0 ? null : this.weightsOf(e);
    return this.pool
      .votes(e)
      .filter((m) => hex(m.stateHash) !== ours && (weights === null || (weights.get(hex(m.sender)) ?? 0) > 0))
      .map((m) => hex(m.sender));
  }

  /**
   * Asks the peers that voted otherwise, then other connected ones, for the certified state of an
   * outvoted epoch, and adopts one that verifies against our previous state (fetchCertifiedState:
   * its certificate must carry more than half of our W_e, so a minority cannot move us). Later
   * states built on the replaced one are then known wrong and recovered in turn (retryRecovery).
   * Backs off like retryRecovery.
   */
  private async retryOutvoted(current: number): Promise<void> {
    if (this.knownWrong() !== undefined) return; // the older, certified fix comes first
    const found = this.outvoted(current);
    if (!found) return;
    const e = found.epoch;
    const r = this.retries.get(e) ?? { attempts: 0, at: -Infinity };
    if (this.o.clock.now() < r.at) return;
    const prev = e === 0 ? null : this.views.get(e - 1)?.state;
    if (prev === undefined) return;
    for (const peer of this.stateHolders(found.voters)) {
      const got = await this.fetchCertifiedState(peer, e, prev);
      if (!got) continue;
      this.retries.delete(e);
      return this.adoptServed(e, got, `epoch ${e}: peers voted another state than ours and ${peer.slice(0, 8)} served it certified: adopted`);
    }
    this.backOff(e, r);
    this.log(`epoch ${e}: peers voted another state than ours and none served it certified (attempt ${r.attempts})`);
  }

  /** The next try at epoch e waits `skewMs · 2^attempts`, at most one epoch. */
  private backOff(e: number, r: { attempts: number; at: number }): void {
    r.attempts++;
    r.at = this.o.clock.now() + Math.min(this.genesis.timings.epochMs, this.genesis.skewMs * 2 ** r.attempts);
    this.retries.set(e, r);
  }

  /** Catch-up has nobody to ask: it derives nothing and looks again within PEER_RETRY_MS (logged once per wait). */
  private waitForPeers(e: number, why: string): void {
    if (!this.waitLogged) this.log(`epoch ${e}: missed, waiting for a peer to catch up from (${why})`);
    this.waitingForPeers = this.waitLogged = true;
  }

  /**
   * A host that was away derives (or adopts) every epoch it missed before acting in epoch `current`.
   * Whom it asks (docs/protocol.md §12, "Catching up"): first the head (op 6) of up to
   * MAX_HEAD_PROBES listed peers at once, then for each epoch op 5 of at most 3 × syncPeers peers —
   * the one that served the epoch before, those that report a certified state of the epoch, then
   * those whose head is not known — never one that is benched or reported an older head.
   */
  private async catchUp(current: number): Promise<void> {
    this.waitingForPeers = false;
    const n = this.o.syncPeers ?? 3;
    let heads: Map<string, number> | undefined;
    let last: string | undefined; // served the previous epoch's certified state
    for (let e = this.head + 1; e < current; e++) {
      const prev = e === 0 ? null : this.views.get(e - 1)?.state;
      if (prev === undefined) return;
      const s = schedule(this.genesis, e);
      if (this.o.clock.now() < s.close) return;
      const listed = rotate(
        this.o.transport.peers().filter((k) => k !== this.key),
        parseInt(this.key.slice(0, 6), 16),
      );
      // Nobody to ask (a node still dialling its relay, or offline): an epoch derived from our empty
      // pool would be a state that no certificate confirms and nothing marks wrong (§11), and every
      // later state would build on it. Wait, sitting out, until a peer is reachable.
      if (listed.length === 0) return this.waitForPeers(e, 'no peer is reachable');
      if (!heads) {
        // Benched peers last, not never: after a freeze or a network outage every peer may be benched
        // for its first failed probe, and skipping them would leave the host waiting out the bench (an epoch).
        const probe = probeHeads(this.peerBook.order(listed).slice(0, MAX_HEAD_PROBES), (p) => this.peerHead(p), e);
        heads = probe.heads;
        await probe.ready;
        // Peers that all refuse this genesis's sync (split users, hosts of another genesis) are nobody to ask either.
        if (heads.size === 0) return this.waitForPeers(e, `none of ${listed.length} peers answered for this genesis`);
      }
      this.waitLogged = false;
      const known = heads;
      const holds = (p: string) => (known.get(p) ?? 0) > e;
      // Peers to sync from first: the last server, those that hold the epoch, then any that answered.
      const first = [...(last ? [last] : []), ...listed.filter(holds), ...listed.filter((p) => known.has(p))];
      const candidates = this.peerBook
        .order(listed, first)
        .filter((p) => !this.peerBook.benched(p) && (!known.has(p) || holds(p)))
        .slice(0, 3 * n);
      // Certified states first (cheap, and final); else sync the messages and derive.
      let adopted = false;
      for (const peer of candidates) {
        const got = await this.fetchCertifiedState(peer, e, prev);
        if (!got) {
          this.peerBook.bench(peer); // not found, or refused: asked last from now on
          continue;
        }
        last = peer;
        // Messages older than every host keeps (KEEP_EPOCHS) would be pruned at this very step: the state is taken as served.
        let same = false;
        let d: Derivation | undefined;
        if (e >= current - KEEP_EPOCHS) {
          await this.syncRound(e, this.requestDeadline(), [peer, ...first]);
          // The fetch may have replaced our state e − 1 (takeCertifiedPrev): derive on the one we hold now.
          const base = e === 0 ? null : this.views.get(e - 1)!.state;
          d = deriveEpoch(this.genesis, base, e, this.pool.messages(e), this.o.verifier);
          same = equalBytes(d.hash, got.cert.stateHash);
        }
        this.certs.set(e, got.cert);
        await this.setView(e, same ? d!.state : got.state, same ? d : undefined, !same);
        await this.o.store.put(`cert/${epochKey(e)}`, encodeCertificate(got.cert));
        this.log(`epoch ${e}: caught up (${same ? 'derived' : 'adopted'} certified state)`);
        adopted = true;
        break;
      }
      if (!adopted) {
        const { reconciled } = await this.syncRound(e, this.requestDeadline(), first);
        const d = deriveEpoch(this.genesis, prev, e, this.pool.messages(e), this.o.verifier);
        await this.setView(e, d.state, d);
        // The synced votes may already have made the certificate (checkCertificate then compares
        // nothing): a message they never counted, backdated into its window, can still differ.
        const held = this.certs.get(e);
        if (held && !equalBytes(held.stateHash, d.hash)) {
          this.log(`epoch ${e}: certificate for ${hex(held.stateHash).slice(0, 16)} differs from ours ${hex(d.hash).slice(0, 16)}: recovering`);
          await this.recover(e);
        } else {
          this.checkCertificate(e);
          if (!this.certs.has(e)) await this.voteLate(e, d.hash, current, reconciled > 0);
        }
      }
    }
  }

  /**
   * Epoch e's close passed while we were away, and no peer serves a certified state of it: when
   * every weighted host was away (a network-wide outage), nobody voted, and without our late vote the
   * epoch would stay uncertified for good, so a host joining after its messages are pruned could never
   * catch up past it. We vote what we derived under close()'s rules: a synced pool (or weight enough
   * to certify alone), messages peers still keep, nothing known wrong before it. Safe: we never
   * voted in e, and signers of any certificate of e already hold more than half of W_e, so our vote
   * cannot make a second one.
   */
  private async voteLate(e: number, hash: Uint8Array, current: number, reconciled: boolean): Promise<void> {
    if (!((this.weightsOf(e)?.get(this.key) ?? 0) > 0)) return;
    const why =
      !reconciled && !this.certifiesAlone(e)
        ? 'no peer synced this epoch with us'
        : !this.keepsMessages(e, current)
          ? 'its messages are older than peers keep'
          : this.wrongStateBefore(e);
    if (why) return this.log(`epoch ${e}: not voting late: ${why}`);
    this.log(`epoch ${e}: missed its close and no peer serves its certificate: voting late for ${hex(hash).slice(0, 16)}`);
    try {
      await this.voteOrOwe(e, hash);
    } catch (err) {
      this.log(`epoch ${e}: late vote not sent: ${(err as Error).message}`);
    }
  }

  /** Publishes our vote of epoch e; one the signer is not ready for (a locked wallet) is owed, and sent once it is (retryOwedVotes). */
  private async voteOrOwe(e: number, hash: Uint8Array): Promise<void> {
    try {
      await this.publish(e, { kind: 'vote', stateHash: hash });
    } catch (err) {
      if (!isProtocolError(err, 'SIGNER_LOCKED')) throw err;
      this.votesOwed.add(e);
      await this.o.store.put(`owed/${epochKey(e)}`, new Uint8Array(0));
      this.log(`epoch ${e}: vote waits for the signer: ${err.message}`);
    }
  }

  /**
   * Sends the votes the signer was not ready for once it can sign: at an epoch's close, or late
   * (voteLate). Seen by hand: a page that held most of the weight came back with its wallet locked;
   * its catch-up derived the epochs it missed, its late votes were refused by the locked signer, and
   * after the unlock nothing sent them, so those epochs stayed pending for every host; a locked page
   * present at a close left that epoch pending the same way (majority-away.test.ts). Each is sent
   * under the late vote's rules as they stand now: still uncertified, its messages still kept, our
   * weight in it, no state before it known wrong (then it waits for the recovery). Safe as a late
   * vote is: we never voted in that epoch (a vote we did sign is re-sent as the same bytes).
   */
  private async retryOwedVotes(current: number): Promise<void> {
    if (this.votesOwed.size === 0 || this.o.signer.canSign?.() === false) return;
    for (const e of [...this.votesOwed].sort((a, b) => a - b)) {
      if (this.wrongStateBefore(e)) continue;
      const v = this.views.get(e);
      const drop = this.certs.has(e)
        ? 'it is certified'
        : !v
          ? 'we hold no state of it'
          : !this.keepsMessages(e, current)
            ? 'its messages are older than peers keep'
            : (this.weightsOf(e)?.get(this.key) ?? 0) > 0
              ? null
              : 'we hold no weight in it';
      if (drop || !v) {
        await this.settleOwedVote(e);
        this.log(`epoch ${e}: owed vote dropped: ${drop}`);
        continue;
      }
      try {
        await this.publish(e, { kind: 'vote', stateHash: hexBytes(v.hash) });
      } catch (err) {
        return this.log(`epoch ${e}: owed vote not sent yet: ${(err as Error).message}`);
      }
      await this.settleOwedVote(e);
      this.log(`epoch ${e}: owed vote sent for ${v.hash.slice(0, 16)}`);
    }
  }

  private async settleOwedVote(e: number): Promise<void> {
    this.votesOwed.delete(e);
    await this.o.store.delete(`owed/${epochKey(e)}`);
  }

  // ---------------------------------------------------------------- messages

  private async publish<B extends Body>(e: number, body: B): Promise<void> {
    const ownKey = `own/${epochKey(e)}/${body.kind}`;
    const stored = await this.o.store.get(ownKey);
    // After a restart we re-send the very bytes we signed before: a second signature would equivocate.
    let m: Message;
    if (stored) m = decodeMessage(stored);
    else {
      // A vote has no window's end (a late one, voteLate, is signed after certifyEnd): the signer gets at least a skew.
      const until =
        body.kind === 'vote'
          ? Math.max(schedule(this.genesis, e).certifyEnd, this.o.clock.now() + this.genesis.skewMs)
          : messageWindow(this.genesis, body.kind, e)[1] - this.genesis.skewMs;
      if (this.o.signer.ready && !(await this.o.signer.ready(body.kind, until))) {
        throw new ProtocolError('SIGNER_LOCKED', `epoch ${e}: ${body.kind} not signed, the signer was not ready before its window closed`);
      }
      const unsigned = { epoch: e, sender: this.publicKey, timestampMs: this.o.clock.now(), ...body } as Unsigned<B>;
      m = (await signMessage(this.o.signer, this.genesis, unsigned)) as unknown as Message;
      await this.o.store.put(ownKey, m.bytes);
    }
    this.accept(m, this.o.clock.now());
    this.counters.published++;
    await this.o.transport.publish(TOPIC_OF[m.kind], m.bytes);
  }

  /**
   * A message from the network. Live gossip must be within the skew of our clock; synced
   * messages only within their window. Returns the message when it was new and valid.
   */
  receive(bytes: Uint8Array, via: 'gossip' | 'sync'): Message | null {
    return this.admit(bytes, via).kept;
  }

  /** receive, also naming a decoded message that we would not keep whatever its signature (unkept): sync counts it as held. */
  private admit(bytes: Uint8Array, via: 'gossip' | 'sync'): { kept: Message | null; unkept?: Message } {
    this.counters.received++;
    try {
      const m = decodeMessage(bytes);
      // Held already (a gossip echo, a synced copy), or one we would not keep: not worth a verification.
      if (this.pool.has(m.epoch, m.id)) return { kept: null };
      const unkept = this.unkept(m);
      if (unkept) {
        this.reject(unkept);
        return { kept: null, unkept: m };
      }
      if (!verifyMessage(this.o.verifier, this.genesis, m)) throw new ProtocolError('BAD_SIGNATURE', `${m.kind} from ${hex(m.sender).slice(0, 8)}`);
      if (!inWindow(this.genesis, m.kind, m.epoch, m.timestampMs)) {
        throw new ProtocolError('OUT_OF_WINDOW', `${m.kind} for epoch ${m.epoch} stamped ${m.timestampMs}, outside its window`);
      }
      // A split proof signed for another genesis of our network id can count only there (the ledger credits it nothing here).
      const foreign = m.kind === 'inference' ? inferenceGenesisProblem(this.genesisHash, m) : null;
      if (foreign) throw new ProtocolError('BAD_GENESIS', `inference from ${hex(m.sender).slice(0, 8)}: ${foreign}`);
      const unsigned = m.kind === 'inference' ? inferenceSignatureProblem(this.genesis, m, this.o.verifier) : null;
      if (unsigned) throw new ProtocolError('BAD_SIGNATURE', `inference from ${hex(m.sender).slice(0, 8)}: ${unsigned}`);
      const now = this.o.clock.now();
      if (via === 'gossip') {
        const skew = liveProblem(this.genesis, m.timestampMs, now);
        if (skew) throw new ProtocolError('CLOCK_SKEW', `${m.kind}: ${skew}`);
      }
      // Closed only once our own view of a certified epoch exists: a host catching up may receive the
      // votes (and so the certificate) before the messages it needs to derive the state they certify.
      const status = this.views.get(m.epoch)?.certificate;
      if (this.certs.has(m.epoch) && m.kind !== 'vote' && status !== undefined && status !== 'pending') {
        throw new ProtocolError('EPOCH_CLOSED', `epoch ${m.epoch} is certified`);
      }
      if (!this.keepsMessages(m.epoch, this.head)) throw new ProtocolError('EPOCH_CLOSED', `epoch ${m.epoch} is older than we keep`);
      return { kept: this.accept(m, now) ? m : null };
    } catch (err) {
      this.reject(err);
      return { kept: null };
    }
  }

  private accept(m: Message, now: number): boolean {
    const { added, evicted } = this.pool.add(m, now);
    if (!added) return false;
    this.counters.accepted++;
    void this.o.store.put(`msg/${epochKey(m.epoch)}/${m.id}`, m.bytes);
    for (const x of evicted) void this.o.store.delete(`msg/${epochKey(x.epoch)}/${x.id}`);
    if (m.kind === 'vote') this.checkCertificate(m.epoch);
    return true;
  }

  private reject(err: unknown): void {
    const code = isProtocolError(err) ? err.code : 'ERROR';
    this.counters.rejected[code] = (this.counters.rejected[code] ?? 0) + 1;
    this.counters.lastRejected[code] = (err as Error).message;
    this.o.onEvent?.({ type: 'rejected', code, detail: (err as Error).message });
  }

  // ---------------------------------------------------------------- sync

  private requestTimeout(): number {
    return this.o.requestTimeoutMs ?? 10_000;
  }

  /** A sync round with no phase deadline of its own gets one request timeout. */
  private requestDeadline(): number {
    return this.o.clock.now() + this.requestTimeout();
  }

  /** One request; it never outlives `deadline` (clock time), so a silent peer cannot stall a phase. */
  private async ask<T>(peer: string, req: Parameters<typeof encodeRequest>[0], decode: (b: Uint8Array) => T | null, deadline?: number): Promise<T | null> {
    const limit = this.requestTimeout();
    const timeoutMs = deadline === undefined ? limit : Math.min(limit, deadline - this.o.clock.now());
    if (timeoutMs < 1) return null;
    this.counters.requestsSent++;
    const began = this.o.clock.now();
    try {
      const answer = decode(await this.o.transport.request(peer, encodeRequest(req), { timeoutMs }));
      this.peerBook.answered(peer);
      return answer;
    } catch (err) {
      // No sync handler for our genesis, unreachable, timed out, or malformed: benched. Not when it
      // ran out a timeout our own deadline cut short (late in a round, or after a peer kept us
      // waiting): that says nothing about this peer (peer-bench.test.ts).
      const cutShort = timeoutMs < limit && this.o.clock.now() - began >= timeoutMs;
      if (!cutShort) this.peerBook.bench(peer);
      // A malformed answer is a refused message (typed); a request that failed is not.
      if (isProtocolError(err)) this.reject(err);
      else this.counters.requestsFailed++;
      return null;
    }
  }

  /** Pulls from a few peers the messages of epoch e that we lack (hash-bucket reconciliation); returns how many were new. */
  async syncEpoch(e: number, deadline = this.requestDeadline()): Promise<number> {
    return (await this.syncRound(e, deadline)).added;
  }

  /**
   * Why `m` is not kept whatever its signature, or null: the pool bound holds smaller copies
   * (SUPERSEDED), or it is a kind only weighted hosts sign and its sender has no weight in W_e as
   * our state e − 1 gives it (NOT_ELIGIBLE; the ledger and certificates ignore such messages, so
   * the state is the same without them, §13 "Weightless senders"). Open-join epoch 0, and an epoch
   * whose previous state we lack, have no such weights yet: everything is kept.
   */
  private unkept(m: Message): ProtocolError | null {
    const from = hex(m.sender);
    if (!this.pool.admits(m)) return new ProtocolError('SUPERSEDED', `${m.kind} from ${from.slice(0, 8)}: the pool holds its smaller copies`);
    if (!WEIGHTED_ONLY.has(m.kind) || (m.epoch === 0 && this.genesis.initialWeights.length === 0)) return null;
    const weights = this.weightsOf(m.epoch);
    if (weights && !((weights.get(from) ?? 0) > 0))
      return new ProtocolError('NOT_ELIGIBLE', `${m.kind} from ${from.slice(0, 8)}: no weight in epoch ${m.epoch}`);
    return null;
  }

  /**
   * syncEpoch, also counting the peers reconciled with: every request to them answered before the
   * deadline. It asks syncPeers peers: `first` (catch-up's holders), then the listed peers in an
   * order rotated per epoch and host, benched peers last (peer-choice.ts).
   */
  private async syncRound(e: number, deadline: number, first: readonly string[] = []): Promise<{ added: number; reconciled: number }> {
    let added = 0;
    let reconciled = 0;
    const peers = this.o.transport.peers();
    const start = peers.length ? (e * 7 + parseInt(this.key.slice(0, 6), 16)) % peers.length : 0;
    const chosen = this.peerBook.order(rotate(peers, start), first).slice(0, this.o.syncPeers ?? 3);
    const pull = async (peer: string) => {
      const summary = await this.ask(peer, { op: 'summary', epoch: e }, decodeSummary, deadline);
      if (!summary) return;
      const ours = bucketHashes(this.pool.ids(e));
      let mask = 0;
      summary.hashes.forEach((h, b) => {
        if (!equalBytes(h, ours[b]!)) mask |= 1 << b;
      });
      if (mask === 0) return void reconciled++;
      const ids = await this.ask(peer, { op: 'ids', epoch: e, mask }, decodeIds, deadline);
      if (!ids) return;
      let missing = ids.filter((id) => ((mask >> bucketOf(id)) & 1) === 1 && !this.pool.has(e, id));
      // A `get` answer may stop at its byte budget: the ids it left out are asked again at once, pass
      // after pass, until none is missing, a pass brings nothing we lacked (the peer lies, or its
      // answers are refused), the passes run out, or the deadline passes (ask answers null).
      // A message we would not keep (unkept: a larger-id copy of one we hold, a weightless sender's vote) counts as held.
      const unkept = new Set<string>();
      for (let pass = 0; missing.length > 0 && pass < (this.o.syncGetPasses ?? SYNC_GET_PASSES); pass++) {
        for (let i = 0; i < missing.length; i += MAX_SYNC_IDS) {
          const got = await this.ask(peer, { op: 'get', epoch: e, ids: missing.slice(i, i + MAX_SYNC_IDS) }, decodeMessages, deadline);
          for (const bytes of got ?? []) {
            const r = this.admit(bytes, 'sync');
            if (r.kept?.epoch === e) added++;
            else if (r.unkept?.epoch === e) unkept.add(r.unkept.id);
          }
        }
        const before = missing.length;
        missing = missing.filter((id) => !this.pool.has(e, id) && !unkept.has(id));
        if (missing.length === before) break;
      }
      // Only a peer whose every listed id we now hold is reconciled.
      if (missing.length === 0) reconciled++;
    };
    await Promise.all(chosen.map(pull));
    if (added > 0) this.log(`epoch ${e}: sync added ${added} messages`);
    return { added, reconciled };
  }

  /** Answers a peer's request (sync.ts). */
  async serve(bytes: Uint8Array, _from: string): Promise<Uint8Array> {
    this.counters.requestsServed++;
    const req = decodeRequest(bytes);
    switch (req.op) {
      case 'summary': {
        const ids = this.pool.ids(req.epoch);
        return encodeSummary(ids.length, bucketHashes(ids));
      }
      case 'ids':
        return encodeIds(this.pool.ids(req.epoch).filter((id) => ((req.mask >> bucketOf(id)) & 1) === 1));
      case 'get':
        return encodeMessages(req.ids.map((id) => this.pool.get(req.epoch, id)?.bytes).filter((b): b is Uint8Array => !!b));
      case 'list': {
        const list = this.lists.get(hex(req.root))?.bytes;
        return list ? encodeList(list) : NOT_FOUND;
      }
      case 'state': {
        const v = this.views.get(req.epoch);
        const c = this.certs.get(req.epoch);
        return v && c && v.hash === hex(c.stateHash) ? encodeStateResponse(encodeState(v.state), encodeCertificate(c)) : NOT_FOUND;
      }
      case 'head': {
        const certified = [...this.certs.keys()].filter((e) => this.views.get(e)?.hash === hex(this.certs.get(e)!.stateHash));
        return encodeHead(certified.length ? Math.max(...certified) + 1 : 0);
      }
    }
  }

  /** The newest certified epoch a peer reports (+1; 0 for none), or null. */
  peerHead(peer: string): Promise<number | null> {
    return this.ask(peer, { op: 'head' }, decodeHead);
  }

  // ---------------------------------------------------------------- persistence

  /** Progress on `seed`, or none: none stored, another seed's, or a record this version does not read (the search restarts). */
  private async loadProgress(e: number, seed: Uint8Array): Promise<Progress | null> {
    const p = await readProgress(this.o.store, e, seed);
    if (p !== 'unreadable') return p;
    this.log(`epoch ${e}: stored search progress unreadable, searching from the start`);
    return null;
  }

  /** Restores states, certificates, messages and lists after a reload or restart. */
  private async load(): Promise<void> {
    const store = this.o.store;
    for (const key of await store.keys('state/')) {
      const bytes = await store.get(key);
      if (!bytes) continue;
      const state = decodeState(bytes);
      this.views.set(state.epoch, { epoch: state.epoch, hash: hex(stateHash(state)), state, certificate: 'pending' });
    }
    for (const key of await store.keys('cert/')) {
      const bytes = await store.get(key);
      if (!bytes) continue;
      const cert = decodeCertificate(bytes);
      this.certs.set(cert.epoch, cert);
      const v = this.views.get(cert.epoch);
      // A stored state that differs from its stored certificate is one we derived and had not yet
      // replaced (an adopted state is stored over it, so it reloads as certified): still pending,
      // open to the epoch's messages, and recovered at the first step (retryRecovery).
      if (v) this.views.set(cert.epoch, { ...v, certificate: v.hash === hex(cert.stateHash) ? 'certified' : 'pending' });
    }
    for (const key of await store.keys('msg/')) {
      const bytes = await store.get(key);
      if (!bytes) continue;
      try {
        const m = decodeMessage(bytes);
        if (!verifyMessage(this.o.verifier, this.genesis, m)) continue;
        // A store written before the pool bound may hold more copies than it keeps.
        for (const x of this.pool.add(m, -Infinity).evicted) await store.delete(`msg/${epochKey(x.epoch)}/${x.id}`);
      } catch (err) {
        this.reject(err);
      }
    }
    for (const key of await store.keys('owed/')) this.votesOwed.add(Number(key.slice('owed/'.length)));
    for (const key of await store.keys('list/')) {
      const bytes = await store.get(key);
      const [, epoch, root] = key.split('/');
      if (bytes && root) this.lists.set(root, { epoch: Number(epoch), bytes });
    }
  }

  /** Whether epoch e's messages are still kept (and taken in) at `current`: KEEP_EPOCHS, longer without a certificate. */
  private keepsMessages(e: number, current: number): boolean {
    return e >= current - KEEP_EPOCHS || (!this.certs.has(e) && e >= current - UNCERTIFIED_KEEP_EPOCHS);
  }

  private prune(current: number): void {
    const keep = current - KEEP_EPOCHS;
    if (keep <= 0) return;
    // Only the messages of an uncertified epoch outlive KEEP_EPOCHS: they are what derives it.
    const spare = (e: number) => this.keepsMessages(e, current);
    this.pool.prune(keep, spare);
    for (const e of this.locals.keys()) if (e < keep) this.locals.delete(e);
    for (const [root, l] of this.lists) if (l.epoch < keep) this.lists.delete(root);
    void (async () => {
      for (const prefix of ['msg/', 'own/', 'secret/', 'progress/', 'list/', 'owed/']) {
        for (const key of await this.o.store.keys(prefix)) {
          const e = Number(key.slice(prefix.length, prefix.length + 12));
          // Our own signed messages stay with them: a late vote re-sent after a restart must be the same bytes.
          if (e < keep && !((prefix === 'msg/' || prefix === 'own/' || prefix === 'owed/') && spare(e))) await this.o.store.delete(key);
        }
      }
    })();
  }
}

const fromHex32 = hexBytes;
