/**
 * The browser's Sprint protocol peer: a `SprintRuntime` built from the engine Worker (EngineClient,
 * one engine per seed through `enginePerSeed`; WebGPU or the CPU backend by the backend setting),
 * an IndexedDB store per genesis, the page's node (through a NodeSwitch, since the node restarts
 * when the wallet locks or unlocks) and a signer over the wallet whose secret keys are read lazily.
 *
 * Locked wallet: the search needs only the public key, so a reloaded page searches at once. Signing
 * waits: the host asks `signer.ready(what, until)` before it stamps a commit, reveal, proof,
 * validation or vote; the snapshot then says what waits (`signing.waiting`: "unlock to submit your
 * proof"), and an unlock before `until` (the end of that message's window) sends it with a fresh
 * timestamp. Past `until` the message is skipped for this epoch and listed in `signing.missed`.
 * The BLS key binding (needed in validation messages) is made at the first unlock for the genesis's
 * network and kept in the store; until then the runtime waits for that one unlock.
 *
 * Participation (src/app/participation.ts) gates the search through `runGate`: while it says no
 * (paused on battery) the search waits inside the Sprint and resumes from its last nonce when it
 * says yes again, so the host's proof still claims every find; its signal aborts the Worker's run
 * the moment the decision leaves 'run'. Intensity is an IntensityControl passed through
 * `enginePerSeed` to each run, and `setIntensity` also tells the running Worker.
 *
 * Inference proofs: `judgeInferenceWith` (given the model loaded on "Run a model") makes this page
 * a validator of other volunteers' split-inference proofs of that model, with its weight and
 * wallet (src/app/inference-judge.ts); the snapshot carries the verdicts it published, and, from
 * its pool, each volunteer's sessions as the validators judged them (`inferenceReputation`).
 *
 * Failures keep what was found: a lost GPU device rebuilds the engine and resumes from the last
 * reported nonce (up to MAX_ENGINE_RETRIES times per Sprint); any other engine failure ends the
 * search with the finds so far, which still go into the proof. Validation falls back to the CPU
 * reference if the engine fails. A refused write (storage quota) stops the search, so nothing is
 * found that cannot be saved.
 */
import { EngineClient, type EngineInfo } from '../gpu/engine-client.ts';
import { GpuError } from '../gpu/errors.ts';
import type { BuildPhase, SprintOptions, SprintResult } from '../gpu/engine-types.ts';
import { IntensityControl } from '../gpu/sprint-loop.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import type { SprintnetNode } from '../node/index.ts';
import { WalletError } from '../wallet/errors.ts';
import { makeKeyBinding, verifyKeyBinding, type KeyBinding } from '../wallet/lottery.ts';
import { walletSigner, type Signer } from '../protocol/crypto.ts';
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import type { Clock, ProtocolEngine, ProtocolStore, SearchRequest, SearchResult } from '../protocol/interfaces.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import { toHex } from '../sprint/bytes.ts';
import type { InferenceRecord } from '../protocol/inference-reputation.ts';
import { systemClock } from './clock.ts';
import { InferenceJudge, poolReputation, type JudgeSnapshot } from './inference-judge.ts';
import type { InferenceJudging } from './page-judge.ts';
import { enginePerSeed, referenceEngine, type EngineLike } from './engines.ts';
import { idbStore } from './idb-store.ts';
import { pageLedgers, type LedgerRegistry } from './ledger-follower.ts';
import { NodeSwitch } from './node-switch.ts';
import { SprintRuntime, type RuntimeSnapshot } from './runtime.ts';

