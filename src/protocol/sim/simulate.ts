/**
 * The Sprint simulation (`bin/sprintnet simulate`): real `ProtocolHost`s with real keys,
 * signatures and BLS lottery, the CPU reference as their engine, over an in-memory network in
 * virtual time. Honest hosts and cheaters run side by side; the report gives, per epoch and host,
 * the state hash, weight, fraud flag, CU credited, certificate status and weight per nonce
 * actually evaluated.
 *
 * Host identities are fixed per index (sha512("sprintnet/sim/host" ‖ u32 index) as the BIP39
 * seed) so that key bindings, which take two BLS pairings to make, are made once per process;
 * the seed of a run varies everything else: seed secrets and so the Sprint seeds and nonces,
 * latencies, forged claims.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { getConfig } from '../../sprint/config.ts';
import { utf8 } from '../../sprint/bytes.ts';
import { deriveSecrets } from '../../wallet/derive.ts';
import { makeKeyBinding, type KeyBinding } from '../../wallet/lottery.ts';
import { walletSigner, walletVerifier, type Signer, type Verifier } from '../crypto.ts';
import { makeGenesis, fastTimings, schedule, type Genesis } from '../genesis.ts';
import { isCertified, ProtocolHost, type EpochView, type HostEvent, type HostStrategy } from '../host.ts';
import { ForgedOracleEngine, modelledCrypto, OracleEngine } from './modelled.ts';
import { earnsAsHost, Flag, flopsToCu, hostOf, hostPoolShare, type EpochState } from '../ledger.ts';
import { MemoryStore } from '../store.ts';
import { hex } from '../bytes.ts';
import { Verdict } from '../messages.ts';
import type { ProtocolEngine, Transport } from '../interfaces.ts';
import { decodeRequest, NOT_FOUND } from '../sync.ts';
import { FewerLayersEngine, ForgedEngine, HonestEngine, IdleEngine, ModelCache, ScreeningEngine, type WorkCounters } from './engines.ts';
import { EventLoop, Rng } from './loop.ts';
import { overrideTransport, RequestFailed, SimNetwork, type PeerStats } from './network.ts';

export const CHEATER_KINDS = ['forged', 'fewer-layers', 'copier', 'withholder', 'screening', 'lazy-validator', 'unavailable-liar', 'late-revealer'] as const;
export type CheaterKind = (typeof CHEATER_KINDS)[number];
export type HostKind = 'honest' | CheaterKind;

export interface Outage {
  /** Index into the host list (honest hosts first, then cheaters in the order given). */
  readonly host: number;
  /** Virtual ms after genesis at which the host's process stops and it leaves the network. */
  readonly from: number;
  /** It restarts from its store and rejoins. */
  readonly to: number;
}

export interface SimOptions {
  readonly config?: string;
  readonly honest: number;
  readonly cheaters?: readonly CheaterKind[];
  readonly epochs: number;
  readonly seed: number;
  /** Nonces each host evaluates per Sprint window (default 64). */
  readonly noncesPerSprint?: number;
  /** p = 1 / this (default 8: a tiny Sprint finds a handful of nonces). */
  readonly hitRateDenominator?: number;
  /** Sprint window in virtual ms (default 2000). */
  readonly sprintMs?: number;
  readonly skewMs?: number;
  readonly latencyMs?: readonly [number, number];
  readonly outages?: readonly Outage[];
  /**
   * Hosts (indices as in `outages`) that answer every nonce-list request with NOT_FOUND: they
   * publish proofs whose lists nobody can fetch, so honest validators can only say `unavailable`.
   */
  readonly unservedLists?: readonly number[];
  /** The epoch from which `unservedLists` hosts stop serving (default 0: from the start). */
  readonly unservedListsFrom?: number;
  /**
   * MODELLED only: searches try this many nonces per second of virtual time left to the Sprint's end
   * (instead of `noncesPerSprint`), so a search that starts earlier tries more (the late-revealer).
   */
  readonly searchNoncesPerSecond?: number;
  /** MODELLED only: every re-run of a nonce in validation takes this many ms of virtual time (default 0). */
  readonly evaluateMsPerNonce?: number;
  /** false: honest hosts search from sprintStart only, as before the early search (comparison runs). */
  readonly honestSearchEarly?: boolean;
  /** Share one verification cache among all hosts (results are pure functions of the bytes). */
  readonly verifier?: Verifier;
  /**
   * MODELLED mode (modelled.ts): oracle engine and hash signatures instead of the reference and
   * the wallet. Of the cheaters only forged, copier, withholder, lazy-validator, unavailable-liar and late-revealer cheat here; the
   * others search with the honest oracle.
   */
  readonly modelled?: { readonly crypto: ReturnType<typeof modelledCrypto> };
  /** The genesis's initial weights by host index (0 or missing: not named); none: open join. */
  readonly initialWeights?: readonly number[];
  /** Genesis timings instead of fastTimings(sprintMs, skewMs). */
  readonly timings?: Genesis['timings'];
  readonly onEvent?: (host: number, e: HostEvent) => void;
  readonly log?: (line: string) => void;
}

