/**
 * A ledger follower (docs/protocol.md §15a): the page joins the protocol's gossip and sync and keeps
 * the certified ledger and the pool without taking part. It runs the very `ProtocolHost` a
 * participant runs (inside a `SprintRuntime`, for the same snapshots), so every message, signature
 * and certificate is checked by the same code, but behind three refusals that fail closed:
 * - its signer refuses: `ready()` is always false and `sign`/`lottery`/`binding` throw, so the host
 *   never stamps a commit, reveal, proof, validation or vote;
 * - its engine refuses: no nonce is searched or evaluated;
 * - its node drops every publish (a message the full runtime signed earlier and the host would
 *   re-send from the store stays unsent).
 * Every refusal is counted in the snapshot (`refused`). It does answer sync requests, with the
 * participant's own handler (`ProtocolHost.serve`): summary, ids, get, list, certified states and
 * head come from what it verified, and answering signs nothing. The handler lives only as long as
 * the follower's host: it is removed before a handover, so the runtime's is the only one on the node.
 *
 * One host per genesis per page: a `LedgerRegistry` (the page's is `pageLedgers`) knows the
 * follower of each genesis and the Sprint runtime that runs, if any. When Contribute starts, the
 * `BrowserRuntime` takes the follower's open store, the follower stops its host (its pending
 * writes flushed, so the full host loads every state, certificate and message), gossip arriving
 * during the switch is kept and replayed into the full host; while the runtime runs the follower
 * reads that host, and when it stops the follower starts its own host again on a fresh store.
 *
 * Shared IndexedDB: another tab may hold the GPU lock and run the full runtime on the same
 * database, so a follower writes a derived state only once a certificate for that very state is
 * stored (`certifiedOnly`): a pending state it derived from fewer messages never overwrites the
 * participant's.
 */
import { votingWeights } from '../protocol/ledger.ts';
import { decodeCertificate } from '../protocol/certificate.ts';
import { walletVerifier, type Signer } from '../protocol/crypto.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import type { ProtocolHost } from '../protocol/host.ts';
import type { Clock, ProtocolEngine, ProtocolStore, Topic } from '../protocol/interfaces.ts';
import { decodeState, stateHash } from '../protocol/ledger.ts';
import type { InferenceRecord } from '../protocol/inference-reputation.ts';
import { syncProtocol } from '../protocol/sync.ts';
import type { SprintnetNode } from '../node/index.ts';
import { sprintTopicSpecs } from '../node/topics/index.ts';
import { toHex } from '../sprint/bytes.ts';
import { systemClock } from './clock.ts';
import { idbStore } from './idb-store.ts';
import { poolReputation } from './inference-judge.ts';
import { NodeSwitch } from './node-switch.ts';
import { SprintRuntime, type RuntimeSnapshot } from './runtime.ts';
import { nodeTransport, type NodeLike, type NodeTransport } from './transport.ts';

/** The IndexedDB database of a genesis; the Sprint runtime's (browser-runtime.ts PROTOCOL_DB_PREFIX). */
export const LEDGER_DB_PREFIX = 'sprintnet-protocol-';

export type FollowerMode = 'off' | 'opening' | 'following' | 'handed-over';

export interface FollowerSnapshot {
  readonly mode: FollowerMode;
  readonly genesisId: string;
  /** The followed host's view (the follower's own, or the Sprint runtime's while it runs). */
  readonly runtime: RuntimeSnapshot | null;
  readonly inferenceReputation: readonly InferenceRecord[];
  /** What the follower refused to do: always zero signatures made, nothing sent. */
  readonly refused: { readonly signatures: number; readonly publishes: number; readonly searches: number };
}

export type OwnedStore = ProtocolStore & { close?(): void };

export interface LedgerFollowerOptions {
  readonly genesis: Genesis;
  /** The wallet's key: the rows and history that say "you". Null without a wallet. */
  readonly publicKey: Uint8Array | null;
  /** Opens the genesis's store; default IndexedDB `sprintnet-protocol-<genesis id>`. */
  readonly openStore?: () => Promise<OwnedStore>;
  readonly registry?: LedgerRegistry;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** How often peers and inference reputation are re-read (default 2 000 ms). */
  readonly refreshMs?: number;
}

/** What a starting Sprint runtime gets from the follower of its genesis. */
export interface Handover {
  /** Gossip that arrived while no host listened goes to the runtime's host; the follower lets go of the node. */
  complete(host: ProtocolHost): void;
}

/** The follower and the Sprint runtime of each genesis on this page. */
export class LedgerRegistry {
  private readonly followers = new Map<string, LedgerFollower>();
  private readonly runtimes = new Map<string, ProtocolHost>();