/** How the runtime reaches the wallet without owning it (the UI's wallet store does). */
export interface WalletKeys {
  /** The wallet's Ed25519 public key, known while it is locked (the stored keystore names it). */
  readonly publicKey: Uint8Array;
  /** Its secrets while unlocked, else null. Read at signing time only, never kept. */
  unlocked(): { readonly ed25519Seed: Uint8Array; readonly blsSecretKey: Uint8Array } | null;
  /** Called on every lock and unlock; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** What the page needs of its engine Worker (EngineClient fits; tests pass a fake). */
export type EngineClientLike = Pick<EngineClient, 'create' | 'runSprint' | 'evaluateNonces' | 'abort' | 'terminate'> &
  Partial<Pick<EngineClient, 'loseDeviceForTesting' | 'setIntensity'>>;

/** Whether the search may run now (participation's decision), and word when that changes. */
export interface RunGate {
  /** A signal that aborts when running must stop; null while it must not run. */
  runSignal(): AbortSignal | null;
  /** Called on every change of the decision; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

export interface BrowserRuntimeOptions {
  readonly genesis: Genesis;
  readonly wallet: WalletKeys;
  readonly backend: BackendChoice;
  /** IndexedDB database; default one per genesis. */
  readonly storeName?: string;
  readonly store?: ProtocolStore & { close?(): void };
  readonly newEngineClient?: (onCrash: (message: string) => void) => EngineClientLike;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** After an unlock, how long signing waits for the node to reach its peers (default NODE_SETTLE_MS). */
  readonly nodeSettleMs?: number;
  /** Duty cycle from 0.1 to 1 (default 1); `setIntensity` changes it while a search runs. */
  readonly intensity?: number;
  /** Participation's decision; without one the search always runs. */
  readonly runGate?: RunGate;
  /** How often the inference judge looks at the pool (default 1 000 ms). */
  readonly judgeEveryMs?: number;
  /** The page's ledger followers (ledger-follower.ts): the runtime takes over its genesis's. Default `pageLedgers`. */
  readonly ledgers?: LedgerRegistry;
}

export interface RuntimeIssue {
  /** GpuError code (NO_WEBGPU, DEVICE_LOST, …), QUOTA_EXCEEDED, STORAGE, WORKER, or UNKNOWN. */
  readonly code: string;
  readonly message: string;
  readonly at: number;
  /** The search went on after it (a lost device: engine rebuilt). */
  readonly recovered?: boolean;
}

export type BrowserRuntimeStatus = 'opening' | 'needs-unlock' | 'running' | 'stopped';

export interface BrowserSnapshot {
  readonly status: BrowserRuntimeStatus;
  readonly genesisId: string;
  readonly runtime: RuntimeSnapshot | null;
  readonly engine: EngineInfo | null;
  /** Engine build progress while one is being built (weights, compile, autotune). */
  readonly build: { readonly phase: BuildPhase | null; readonly progress: Readonly<Record<BuildPhase, number>> } | null;
  readonly signing: {
    /** What waits for an unlock (commit, reveal, proof, validation, vote), and until when. */
    readonly waiting: { readonly what: string; readonly until: number } | null;
    readonly missed: readonly { readonly what: string; readonly at: number }[];
  };
  readonly issue: RuntimeIssue | null;
  /** Judging other volunteers' inference proofs (judgeInferenceWith); null while this page does not. */
  readonly inferenceJudge?: JudgeSnapshot | null;
  /** Per volunteer, its sessions as the weighted validators judged them, from this page's pool. */
  readonly inferenceReputation?: readonly InferenceRecord[];
}

export const PROTOCOL_DB_PREFIX = 'sprintnet-protocol-';
/** A lost device is rebuilt this many times per Sprint before the search gives up. */
export const MAX_ENGINE_RETRIES = 3;
const BINDING_KEY = 'binding/';
const NO_BUILD: Record<BuildPhase, number> = { autotune: 0, weights: 0, compile: 0 };
/** After an unlock, how long signing waits for the restarted node to reach its peers. */
export const NODE_SETTLE_MS = 3_000;

export class BrowserRuntime {
  readonly node = new NodeSwitch();
  private runtime: SprintRuntime | null = null;
  private snap: BrowserSnapshot;
  private readonly listeners = new Set<(s: BrowserSnapshot) => void>();
  private readonly searches = new Set<AbortController>();
  private readonly clock: Clock;
  private engine: (ProtocolEngine & { close(): void }) | null = null;
  private store: (ProtocolStore & { close?(): void }) | null = null;
  private offWallet: (() => void) | null = null;
  private client: EngineClientLike | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  private readonly intensity: IntensityControl;
  private readonly wake = new Set<() => void>();
  private protocolSigner: Signer | null = null;
  private judging: InferenceJudging | null = null;
  private judge: InferenceJudge | null = null;
  private reputationSeen = '';
  /** False while the store is the ledger follower's, lent for the key binding before the handover. */
  private ownsStore = true;