export interface HostEpochReport {
  readonly name: string;
  readonly kind: HostKind;
  readonly key: string;
  readonly stateHash: string | null;
  readonly certificate: string;
  readonly votingWeight: number;
  readonly weight: number;
  readonly reputation: number;
  readonly flags: string[];
  readonly fraud: boolean;
  readonly claimed: number;
  readonly accepted: number;
  readonly cuEpoch: number;
  readonly cuTotal: number;
  readonly reward: number;
  readonly vested: number;
  readonly forfeited: number;
  /** Nonces this host ran through the full model in this epoch's Sprint. */
  readonly evaluated: number;
  /** Weight for the next epoch ÷ nonces evaluated (null when it evaluated none). */
  readonly weightPerEvaluated: number | null;
  readonly validationEvaluated: number;
  /** The part of `reward` paid from the validator pool (the reward less the host-pool share). */
  readonly validatorReward: number;
}

export interface EpochReport {
  readonly epoch: number;
  readonly seed: string | null;
  /** Every online host derived the same state hash. */
  readonly agreed: boolean;
  readonly distinctHashes: number;
  /** Every host that derived the epoch holds a certificate for it. */
  readonly certified: boolean;
  readonly hosts: HostEpochReport[];
}

export interface SimReport {
  readonly simulation: 'cpu-backend' | 'MODELLED oracle engine and signatures';
  readonly config: string;
  readonly seed: number;
  readonly hitRate: number;
  readonly noncesPerSprint: number;
  readonly genesis: { networkId: string; timings: Genesis['timings']; skewMs: number };
  readonly epochs: EpochReport[];
  readonly network: Array<{ name: string } & PeerStats>;
  readonly wallMs: number;
  readonly events: number;
}

export interface SimHost {
  name: string;
  kind: HostKind;
  key: string;
  publicKey: Uint8Array;
  host: ProtocolHost;
  store: MemoryStore;
  engine: HonestEngine;
  strategy?: HostStrategy;
  /**
   * A new process over the same store (a restart); `transport` in place of the network's (tests that
   * break it), `wrapSigner` around its signer (a wallet that is locked for a while).
   */
  make: (transport?: Transport, wrapSigner?: (s: Signer) => Signer) => ProtocolHost;
}

const identities = new Map<string, { seed: Uint8Array; bls: Uint8Array; publicKey: Uint8Array; binding: KeyBinding }>();

/** The simulated host `index`'s keys and key binding for `networkId` (memoised). */
export function simIdentity(index: number, networkId: string) {
  const key = `${networkId}/${index}`;
  let id = identities.get(key);
  if (!id) {
    const tag = new Uint8Array([...utf8('sprintnet/sim/host'), index & 0xff, (index >> 8) & 0xff, (index >> 16) & 0xff, index >>> 24]);
    const { ed25519Seed, blsSecretKey } = deriveSecrets(sha512(tag));
    const publicKey = ed25519.getPublicKey(ed25519Seed);
    id = { seed: ed25519Seed, bls: blsSecretKey, publicKey, binding: makeKeyBinding(ed25519Seed, blsSecretKey, networkId) };
    identities.set(key, id);
  }
  return id;
}

/** MODELLED identities (scale runs): a key derived by hashing the index; nothing is ever really signed with it. */
export function modelledIdentity(index: number) {
  const seed = sha512(new Uint8Array([...utf8('sprintnet/sim/modelled'), index & 0xff, (index >> 8) & 0xff, (index >> 16) & 0xff])).slice(0, 32);
  return { seed, bls: new Uint8Array(32), publicKey: ed25519.getPublicKey(seed), binding: undefined as unknown as KeyBinding };
}

const FLAG_NAMES = Object.entries(Flag) as [string, number][];
const flagNames = (f: number) => FLAG_NAMES.filter(([, bit]) => f & bit).map(([n]) => n);