  follower(gid: string): LedgerFollower | undefined {
    return this.followers.get(gid);
  }

  /** The host whose ledger this page follows for the genesis: the runtime's, else the follower's. */
  host(gid: string): ProtocolHost | null {
    return this.runtimes.get(gid) ?? this.followers.get(gid)?.ownHost ?? null;
  }

  runtimeHost(gid: string): ProtocolHost | null {
    return this.runtimes.get(gid) ?? null;
  }

  /** The follower's open store for the runtime to use (it owns it from now on), or null. */
  storeFor(gid: string): OwnedStore | null {
    return this.followers.get(gid)?.giveStore() ?? null;
  }

  /** Stops the follower's host before the runtime's starts; null when no follower runs. */
  async handOver(gid: string): Promise<Handover | null> {
    return (await this.followers.get(gid)?.handOver()) ?? null;
  }

  runtimeStarted(gid: string, host: ProtocolHost): void {
    this.runtimes.set(gid, host);
    this.followers.get(gid)?.followRuntime(host);
  }

  /** The runtime stopped (its store closed): the follower, if wanted, starts its own host again. */
  async runtimeStopped(gid: string, host: ProtocolHost | null): Promise<void> {
    if (host && this.runtimes.get(gid) !== host) return;
    this.runtimes.delete(gid);
    await this.followers.get(gid)?.takeBack();
  }

  /** @internal */ add(f: LedgerFollower): void {
    if (this.followers.has(f.genesisId)) throw new ProtocolError('BAD_REQUEST', `a ledger follower for ${f.genesisId.slice(0, 8)} already runs on this page`);
    this.followers.set(f.genesisId, f);
  }

  /** @internal */ remove(f: LedgerFollower): void {
    if (this.followers.get(f.genesisId) === f) this.followers.delete(f.genesisId);
  }
}

/** The page's registry: BrowserRuntime and the UI's ledger store meet here. */
export const pageLedgers = new LedgerRegistry();

/**
 * May `key` fetch a closed split session's evidence? Weighted in the followed ledger's newest state
 * (weights of the next epoch) or the one before (this epoch's), when this page follows one; else
 * `fallback` decides (the genesis's initial weights).
 */
export function ledgerWeighs(genesis: Genesis, key: string, fallback: (key: string) => boolean, registry = pageLedgers): boolean {
  const host = registry.host(genesisId(genesis));
  const head = host?.view(host.head);
  if (!host || !head) return fallback(key);
  if ((votingWeights(genesis, head.state).get(key) ?? 0) > 0) return true;
  // This epoch's weights: from the state before, or the genesis's for epoch 0.
  const before = head.epoch === 0 ? null : host.view(head.epoch - 1)?.state;
  return before !== undefined && (votingWeights(genesis, before).get(key) ?? 0) > 0;
}

export class LedgerFollower {
  readonly genesisId: string;
  readonly node = new NodeSwitch();
  private runtime: SprintRuntime | null = null;
  private followed: ProtocolHost | null = null;
  private store: OwnedStore | null = null;
  private writes: Tracked | null = null;
  /** Lets the host's sync handler onto the node; cleared (and the handler removed) when the host stops. */
  private serving: { live: boolean } | null = null;
  private snap: FollowerSnapshot;
  private readonly listeners = new Set<(s: FollowerSnapshot) => void>();
  private readonly refusals = { signatures: 0, publishes: 0, searches: 0 };
  private readonly registry: LedgerRegistry;
  private readonly clock: Clock;
  private timer: ReturnType<typeof setInterval> | undefined;
  private offRuntime: (() => void) | null = null;
  private reputationSeen = '';
  private stopped = false;
  /** The runtime holds our store (it reads its key binding) and will own it after the handover. */
  private lent = false;
  /** The handover's transport, keeping gossip until the runtime's host takes it (`complete`). */
  private keeping: NodeTransport | null = null;
  /** Serialises start, handover and take-back. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: LedgerFollowerOptions) {
    this.genesisId = genesisId(o.genesis);
    this.registry = o.registry ?? pageLedgers;
    this.clock = o.clock ?? systemClock;
    this.snap = { mode: 'off', genesisId: this.genesisId, runtime: null, inferenceReputation: [], refused: { ...this.refusals } };
  }

  get snapshot(): FollowerSnapshot {
    return this.snap;
  }

  subscribe(fn: (s: FollowerSnapshot) => void): () => void {
    this.listeners.add(fn);
    fn(this.snap);
    return () => this.listeners.delete(fn);
  }

  /** The key whose rows say "you" (the wallet's), or null. */
  get publicKey(): Uint8Array | null {
    return this.o.publicKey;
  }