  constructor(private readonly o: BrowserRuntimeOptions) {
    this.clock = o.clock ?? systemClock;
    this.intensity = new IntensityControl(o.intensity ?? 1);
    this.snap = {
      status: 'opening',
      genesisId: genesisId(o.genesis),
      runtime: null,
      engine: null,
      build: null,
      signing: { waiting: null, missed: [] },
      issue: null,
    };
  }

  get snapshot(): BrowserSnapshot {
    return this.snap;
  }

  subscribe(fn: (s: BrowserSnapshot) => void): () => void {
    this.listeners.add(fn);
    fn(this.snap);
    return () => this.listeners.delete(fn);
  }

  /** The underlying runtime once started (countdowns: msToNextSprint, phaseClock). */
  get sprintRuntime(): SprintRuntime | null {
    return this.runtime;
  }

  private set(patch: Partial<BrowserSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const fn of this.listeners) fn(this.snap);
  }

  private report(e: unknown, recovered = false): void {
    this.set({ issue: { ...describeIssue(e), at: this.clock.now(), recovered } });
  }

  /** Opens the store, gets the key binding (waiting for one unlock if it was never made) and starts. */
  async start(node: SprintnetNode | undefined): Promise<void> {
    this.node.attach(node);
    const gid = genesisId(this.o.genesis);
    const ledgers = this.o.ledgers ?? pageLedgers;
    // One host per genesis per page: a ledger follower's store is used, and its host stops below.
    const lent = this.o.store || this.o.storeName ? null : ledgers.storeFor(gid);
    this.ownsStore = !lent;
    this.store = this.o.store ?? lent ?? (await idbStore(this.o.storeName ?? `${PROTOCOL_DB_PREFIX}${gid}`));
    const binding = await this.binding();
    if (this.disposed || !binding) return;
    const handover = await ledgers.handOver(gid);
    this.ownsStore = true;
    if (this.disposed) {
      // Stopped while the follower let go: it follows again on a store of its own.
      this.store.close?.();
      await ledgers.runtimeStopped(gid, null);
      return;
    }
    this.engine = enginePerSeed(this.workerEngineBuilder(), this.clock, { intensity: this.intensity });
    this.protocolSigner = this.signer(binding);
    this.runtime = new SprintRuntime({
      genesis: this.o.genesis,
      signer: this.protocolSigner,
      engine: this.resilient(this.engine),
      node: this.node,
      store: this.guarded(this.store),
      clock: this.clock,
      log: this.o.log,
    });
    this.runtime.subscribe((runtime) => this.set({ runtime }));
    try {
      await this.runtime.start();
    } catch (e) {
      // Its host never ran (a store that failed, or dispose closed its transport while it loaded):
      // the follower follows again, since no registered runtime will hand the ledger back.
      this.runtime.stop();
      await ledgers.runtimeStopped(gid, null);
      if (this.disposed) return;
      throw e;
    }
    if (this.disposed) {
      // Disposed while the host loaded: dispose stopped a runtime not registered yet, so it could not
      // hand the ledger back (runtimeStopped ignores an unknown host). A host that started after its
      // stop is stopped again.
      this.runtime.stop();
      await ledgers.runtimeStopped(gid, null);
      return;
    }
    handover?.complete(this.runtime.host);
    ledgers.runtimeStarted(gid, this.runtime.host);
    this.refreshTimer = setInterval(() => {
      this.runtime?.refresh();
      this.refreshReputation();
    }, 2_000);
    this.set({ status: 'running' });
    this.startJudge();
  }