export interface Simulation {
  readonly genesis: Genesis;
  readonly loop: EventLoop;
  readonly net: SimNetwork;
  readonly hosts: SimHost[];
  readonly verifier: Verifier;
  /** Runs until just before the end of epoch `e` and reports it. */
  runEpoch(e: number): Promise<EpochReport>;
  report(epochs: EpochReport[]): SimReport;
}

export async function createSimulation(o: SimOptions): Promise<Simulation> {
  const started = performance.now();
  const config = getConfig(o.config ?? 'tiny');
  const rng = new Rng(o.seed);
  const skewMs = o.skewMs ?? 200;
  const sprintMs = o.sprintMs ?? 2000;
  const budget = o.noncesPerSprint ?? 64;
  const networkId = 'sprintnet-sim';
  const genesis = makeGenesis({
    networkId,
    config: config.name,
    hitRateDenominator: o.hitRateDenominator ?? 8,
    startMs: 1_000_000,
    skewMs,
    timings: o.timings ?? fastTimings(sprintMs, skewMs),
    epochReward: 1_000_000,
    initialWeights: (o.initialWeights ?? []).flatMap((weight, index) =>
      weight > 0 ? [{ publicKey: (o.modelled ? modelledIdentity(index) : simIdentity(index, networkId)).publicKey, weight }] : [],
    ),
  });
  const loop = new EventLoop(genesis.startMs - 1);
  const net = new SimNetwork(loop, rng, { latencyMs: o.latencyMs ?? [10, 80] });
  const verifier = o.modelled?.crypto.verifier ?? o.verifier ?? walletVerifier();
  const models = new ModelCache();
  const kinds: HostKind[] = [...Array.from({ length: o.honest }, () => 'honest' as const), ...(o.cheaters ?? [])];
  const hosts: SimHost[] = kinds.map((kind, index) => {
    const id = o.modelled ? modelledIdentity(index) : simIdentity(index, networkId);
    const key = hex(id.publicKey);
    const store = new MemoryStore();
    const p = 1 / genesis.hitRateDenominator;
    const engine = o.modelled
      ? ((kind === 'forged'
          ? new ForgedOracleEngine(Math.max(1, Math.round(budget * p)), budget, p)
          : new OracleEngine(
              budget,
              p,
              o.searchNoncesPerSecond ? { clock: loop, perSecond: o.searchNoncesPerSecond } : undefined,
              o.evaluateMsPerNonce ? { clock: loop, msPerNonce: o.evaluateMsPerNonce } : undefined,
            )) as unknown as HonestEngine)
      : kind === 'forged'
        ? new ForgedEngine(models, budget, rng)
        : kind === 'fewer-layers'
          ? new FewerLayersEngine(models, budget)
          : kind === 'copier'
            ? new IdleEngine(models, budget)
            : kind === 'screening'
              ? new ScreeningEngine(models, budget)
              : new HonestEngine(models, budget);
    const strategy: HostStrategy | undefined =
      kind === 'withholder'
        ? { reveal: false }
        : kind === 'copier'
          ? { proofDelayMs: Math.round(genesis.timings.proofMs / 2), proofClaims: copyFromOthers }
          : kind === 'lazy-validator'
            ? { verdict: lazyVerdict }
            : kind === 'unavailable-liar'
              ? { verdict: unavailableVerdict }
              : kind === 'late-revealer'
                ? { revealLateMs: genesis.timings.revealMs }
                : kind === 'honest' && o.honestSearchEarly === false
                  ? { searchEarly: false }
                  : undefined;
    const name = kind === 'honest' ? `honest-${index}` : kinds.filter((k) => k === kind).length > 1 ? `${kind}-${index}` : kind;
    const signer = o.modelled
      ? o.modelled.crypto.signer(id.publicKey)
      : walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });
    const sim: SimHost = {
      name,
      kind,
      key,
      publicKey: id.publicKey,
      store,
      engine,
      strategy,
      host: undefined as unknown as ProtocolHost,
      make: (transport?: Transport, wrapSigner?: (s: Signer) => Signer) =>
        new ProtocolHost({
          genesis,
          signer: wrapSigner ? wrapSigner(signer) : signer,
          verifier,
          engine,
          transport:
            transport ??
            (o.unservedLists?.includes(index)
              ? servingNoLists(net.join(key), () => loop.now() >= schedule(genesis, o.unservedListsFrom ?? 0).start)
              : net.join(key)),
          clock: loop,
          store,
          random: (n) => rng.bytes(n),
          strategy,
          log: o.log ? (line) => o.log!(`${name} ${line}`) : undefined,
          onEvent: o.onEvent ? (e) => o.onEvent!(index, e) : undefined,
        }),
    };
    sim.host = sim.make();
    return sim;
  });
  for (const h of hosts) await h.host.start();
  for (const out of o.outages ?? []) {
    const h = hosts[out.host]!;
    loop.setTimer(genesis.startMs + out.from, () => {
      h.host.stop();
      net.setOnline(h.key, false);
      o.log?.(`${h.name} goes offline`);
    });
    loop.setTimer(genesis.startMs + out.to, () => {
      h.host = h.make(); // a new process over the same store
      void h.host.start();
      o.log?.(`${h.name} restarts`);
    });
  }
  let lastWork = new Map(hosts.map((h) => [h.key, { ...h.engine.work }]));
  return {
    genesis,
    loop,
    net,
    hosts,
    verifier,
    async runEpoch(e) {
      // Work still waiting for the network then continues when the loop runs on.
      await loop.runUntil(schedule(genesis, e).end - 1);
      const work = new Map(hosts.map((h) => [h.key, { ...h.engine.work }]));
      const report = epochReport(e, genesis, hosts, lastWork, work);
      lastWork = work;
      return report;
    },
    report: (epochs) => ({
      simulation: o.modelled ? 'MODELLED oracle engine and signatures' : 'cpu-backend',
      config: config.name,
      seed: o.seed,
      hitRate: 1 / genesis.hitRateDenominator,
      noncesPerSprint: budget,
      genesis: { networkId, timings: genesis.timings, skewMs },
      epochs,
      network: hosts.map((h) => ({ name: h.name, ...net.stats(h.key) })),
      wallMs: Math.round(performance.now() - started),
      events: loop.events,
    }),
  };
}

