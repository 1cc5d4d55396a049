/**
 * The one place that wires the engine, the node, the wallet and the protocol (docs/protocol.md §1).
 * The browser and `bin/sprintnet host` both build a `SprintRuntime` from their own pieces (Worker
 * or Node engine, IndexedDB or file store) and read its snapshots; UI stores copy snapshots and
 * hold no singletons of their own.
 */
import { walletVerifier, type Signer, type Verifier } from '../protocol/crypto.ts';
import { epochAt, schedule, type Genesis } from '../protocol/genesis.ts';
import { ProtocolHost, type CertificateStatus, type HostEvent } from '../protocol/host.ts';
import type { Clock, ProtocolEngine, ProtocolStore } from '../protocol/interfaces.ts';
import { Flag, flopsToCu } from '../protocol/ledger.ts';
import { toHex } from '../sprint/bytes.ts';
import { systemClock } from './clock.ts';
import { nodeTransport, type NodeLike } from './transport.ts';

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

export interface WeightRow {
  readonly publicKey: string;
  readonly weight: number;
  readonly votingWeight: number;
  readonly reputation: number;
  readonly credited: number;
  readonly flags: string[];
  readonly cuTotal: number;
  readonly vested: number;
  readonly pending: number;
}

/** Everything a screen shows, as plain data. */
export interface RuntimeSnapshot {
  readonly epoch: number;
  readonly phase: string;
  /** Appropriate nonces found so far in the current Sprint, and nonces tried. */
  readonly found: number;
  readonly tried: number;
  /** The newest derived epoch: its hash, certificate status and weights table. */
  readonly ledger: { epoch: number; hash: string; certificate: CertificateStatus; rows: WeightRow[] } | null;
  readonly certified: number[];
  readonly rejected: Record<string, number>;
}

const FLAGS = Object.entries(Flag) as [string, number][];

export class SprintRuntime {
  readonly host: ProtocolHost;
  private snapshotValue: RuntimeSnapshot;
  private readonly listeners = new Set<(s: RuntimeSnapshot) => void>();
  private readonly clock: Clock;

  constructor(readonly options: RuntimeOptions) {
    this.clock = options.clock ?? systemClock;
    this.snapshotValue = { epoch: -1, phase: 'waiting', found: 0, tried: 0, ledger: null, certified: [], rejected: {} };
    this.host = new ProtocolHost({
      genesis: options.genesis,
      signer: options.signer,
      verifier: options.verifier ?? walletVerifier(),
      engine: options.engine,
      transport: nodeTransport(options.node),
      clock: this.clock,
      store: options.store,
      random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
      log: options.log,
      onEvent: (e) => this.onEvent(e),
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  stop(): void {
    this.host.stop();
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

  private update(patch: Partial<RuntimeSnapshot>): void {
    this.snapshotValue = { ...this.snapshotValue, ...patch, rejected: { ...this.host.counters.rejected } };
    for (const fn of this.listeners) fn(this.snapshotValue);
  }

  private onEvent(e: HostEvent): void {
    switch (e.type) {
      case 'phase':
        if (e.epoch !== this.snapshotValue.epoch) this.update({ epoch: e.epoch, phase: e.phase, found: 0, tried: 0 });
        else this.update({ phase: e.phase });
        return;
      case 'found':
        this.update({ found: e.found, tried: e.tried });
        return;
      case 'state': {
        const v = e.view;
        if (this.snapshotValue.ledger && this.snapshotValue.ledger.epoch > v.epoch) return;
        const rows = v.state.hosts.map((h): WeightRow => ({
          publicKey: toHex(h.publicKey),
          weight: h.weight,
          votingWeight: h.votingWeight,
          reputation: h.reputation,
          credited: h.accepted,
          flags: FLAGS.filter(([, bit]) => h.flags & bit).map(([n]) => n),
          cuTotal: flopsToCu(h.totalFlops),
          vested: h.vested,
          pending: h.pending.reduce((s, t) => s + t.amount, 0),
        }));
        const certified = v.certificate === 'certified' || v.certificate === 'adopted' ? [...new Set([...this.snapshotValue.certified, v.epoch])].sort((a, b) => a - b) : this.snapshotValue.certified;
        this.update({ ledger: { epoch: v.epoch, hash: v.hash, certificate: v.certificate, rows }, certified });
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
}