  /**
   * Judge other volunteers' inference proofs of the model `judging` holds, with this page's weight
   * and wallet (src/app/inference-judge.ts); null stops. Takes effect once the runtime runs.
   */
  judgeInferenceWith(judging: InferenceJudging | null): void {
    this.judging = judging;
    this.judge?.stop();
    this.judge = null;
    this.startJudge();
  }

  private startJudge(): void {
    const { judging, runtime, protocolSigner } = this;
    if (!judging || !runtime || !protocolSigner || this.disposed) {
      this.set({ inferenceJudge: null });
      return;
    }
    const judge = new InferenceJudge({
      genesis: this.o.genesis,
      host: runtime.host,
      signer: protocolSigner,
      locked: () => !this.o.wallet.unlocked(),
      model: (hash) => judging.model(hash),
      transport: (volunteerKey) => judging.transport(this.node.current, volunteerKey),
      // The runtime's transport: a transport made per message would hold the genesis's topics once more each time.
      publish: (topic, bytes) => runtime.transport.publish(topic, bytes),
      now: () => this.clock.now(),
      log: (line) => this.o.log?.(line),
      everyMs: this.o.judgeEveryMs,
    });
    this.judge = judge;
    judge.subscribe((s) => {
      if (this.judge === judge) this.set({ inferenceJudge: s });
    });
    this.set({ inferenceJudge: judge.snapshot });
  }

  private refreshReputation(): void {
    if (!this.runtime) return;
    const { host } = this.runtime;
    // Signatures are checked on every count: count again only when the pool's inference messages or the ledger's head changed.
    const seen = `${host.head}/${host.pool
      .epochs()
      .map((e) => `${e}:${host.pool.messages(e).filter((m) => m.kind === 'inference' || m.kind === 'inferenceVerdict').length}`)
      .join(',')}`;
    if (seen === this.reputationSeen) return;
    this.reputationSeen = seen;
    const records = poolReputation(this.o.genesis, host);
    if (JSON.stringify(records) !== JSON.stringify(this.snap.inferenceReputation ?? [])) this.set({ inferenceReputation: records });
  }

  /** Duty cycle for this and later searches: GpuError BAD_ARGUMENT outside [0.1, 1]. */
  setIntensity(value: number): void {
    this.intensity.set(value);
    void this.client?.setIntensity?.(value).catch(() => undefined);
  }

  get currentIntensity(): number {
    return this.intensity.value;
  }

  /** Stops searching (the search saves what it found), leaves the network and frees the engine. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const w of this.wake) w();
    clearInterval(this.refreshTimer);
    this.offWallet?.();
    this.judge?.stop();
    this.runtime?.stop();
    for (const c of this.searches) c.abort();
    await this.runtime?.host.idle();
    this.engine?.close();
    this.node.attach(undefined);
    if (this.ownsStore) this.store?.close?.();
    this.set({ status: 'stopped', build: null, signing: { ...this.snap.signing, waiting: null } });
    // The page's ledger follower, if one is wanted, follows with its own host again.
    if (this.runtime) await (this.o.ledgers ?? pageLedgers).runtimeStopped(genesisId(this.o.genesis), this.runtime.host);
  }

  /** Test hook (?engine-test): destroys the engine's GPU device, as a driver reset would. */
  loseDeviceForTesting(): Promise<void> {
    return this.client?.loseDeviceForTesting?.() ?? Promise.resolve();
  }

  /** Stops the search now without leaving the network (storage failure, GPU taken by another tab). */
  haltSearch(): void {
    for (const c of this.searches) c.abort();
  }

  // ------------------------------------------------------------------ wallet

