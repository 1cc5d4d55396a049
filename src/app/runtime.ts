/**
 * The one place that wires the engine, the node, the wallet and the protocol (docs/protocol.md §1).
 * The browser (browser-runtime.ts) and `bin/sprintnet host` both build a `SprintRuntime` from their
 * own pieces (Worker or Node engine, IndexedDB or file store) and read its snapshots; UI stores
 * copy snapshots and hold no singletons of their own.
 */
import { walletVerifier, type Signer, type Verifier } from '../protocol/crypto.ts';
import { epochAt, schedule, type Genesis } from '../protocol/genesis.ts';
import { isCertified, ProtocolHost, type HostEvent } from '../protocol/host.ts';
import type { Clock, ProtocolEngine, ProtocolStore, SearchRequest } from '../protocol/interfaces.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import { toHex } from '../sprint/bytes.ts';
import { activityOf, historyOf, ledgerView, type Activity, type EpochSummary, type LedgerView } from './activity.ts';
import { systemClock } from './clock.ts';
import { nodeTransport, type NodeLike, type NodeTransport } from './transport.ts';

export type { WeightRow, LedgerView, EpochSummary, Activity, VerdictView, ProofView } from './activity.ts';

export interface RuntimeOptions {
  readonly genesis: Genesis;
  readonly signer: Signer;
  readonly engine: ProtocolEngine;
  readonly node: NodeLike;
  readonly store: ProtocolStore;
  readonly verifier?: Verifier;
  readonly clock?: Clock;
  readonly random?: (bytes: number) => Uint8Array;
  readonly log?: (line: string) => void;
}

/** Everything a screen shows, as plain data. */
export interface RuntimeSnapshot {
  /** This host's public key (hex). */
  readonly publicKey: string;
  readonly epoch: number;
  readonly phase: string;
  /**
   * Appropriate nonces found and nonces tried by the search of `findsEpoch` (restored ones
   * included). Kept after that epoch ends, like its finds, so a screen never pairs one Sprint's finds
   * with another's tries (it showed "0 tries in 22 s, 5,934 finds" after each Sprint).
   */
  readonly found: number;
  readonly tried: number;
  /** Those nonces, ascending, for the epoch in `findsEpoch`. */
  readonly finds: readonly NonceClaim[];
  readonly findsEpoch: number;
  /** The seed searched in that epoch (hex), once the search began. */
  readonly sprintSeed: string | null;
  /** Clock time the search in `findsEpoch` began (-1 before any): before sprintStart for an early search (docs/protocol.md §6). */
  readonly searchStartedMs: number;
  /** Nonces per second of the search in progress (0 when none). */
  readonly rate: number;
  readonly searching: boolean;
  /** Protocol peers reachable now (not counting relays or ourselves). */
  readonly peers: number;
  /** The newest derived epoch: its hash, certificate status and weights table. */
  readonly ledger: LedgerView | null;
  readonly certified: number[];
  readonly history: EpochSummary[];
  readonly activity: Activity;
  readonly rejected: Record<string, number>;
}

export class SprintRuntime {
  readonly host: ProtocolHost;
  private snapshotValue: RuntimeSnapshot;
  private readonly listeners = new Set<(s: RuntimeSnapshot) => void>();
  private readonly clock: Clock;
  /** The genesis's transport on `options.node`: it holds the genesis's topics until the runtime stops. */
  readonly transport: NodeTransport;

  constructor(readonly options: RuntimeOptions) {
    this.clock = options.clock ?? systemClock;
    this.transport = nodeTransport(options.node, options.genesis);
    this.snapshotValue = {
      publicKey: toHex(options.signer.publicKey),
      epoch: -1,
      phase: 'waiting',
      found: 0,
      tried: 0,
      finds: [],
      findsEpoch: -1,
      sprintSeed: null,
      searchStartedMs: -1,
      rate: 0,
      searching: false,
      peers: 0,
      ledger: null,
      certified: [],
      history: [],
      activity: { proofs: [], validationsGiven: [], validationsReceived: [] },
      rejected: {},
    };
    this.host = new ProtocolHost({
      genesis: options.genesis,
      signer: options.signer,
      verifier: options.verifier ?? walletVerifier(),
      engine: this.observed(options.engine),
      transport: this.transport,
      clock: this.clock,
      store: options.store,
      random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
      log: options.log,
      onEvent: (e) => this.onEvent(e),
    });
  }

  async start(): Promise<void> {
    await this.host.start();
    this.update({ certified: this.certifiedEpochs(), ...this.derived() });
  }

  /**
   * Stops the host; once its queued work is done (what it still publishes goes out) the transport
   * closes, so the node lets go of the genesis's topics unless something else on it still uses them.
   */
  stop(): void {
    this.host.stop();
    void this.host.idle().then(
      () => this.transport.close(),
      () => this.transport.close(),
    );
  }

  get snapshot(): RuntimeSnapshot {
    return this.snapshotValue;
  }

  /** Calls `fn` with every new snapshot (and once now); returns the unsubscribe function. */
  subscribe(fn: (s: RuntimeSnapshot) => void): () => void {
    this.listeners.add(fn);
    fn(this.snapshotValue);
    return () => this.listeners.delete(fn);
  }