  /** The follower's own host while it follows (not while the runtime runs). */
  get ownHost(): ProtocolHost | null {
    return this.runtime?.host ?? null;
  }

  private set(patch: Partial<FollowerSnapshot>): void {
    this.snap = { ...this.snap, ...patch, refused: { ...this.refusals } };
    for (const fn of this.listeners) fn(this.snap);
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn, fn);
    return this.chain;
  }

  /** Joins the registry and follows on `node` (or reads the Sprint runtime's host, if one runs). */
  async start(node: SprintnetNode | undefined): Promise<void> {
    this.registry.add(this);
    // Held from start to stop, whichever host reads the genesis meanwhile: when the Sprint runtime stops,
    // its transport lets go before our own host is back (a store to open), and the node must not
    // unsubscribe meanwhile (gossip lost, a relay's slot for the genesis given up).
    this.node.addTopics(sprintTopicSpecs(this.genesisId));
    this.node.attach(node);
    this.timer = setInterval(() => this.refresh(), this.o.refreshMs ?? 2_000);
    return this.serial(async () => {
      const running = this.registry.runtimeHost(this.genesisId);
      if (running) this.followRuntime(running);
      else await this.startHost();
    });
  }

  /** Leaves the network; the store is closed unless the runtime took it. */
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.registry.remove(this);
    return this.serial(async () => {
      await this.stopHost();
      if (!this.lent) this.store?.close?.();
      this.store = null;
      this.offRuntime?.();
      this.release(this.keeping);
      // Lets go of the genesis's topics on the page's node (another user of the genesis keeps them).
      this.node.removeTopics(sprintTopicSpecs(this.genesisId).map((t) => t.name));
      this.node.attach(undefined);
      this.set({ mode: 'off', runtime: null });
    });
  }

  private async startHost(): Promise<void> {
    if (this.stopped || this.runtime) return;
    this.set({ mode: 'opening' });
    this.store ??= await (this.o.openStore ?? (() => idbStore(`${LEDGER_DB_PREFIX}${this.genesisId}`)))();
    this.writes = certifiedOnly(this.store);
    this.serving = { live: true };
    const runtime = new SprintRuntime({
      genesis: this.o.genesis,
      signer: this.refusingSigner(),
      engine: this.refusingEngine(),
      node: this.silentNode(this.serving),
      store: this.writes.store,
      verifier: walletVerifier(),
      clock: this.clock,
      log: this.o.log,
    });
    this.runtime = runtime;
    this.followed = runtime.host;
    this.offRuntime = runtime.subscribe((s) => this.set({ runtime: s }));
    await runtime.start();
    this.set({ mode: 'following' });
    this.refresh();
  }

  private async stopHost(): Promise<void> {
    const r = this.runtime;
    if (!r) return;
    this.runtime = null;
    r.stop();
    // The transport registers its handler after an unhandle, asynchronously: a registration still on its
    // way when the host stops must not land after this removal, so it is refused by the flag first.
    if (this.serving) this.serving.live = false;
    this.serving = null;
    await this.node.unhandle(syncProtocol(this.o.genesis)).catch(() => undefined);
    await r.host.idle();
    await this.writes?.flush();
    this.offRuntime?.();
    this.offRuntime = null;
  }

  /** @internal The store, for the runtime to use from now on (it closes it). */
  giveStore(): OwnedStore | null {
    if (this.store) this.lent = true;
    return this.store;
  }

  /** @internal Stops the follower's host (its writes flushed) and keeps gossip until `complete`. */
  handOver(): Promise<Handover> {
    const kept: { topic: Topic; bytes: Uint8Array }[] = [];
    let keeping: NodeTransport | null = null;
    return this.serial(async () => {
      // Listening from before the host stops, so no gossip falls between the two (what both get is
      // replayed into the runtime's host, where a copy is a no-op); the topics stay held by our own hold (start).
      keeping = nodeTransport(this.node, this.o.genesis);
      this.keeping = keeping;
      keeping.subscribe((topic, bytes) => kept.push({ topic, bytes }));
      await this.stopHost();
      // The runtime owns the store it took; one it did not take (we were still opening) is closed.
      if (!this.lent) this.store?.close?.();
      this.store = null;
      this.lent = false;
      this.set({ mode: 'handed-over' });
    }).then(() => ({
      complete: (host: ProtocolHost) => {
        this.release(keeping);
        for (const k of kept) host.receive(k.bytes, 'gossip');
        this.followRuntime(host);
      },
    }));
  }

  /** Closes the handover's transport (the runtime's holds the topics by now), if it is still open. */
  private release(keeping: NodeTransport | null): void {
    keeping?.close();
    if (this.keeping === keeping) this.keeping = null;
  }

  /** @internal Reads the Sprint runtime's host while it runs. */
  followRuntime(host: ProtocolHost): void {
    this.followed = host;
    this.set({ mode: 'handed-over' });
    this.refresh();
  }

  /** @internal The runtime stopped and closed its store: follow with our own host again. */
  takeBack(): Promise<void> {
    return this.serial(async () => {
      this.followed = null;
      // A runtime that stopped before it completed the handover left its transport open.
      this.release(this.keeping);
      if (!this.stopped) await this.startHost();
    });
  }

  private refresh(): void {
    this.runtime?.refresh();
    const host = this.followed;
    if (!host) return;
    const seen = `${host.head}/${host.pool
      .epochs()
      .map((e) => `${e}:${host.pool.messages(e).length}`)
      .join(',')}`;
    if (seen === this.reputationSeen) return;
    this.reputationSeen = seen;
    this.set({ inferenceReputation: poolReputation(this.o.genesis, host) });
  }

  // ------------------------------------------------------------------ the three refusals

  private refusingSigner(): Signer {
    const refuse = (what: string): never => {
      this.refusals.signatures++;
      throw new ProtocolError('SIGNER_LOCKED', `a ledger follower signs nothing (${what})`);
    };
    return {
      publicKey: this.o.publicKey ?? new Uint8Array(32),
      get binding(): never {
        return refuse('key binding');
      },
      ready: async () => {
        this.refusals.signatures++;
        return false;
      },
      canSign: () => false,
      sign: async () => refuse('signature'),
      lottery: async () => refuse('lottery'),
    };
  }

  private refusingEngine(): ProtocolEngine {
    return {
      search: async () => {
        this.refusals.searches++;
        throw new ProtocolError('NOT_ELIGIBLE', 'a ledger follower searches no nonces');
      },
      evaluate: async () => {
        this.refusals.searches++;
        throw new ProtocolError('NOT_ELIGIBLE', 'a ledger follower validates no proofs');
      },
    };
  }

  private silentNode(serving: { live: boolean }): NodeLike {
    const n = this.node;
    return {
      publish: async () => {
        this.refusals.publishes++;
      },
      onGossip: (topic, fn) => n.onGossip(topic, fn),
      // Listening to the genesis's topics sends nothing.
      addTopics: (specs) => n.addTopics(specs),
      removeTopics: (names) => n.removeTopics(names),
      // Registered on the follower's NodeSwitch, so it moves with the page's node across restarts.
      handle: async (name, handler, limits) => {
        if (serving.live) await n.handle(name, handler, limits);
      },
      unhandle: async (name) => {
        if (serving.live) await n.unhandle(name);
      },
      request: (peer, protocol, bytes, options) => n.request(peer, protocol, bytes, options),
      get presence() {
        return n.presence;
      },
    };
  }
}