export async function simulate(o: SimOptions): Promise<SimReport> {
  const sim = await createSimulation(o);
  const epochs: EpochReport[] = [];
  for (let e = 0; e < o.epochs; e++) epochs.push(await sim.runEpoch(e));
  return sim.report(epochs);
}

/** The lazy validator: `ok` with every sampled nonce "checked" and none mismatched, without fetching the list or running a nonce. */
const lazyVerdict: NonNullable<HostStrategy['verdict']> = (ctx) => ({ verdict: Verdict.ok, checked: ctx.sampleSize, mismatches: 0 });
/** A griefer: says it could not fetch any list, so its weight pushes honest claims towards `rejected`. */
const unavailableVerdict: NonNullable<HostStrategy['verdict']> = () => ({ verdict: Verdict.unavailable, checked: 0, mismatches: 0 });

/** A transport whose host never shows a nonce list, its own or one it fetched; every other request is served as before. */
function servingNoLists(t: Transport, withholding: () => boolean): Transport {
  const isListRequest = (req: Uint8Array) => {
    try {
      return decodeRequest(req).op === 'list';
    } catch {
      return false; // malformed: the host's own handler rejects it
    }
  };
  return {
    publish: (topic, bytes) => t.publish(topic, bytes),
    subscribe: (handler) => t.subscribe(handler),
    handle: (serve) => t.handle((req, from) => (withholding() && isListRequest(req) ? Promise.resolve(NOT_FOUND) : serve(req, from))),
    request: (peer, req, options) => t.request(peer, req, options),
    peers: () => t.peers(),
  };
}

/** The copier: at proof time, takes the first other host's list and claims it under its own key. */
async function copyFromOthers(ctx: Parameters<NonNullable<HostStrategy['proofClaims']>>[0]) {
  const victims = ctx
    .proofs()
    .filter((p) => p.count > 0 && hex(p.seed) === hex(ctx.seed))
    .sort((a, b) => (hex(a.sender) < hex(b.sender) ? -1 : 1));
  for (const p of victims) {
    const claims = await ctx.fetchList(p).catch(() => null);
    if (claims && claims.length > 0) return { claims, tried: 0 };
  }
  return { claims: [], tried: 0 };
}

/**
 * Each record's reward less its host-pool share (ledger.ts hostPoolShare): the ledger keeps only
 * the sum, and the host-pool share depends on the state alone.
 */
function validatorRewards(g: Genesis, state: EpochState): Map<string, number> {
  const acceptedTotal = state.hosts.reduce((sum, h) => sum + (earnsAsHost(h.flags) ? h.accepted : 0), 0);
  return new Map(state.hosts.map((h) => [hex(h.publicKey), h.reward - hostPoolShare(g, h, acceptedTotal)]));
}