  /** Re-reads what comes from outside the host's events (peers), e.g. on a timer. */
  refresh(): void {
    this.update({});
  }

  private update(patch: Partial<RuntimeSnapshot>): void {
    this.snapshotValue = { ...this.snapshotValue, ...patch, peers: this.transport.peers().length, rejected: { ...this.host.counters.rejected } };
    for (const fn of this.listeners) fn(this.snapshotValue);
  }

  private derived(): Pick<RuntimeSnapshot, 'ledger' | 'history' | 'activity'> {
    const head = this.host.view(this.host.head);
    return { ledger: head ? ledgerView(this.host, head) : null, history: historyOf(this.host), activity: activityOf(this.host) };
  }

  private certifiedEpochs(): number[] {
    return historyOf(this.host, Number.MAX_SAFE_INTEGER)
      .filter((h) => isCertified(h.certificate))
      .map((h) => h.epoch)
      .sort((a, b) => a - b);
  }

  /**
   * The engine as the host sees it, with its finds recorded for the snapshot: a resumed search
   * (reload, restart) starts with the finds restored from the store, so they show at once.
   */
  private observed(engine: ProtocolEngine): ProtocolEngine {
    return {
      evaluate: (req) => engine.evaluate(req),
      search: async (req: SearchRequest) => {
        const epoch = epochAt(this.options.genesis, this.clock.now());
        const finds = new Map(req.found.map((c) => [c.nonce, c]));
        const started = this.clock.now();
        const sorted = () => [...finds.values()].sort((a, b) => a.nonce - b.nonce);
        // A new Sprint's search starts its counts; an engine rebuilt within the Sprint keeps them.
        const counts = epoch === this.snapshotValue.findsEpoch ? {} : { found: finds.size, tried: 0 };
        this.update({ ...counts, finds: sorted(), findsEpoch: epoch, sprintSeed: toHex(req.seed), searchStartedMs: started, searching: true, rate: 0 });
        try {
          const r = await engine.search({
            ...req,
            onProgress: (p) => {
              for (const c of p.newlyFound) finds.set(c.nonce, c);
              const seconds = (this.clock.now() - started) / 1000;
              this.snapshotValue = { ...this.snapshotValue, finds: sorted(), rate: seconds > 0 ? p.tried / seconds : 0 };
              req.onProgress?.(p);
            },
          });
          for (const c of r.found) finds.set(c.nonce, c);
          return r;
        } finally {
          this.update({ finds: sorted(), searching: false, rate: 0 });
        }
      },
    };
  }

  private onEvent(e: HostEvent): void {
    switch (e.type) {
      case 'phase':
        this.update({ epoch: e.epoch, phase: e.phase, ...this.derived() });
        return;
      case 'found':
        if (e.epoch === this.snapshotValue.findsEpoch) this.update({ found: e.found, tried: e.tried });
        return;
      case 'state': {
        const v = e.view;
        if (this.snapshotValue.ledger && this.snapshotValue.ledger.epoch > v.epoch) return;
        const certified = isCertified(v.certificate)
          ? [...new Set([...this.snapshotValue.certified, v.epoch])].sort((a, b) => a - b)
          : this.snapshotValue.certified;
        this.update({ certified, ...this.derived() });
        return;
      }
      case 'rejected':
        this.update({});
        return;
    }
  }

  /** Milliseconds until the next Sprint window opens (for a countdown), or 0 while one is open. */
  msToNextSprint(): number {
    const now = this.clock.now();
    const e = Math.max(0, epochAt(this.options.genesis, now));
    const s = schedule(this.options.genesis, e);
    if (now < s.sprintStart) return s.sprintStart - now;
    if (now < s.sprintEnd) return 0;
    return schedule(this.options.genesis, e + 1).sprintStart - now;
  }

  /** The schedule's phase now, and the milliseconds until it ends (for a countdown). */
  phaseClock(): PhaseClock {
    return phaseClock(this.options.genesis, this.clock.now());
  }
}

export interface PhaseClock {
  readonly epoch: number;
  readonly phase: string;
  readonly msLeft: number;
}

/**
 * The end of the current epoch's proof window: this Sprint's finds are sent only if the page can
 * sign its proof by then (a locked wallet must be unlocked before). Null before epoch 0.
 */
export function proofDeadline(g: Genesis, now: number): number | null {
  const e = epochAt(g, now);
  return e < 0 ? null : schedule(g, e).proofEnd;
}

/** Which phase of the genesis's schedule `now` falls in (docs/protocol.md §4), and how long it lasts. */
export function phaseClock(g: Genesis, now: number): PhaseClock {
  const e = epochAt(g, now);
  if (e < 0) return { phase: 'before epoch 0', msLeft: g.startMs - now, epoch: -1 };
  const s = schedule(g, e);
  const bounds: [string, number][] = [
    ['commit', s.commitEnd],
    ['reveal', s.revealEnd],
    ['settle', s.sprintStart],
    ['Sprint', s.sprintEnd],
    ['proof', s.proofEnd],
    ['validation', s.validationEnd],
    ['sync', s.close],
    ['certify', s.certifyEnd],
    ['work', s.end],
  ];
  const [phase, end] = bounds.find(([, t]) => now < t) ?? ['work', s.end];
  return { phase, msLeft: end - now, epoch: e };
}