interface Tracked {
  readonly store: ProtocolStore;
  /** Resolves when every write issued so far has settled. */
  flush(): Promise<void>;
}

/**
 * The follower's view of the shared store: writes are tracked (flushed before a handover), and a
 * state is written only when a stored certificate names its hash (else held until one does).
 */
export function certifiedOnly(inner: ProtocolStore): Tracked {
  const pending = new Set<Promise<unknown>>();
  const held = new Map<string, Uint8Array>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };
  const certifies = (cert: Uint8Array | undefined, state: Uint8Array): boolean => {
    if (!cert) return false;
    try {
      return toHex(decodeCertificate(cert).stateHash) === toHex(stateHash(decodeState(state)));
    } catch {
      return false;
    }
  };
  const put = async (key: string, value: Uint8Array): Promise<void> => {
    if (key.startsWith('state/')) {
      const epoch = key.slice('state/'.length);
      if (!certifies(await inner.get(`cert/${epoch}`), value)) {
        held.set(epoch, value);
        return;
      }
      held.delete(epoch);
      return inner.put(key, value);
    }
    await inner.put(key, value);
    if (key.startsWith('cert/')) {
      const epoch = key.slice('cert/'.length);
      const state = held.get(epoch);
      if (state && certifies(value, state)) {
        held.delete(epoch);
        await inner.put(`state/${epoch}`, state);
      }
    }
  };
  return {
    store: {
      get: async (k) => (k.startsWith('state/') ? (held.get(k.slice(6)) ?? inner.get(k)) : inner.get(k)),
      put: (k, v) => track(put(k, v)),
      delete: (k) => track(inner.delete(k)),
      keys: (p) => inner.keys(p),
    },
    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