  private async binding(): Promise<KeyBinding | null> {
    const key = `${BINDING_KEY}${toHex(this.o.wallet.publicKey)}`;
    const stored = await this.store!.get(key);
    const parsed = stored ? decodeBinding(stored) : null;
    if (parsed && verifyKeyBinding(parsed, this.o.genesis.networkId)) return parsed;
    const made = await this.whenUnlocked(() => {
      const k = this.o.wallet.unlocked();
      return k ? makeKeyBinding(k.ed25519Seed, k.blsSecretKey, this.o.genesis.networkId) : null;
    });
    if (made) await this.store!.put(key, encodeBinding(made));
    return made;
  }

  /** `make()` now, or after the next unlock; null if disposed meanwhile. */
  private whenUnlocked<T>(make: () => T | null): Promise<T | null> {
    const now = make();
    if (now) return Promise.resolve(now);
    this.set({ status: 'needs-unlock' });
    return new Promise((resolve) => {
      const off = this.o.wallet.subscribe(() => {
        const v = make();
        if (v || this.disposed) {
          off();
          this.offWallet = null;
          this.set({ status: 'opening' });
          resolve(v);
        }
      });
      this.offWallet = () => {
        off();
        resolve(null);
      };
    });
  }

  private signer(binding: KeyBinding): Signer {
    const w = this.o.wallet;
    const inner = walletSigner(
      async () => {
        const k = w.unlocked();
        if (!k) throw new WalletError('LOCKED', 'the wallet is locked');
        return { ed25519Seed: k.ed25519Seed, blsSecretKey: k.blsSecretKey, publicKey: w.publicKey, keyBinding: binding };
      },
      w.publicKey,
      binding,
    );
    return {
      ...inner,
      ready: (what, until) => this.readyToSign(what, until),
      canSign: () => w.unlocked() !== null,
    };
  }