function epochReport(e: number, g: Genesis, hosts: SimHost[], before: Map<string, WorkCounters>, after: Map<string, WorkCounters>): EpochReport {
  const views = hosts.map((h) => h.host.view(e));
  const hashes = new Set(views.filter((v): v is EpochView => !!v).map((v) => v.hash));
  // The consensus view: the certified one if any host has a certificate, else the most common hash.
  const certifiedView = views.find((v) => v && isCertified(v.certificate));
  const reference = certifiedView ?? views.find((v) => !!v);
  const asValidator = reference ? validatorRewards(g, reference.state) : new Map<string, number>();
  const rows = hosts.map((h, i): HostEpochReport => {
    const v = views[i];
    const rec = reference ? hostOf(reference.state, h.publicKey) : undefined;
    const evaluated = after.get(h.key)!.evaluated - before.get(h.key)!.evaluated;
    const weight = rec?.weight ?? 0;
    return {
      name: h.name,
      kind: h.kind,
      key: h.key.slice(0, 16),
      stateHash: v?.hash ?? null,
      certificate: v?.certificate ?? 'none',
      votingWeight: rec?.votingWeight ?? 0,
      weight,
      reputation: rec?.reputation ?? 0,
      flags: flagNames(rec?.flags ?? 0),
      fraud: ((rec?.flags ?? 0) & Flag.fraud) !== 0,
      claimed: rec?.claimed ?? 0,
      accepted: rec?.accepted ?? 0,
      cuEpoch: flopsToCu(rec?.epochFlops ?? 0n),
      cuTotal: flopsToCu(rec?.totalFlops ?? 0n),
      reward: rec?.reward ?? 0,
      vested: rec?.vested ?? 0,
      forfeited: rec?.forfeited ?? 0,
      evaluated,
      weightPerEvaluated: evaluated > 0 ? weight / evaluated : null,
      validationEvaluated: after.get(h.key)!.validated - before.get(h.key)!.validated,
      validatorReward: asValidator.get(h.key) ?? 0,
    };
  });
  const online = views.filter((v) => !!v);
  return {
    epoch: e,
    seed: reference ? hex(reference.state.seed) : null,
    agreed: hashes.size === 1 && online.length === hosts.length,
    distinctHashes: hashes.size,
    certified: online.length > 0 && online.every((v) => isCertified(v!.certificate)),
    hosts: rows,
  };
}

/**
 * One more ProtocolHost on a simulation's network and clock, with MODELLED crypto and the engine
 * and hooks a test needs (a slow, failing or clock-driven engine), beside the simulation's hosts.
 */
export function extraHost(
  sim: Simulation,
  crypto: ReturnType<typeof modelledCrypto>,
  o: {
    readonly publicKey: Uint8Array;
    readonly engine: ProtocolEngine;
    readonly store?: MemoryStore;
    readonly log?: (line: string) => void;
    readonly onEvent?: (e: HostEvent) => void;
  },
): ProtocolHost {
  return new ProtocolHost({
    genesis: sim.genesis,
    signer: crypto.signer(o.publicKey),
    verifier: crypto.verifier,
    engine: o.engine,
    transport: sim.net.join(hex(o.publicKey)),
    clock: sim.loop,
    store: o.store ?? new MemoryStore(),
    random: (n) => new Uint8Array(n).fill(o.publicKey[0]!),
    log: o.log,
    onEvent: o.onEvent,
  });
}

/**
 * Takes `late` off the network now and starts it again at `at` (its first step on the clock),
 * with gossip working at once and its requests failing until `requestsFrom`: a page whose node is
 * still connecting, or a follower whose first sync times out.
 */
export function joinLate(
  sim: Simulation,
  late: SimHost,
  at: number,
  requestsFrom: number,
  /** Answers a request in the network's place (a liar every peer it reaches speaks for), or null. */
  answer?: (peer: string, request: Uint8Array) => Uint8Array | null,
): void {
  late.host.stop();
  sim.net.setOnline(late.key, false);
  sim.loop.setTimer(at, () => {
    const base = sim.net.join(late.key);
    late.host = late.make(
      overrideTransport(base, {
        request: async (peer, bytes) => {
          if (sim.loop.now() < requestsFrom) throw new RequestFailed('still connecting');
          return answer?.(peer, bytes) ?? base.request(peer, bytes);
        },
      }),
    );
    void late.host.start();
  });
}