  /**
   * True once the wallet is unlocked and the node can gossip (an unlock restarts the page's node with
   * the wallet's identity: a message stamped before it is back would be lost), or NODE_SETTLE_MS
   * after the unlock in any case (an offline page still signs, and sync delivers later what may
   * count). False if `until` comes first; the snapshot says what waits and, then, what was missed.
   */
  private readyToSign(what: string, until: number): Promise<boolean> {
    const w = this.o.wallet;
    if (w.unlocked() && this.node.canGossip()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let unlockedAt: number | null = null;
      let cancel = () => {};
      const done = (ok: boolean) => {
        off();
        cancel();
        const missed = ok ? this.snap.signing.missed : [...this.snap.signing.missed, { what, at: this.clock.now() }].slice(-20);
        this.set({ signing: { waiting: null, missed } });
        resolve(ok);
      };
      const check = () => {
        const now = this.clock.now();
        if (w.unlocked()) {
          unlockedAt ??= now;
          if (this.node.canGossip() || now - unlockedAt >= (this.o.nodeSettleMs ?? NODE_SETTLE_MS)) return done(true);
        } else {
          unlockedAt = null;
          if (this.snap.signing.waiting?.what !== what) this.set({ signing: { ...this.snap.signing, waiting: { what, until } } });
        }
        if (now >= until || this.disposed) return done(false);
        cancel = this.clock.setTimer(Math.min(until, now + 100), check);
      };
      const off = w.subscribe(() => {
        cancel();
        check();
      });
      check();
    });
  }

  // ------------------------------------------------------------------ engine

  private workerEngineBuilder(): Parameters<typeof enginePerSeed>[0] {
    return async (config, seed): Promise<EngineLike> => {
      const client = (this.o.newEngineClient ?? ((onCrash) => new EngineClient(onCrash)))((message) =>
        this.report(new GpuError('VALIDATION', `engine worker crashed: ${message}`)),
      );
      this.client = client;
      const progress = { ...NO_BUILD };
      this.set({ build: { phase: null, progress }, engine: null });
      // Comlink delivers the progress callback on a port of its own, so a last report can land after
      // create's result: without this it put the finished build's bars back for the whole Sprint.
      let built = false;
      try {
        const info = await client.create({ config: config.name, sprintSeed: seed, backend: this.o.backend }, (phase, fraction) => {
          if (built) return;
          progress[phase] = fraction;
          this.set({ build: { phase, progress: { ...progress } } });
        });
        built = true;
        this.set({ engine: info, build: null });
      } catch (e) {
        built = true;
        this.set({ build: null });
        await client.terminate();
        throw e;
      }
      return workerEngine(client);
    };
  }

  /** Search with an abort handle, recovery from a lost device, and no finds ever dropped. */
  private resilient(inner: ProtocolEngine & { close(): void }): ProtocolEngine {
    const reference = referenceEngine({ clock: this.clock });
    return {
      search: async (req: SearchRequest): Promise<SearchResult> => {
        const ctl = new AbortController();
        this.searches.add(ctl);
        // The host aborts an early search whose seed the Sprint's sync round changed.
        if (req.signal?.aborted) ctl.abort();
        else req.signal?.addEventListener('abort', () => ctl.abort(), { once: true });
        const found = new Map(req.found.map((c) => [c.nonce, c]));
        let next = req.startNonce;
        let base = 0;
        let last = 0;
        try {
          for (let attempt = 0; attempt <= MAX_ENGINE_RETRIES && !ctl.signal.aborted && this.clock.now() < req.deadline;) {
            last = 0;
            const run = await this.whenAllowed(req.deadline, ctl.signal);
            if (!run) break;
            const both = AbortSignal.any([ctl.signal, run]);
            // The Worker's last progress report can arrive after its run resolved: counted against
            // this run's own base, and not passed on once the next run began.
            const runBase = base;
            let current = true;
            try {
              const r = await inner.search({
                ...req,
                startNonce: next,
                found: [...found.values()],
                signal: both,
                onProgress: (p) => {
                  for (const c of p.newlyFound) found.set(c.nonce, c);
                  next = Math.max(next, p.nextNonce);
                  if (!current) return;
                  last = p.tried;
                  req.onProgress?.({ ...p, tried: runBase + p.tried });
                },
              });
              current = false;
              for (const c of r.found) found.set(c.nonce, c);
              next = Math.max(next, r.nextNonce);
              base += r.tried;
              // The run's total and every find, which a dropped late report may not have told the host
              // yet (the host keys finds by nonce, so repeating them is harmless).
              req.onProgress?.({ newlyFound: sortedFinds(found), nextNonce: next, tried: base });
              // Paused (battery) mid-Sprint: wait for the decision to come back, then resume from `next`.
              if (run.aborted && !ctl.signal.aborted) continue;
              return { found: sortedFinds(found), tried: base, nextNonce: next };
            } catch (e) {
              current = false;
              const lost = e instanceof GpuError && e.code === 'DEVICE_LOST';
              if (e instanceof GpuError) {
                for (const c of e.details.found ?? []) found.set(c.nonce, c);
                next = Math.max(next, e.details.nextNonce ?? next);
              }
              base += last;
              this.report(e, lost && attempt < MAX_ENGINE_RETRIES);
              inner.close(); // a lost device or failed build leaves nothing worth keeping in the worker
              if (!lost) break;
              attempt++;
            }
          }
          return { found: sortedFinds(found), tried: base, nextNonce: next };
        } finally {
          this.searches.delete(ctl);
        }
      },
      evaluate: async (req) => {
        try {
          return await inner.evaluate(req);
        } catch (e) {
          this.report(e);
          inner.close();
          return reference.evaluate(req);
        }
      },
    };
  }

  /**
   * The gate's run signal once it allows running, or null at the deadline / abort / dispose. With no
   * gate, a signal that never aborts.
   */
  private whenAllowed(deadline: number, abort: AbortSignal): Promise<AbortSignal | null> {
    const gate = this.o.runGate;
    if (!gate) return Promise.resolve(new AbortController().signal);
    const now = gate.runSignal();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      let cancel = () => {};
      const finish = (v: AbortSignal | null) => {
        off();
        cancel();
        abort.removeEventListener('abort', stop);
        this.wake.delete(stop);
        resolve(v);
      };
      const stop = () => finish(null);
      const off = gate.subscribe(() => {
        const s = gate.runSignal();
        if (s) finish(s);
      });
      abort.addEventListener('abort', stop, { once: true });
      this.wake.add(stop);
      cancel = this.clock.setTimer(deadline, stop);
      if (this.disposed || abort.aborted) stop();
    });
  }

  /** Writes that fail stop the search (nothing should be found that cannot be kept) and are shown. */
  private guarded(store: ProtocolStore): ProtocolStore {
    return {
      get: (k) => store.get(k),
      delete: (k) => store.delete(k),
      keys: (p) => store.keys(p),
      put: async (k, v) => {
        try {
          await store.put(k, v);
        } catch (e) {
          this.report(e);
          this.haltSearch();
          throw e;
        }
      },
    };
  }
}

/** EngineLike over the Worker client: an AbortSignal becomes `abort()` (it cannot cross to the Worker). */
export function workerEngine(client: EngineClientLike): EngineLike {
  return {
    async runSprint(o: SprintOptions): Promise<SprintResult> {
      const onAbort = () => void client.abort().catch(() => undefined);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (o.signal?.aborted) {
          return {
            found: [...(o.found ?? [])],
            noncesTried: 0,
            nextNonce: o.startNonce ?? 0,
            elapsedMs: 0,
            noncesPerSecond: 0,
            busyMs: 0,
            stoppedBy: 'abort',
          } as SprintResult;
        }
        let count = o.found?.length ?? 0;
        return await client.runSprint(
          {
            publicKey: o.publicKey,
            startNonce: o.startNonce,
            found: o.found,
            durationMs: o.durationMs,
            maxNonces: o.maxNonces,
            hitRate: o.hitRate,
            intensity: intensityNow(o.intensity),
          },
          (p) => {
            count += p.newlyFound.length;
            o.onProgress?.({ ...p, found: count });
          },
        );
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
      }
    },
    evaluateNonces: (publicKey, nonces) => client.evaluateNonces(publicKey, nonces),
    destroy: () => void client.terminate(),
  };
}

/** The value to start a Worker run with; later changes reach it through EngineClient.setIntensity. */
const intensityNow = (i: SprintOptions['intensity']): number | undefined => (typeof i === 'number' ? i : i?.value);

const sortedFinds = (m: Map<number, NonceClaim>): NonceClaim[] => [...m.values()].sort((a, b) => a.nonce - b.nonce);

function describeIssue(e: unknown): { code: string; message: string } {
  if (e instanceof GpuError) return { code: e.code, message: e.message };
  if (e instanceof DOMException && e.name === 'QuotaExceededError') return { code: 'QUOTA_EXCEEDED', message: e.message };
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string') return { code, message: (e as Error).message };
  if (e instanceof DOMException) return { code: 'STORAGE', message: `${e.name}: ${e.message}` };
  return { code: 'UNKNOWN', message: e instanceof Error ? e.message : String(e) };
}

const BINDING_BYTES = 32 + 48 + 64 + 96;

function encodeBinding(b: KeyBinding): Uint8Array {
  const out = new Uint8Array(BINDING_BYTES);
  out.set(b.ed25519PublicKey, 0);
  out.set(b.blsPublicKey, 32);
  out.set(b.signature, 80);
  out.set(b.proofOfPossession, 144);
  return out;
}

function decodeBinding(bytes: Uint8Array): KeyBinding | null {
  if (bytes.length !== BINDING_BYTES) return null;
  return { ed25519PublicKey: bytes.slice(0, 32), blsPublicKey: bytes.slice(32, 80), signature: bytes.slice(80, 144), proofOfPossession: bytes.slice(144) };
}
