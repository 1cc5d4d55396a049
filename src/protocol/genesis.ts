/**
 * Genesis configuration and the epoch schedule (docs/protocol.md §"Genesis" and §"Epochs").
 *
 * An epoch is: seed commit, seed reveal, a settle gap, the Sprint window, a proof grace period,
 * the validation window, a sync period before the ledger closes, certificate voting, and work
 * time until the next epoch. Every boundary is a pure function of the genesis and the epoch
 * number, so every peer agrees on it up to its clock's skew.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { getConfig, type SprintConfig } from '../sprint/config.ts';
import { fromHex } from '../sprint/bytes.ts';
import { isStrictEd25519Key } from '../wallet/signing.ts';
import { KEY_BYTES, MAX_HOSTS, MAX_NETWORK_ID_BYTES, PROTOCOL_VERSION, TAG_GENESIS } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { compareBytes, hex, tagged } from './bytes.ts';

export interface Timings {
  /** Weighted hosts publish H(secret). */
  readonly commitMs: number;
  /** They publish the secret. */
  readonly revealMs: number;
  /** Gap between the reveal deadline and the Sprint: late reveals propagate, the seed settles. */
  readonly settleMs: number;
  /** The Sprint window: every host searches nonces with the epoch's seed. */
  readonly sprintMs: number;
  /** After the Sprint, proofs may still be published (network delay); later ones are ignored. */
  readonly proofMs: number;
  /** Validators fetch nonce lists, re-run samples and publish their results. */
  readonly validationMs: number;
  /** Peers reconcile their message sets before the ledger closes. */
  readonly syncMs: number;
  /** After the close: certificate votes are gathered. */
  readonly certifyMs: number;
  /** Whole epoch; what is left after certification is work time (inference). */
  readonly epochMs: number;
}

export interface GenesisWeight {
  readonly publicKey: Uint8Array;
  readonly weight: number;
}

export interface Genesis {
  readonly version: number;
  readonly networkId: string;
  /** Sprint model config (docs/sprint-spec.md §2). */
  readonly config: string;
  /** Difficulty p = 1 / hitRateDenominator (integer, so credited FLOPs stay exact integers). */
  readonly hitRateDenominator: number;
  /** Start of epoch 0, Unix milliseconds. */
  readonly startMs: number;
  /** Clock-skew tolerance: windows are widened by it, live messages further off our clock are refused. */
  readonly skewMs: number;
  readonly timings: Timings;
  /** Reward units minted per epoch. */
  readonly epochReward: number;
  /** Weights for epoch 0, sorted by key; empty = open join (every epoch-0 committer gets weight 1). */
  readonly initialWeights: readonly GenesisWeight[];
}

/** A live network: a 10-minute Sprint in a one-hour epoch. */
export const DEFAULT_TIMINGS: Timings = Object.freeze({
  commitMs: 30_000,
  revealMs: 30_000,
  settleMs: 20_000,
  sprintMs: 600_000,
  proofMs: 30_000,
  validationMs: 180_000,
  syncMs: 20_000,
  certifyMs: 60_000,
  epochMs: 3_600_000,
});
export const DEFAULT_SKEW_MS = 5_000;
export const DEFAULT_HIT_RATE_DENOMINATOR = 900;
export const DEFAULT_EPOCH_REWARD = 1_000_000;

/** Short timings for tests and the local demo: phases scale with the Sprint window. */
export function fastTimings(sprintMs: number, skewMs: number): Timings {
  const step = Math.max(4 * skewMs, Math.round(sprintMs / 2));
  const t = {
    commitMs: step,
    revealMs: step,
    settleMs: 3 * skewMs + step / 2,
    sprintMs,
    proofMs: step,
    validationMs: 2 * step,
    syncMs: step,
    certifyMs: 2 * step,
    epochMs: 0,
  };
  t.epochMs = sumPhases(t) + step;
  return Object.freeze(t);
}

const sumPhases = (t: Omit<Timings, 'epochMs'>): number =>
  t.commitMs + t.revealMs + t.settleMs + t.sprintMs + t.proofMs + t.validationMs + t.syncMs + t.certifyMs;

export interface GenesisOptions {
  networkId: string;
  config?: string;
  hitRateDenominator?: number;
  startMs: number;
  skewMs?: number;
  timings?: Timings;
  epochReward?: number;
  initialWeights?: readonly GenesisWeight[];
}

export function makeGenesis(o: GenesisOptions): Genesis {
  const g: Genesis = {
    version: PROTOCOL_VERSION,
    networkId: o.networkId,
    config: o.config ?? 'canonical',
    hitRateDenominator: o.hitRateDenominator ?? DEFAULT_HIT_RATE_DENOMINATOR,
    startMs: o.startMs,
    skewMs: o.skewMs ?? DEFAULT_SKEW_MS,
    timings: o.timings ?? DEFAULT_TIMINGS,
    epochReward: o.epochReward ?? DEFAULT_EPOCH_REWARD,
    initialWeights: [...(o.initialWeights ?? [])].sort((a, b) => compareBytes(a.publicKey, b.publicKey)),
  };
  checkGenesis(g);
  return g;
}

const isUint = (v: number, max: number) => Number.isSafeInteger(v) && v >= 0 && v <= max;

/** Throws ProtocolError BAD_GENESIS naming the first problem. */
export function checkGenesis(g: Genesis): void {
  const bad = (why: string): never => {
    throw new ProtocolError('BAD_GENESIS', `genesis: ${why}`);
  };
  if (g.version !== PROTOCOL_VERSION) bad(`protocol version ${g.version}, this code implements ${PROTOCOL_VERSION}`);
  const idBytes = new TextEncoder().encode(g.networkId).length;
  if (idBytes < 1 || idBytes > MAX_NETWORK_ID_BYTES) bad(`network id must be 1..${MAX_NETWORK_ID_BYTES} bytes`);
  try {
    getConfig(g.config);
  } catch {
    bad(`unknown Sprint config '${g.config}'`);
  }
  if (!isUint(g.hitRateDenominator, 1 << 24) || g.hitRateDenominator < 2) bad('hit-rate denominator must be an integer in [2, 2^24]');
  if (!isUint(g.startMs, Number.MAX_SAFE_INTEGER)) bad('start time must be a non-negative integer (ms)');
  if (!isUint(g.skewMs, 600_000)) bad('skew tolerance must be an integer in [0, 600000] ms');
  if (!isUint(g.epochReward, 2 ** 40)) bad('epoch reward must be an integer in [0, 2^40]');
  const t = g.timings;
  for (const [name, v] of Object.entries(t)) if (!isUint(v, 2 ** 32 - 1) || v < 1) bad(`timing ${name} must be a positive integer (ms)`);
  // Every window must outlast twice the skew, or two honest clocks could disagree on a whole phase.
  for (const name of ['commitMs', 'revealMs', 'proofMs', 'validationMs'] as const) {
    if (t[name] < 2 * g.skewMs) bad(`${name} must be at least twice the skew tolerance`);
  }
  if (t.settleMs < 2 * g.skewMs) bad('settleMs must be at least twice the skew tolerance');
  if (t.epochMs < sumPhases(t)) bad('epochMs is shorter than its phases');
  if (g.initialWeights.length > MAX_HOSTS) bad(`more than ${MAX_HOSTS} initial weights`);
  g.initialWeights.forEach((w, i) => {
    if (!isStrictEd25519Key(w.publicKey)) bad(`initial weight ${i}: not a strict Ed25519 key`);
    if (!isUint(w.weight, Number.MAX_SAFE_INTEGER) || w.weight < 1) bad(`initial weight ${i}: weight must be a positive integer`);
    if (i > 0 && compareBytes(g.initialWeights[i - 1]!.publicKey, w.publicKey) >= 0) bad('initial weights must be sorted by key, without repeats');
  });
}

export function encodeGenesis(g: Genesis): Uint8Array {
  const w = new BinaryWriter().u16(g.version).string(g.networkId).string(g.config).u32(g.hitRateDenominator).u64(g.startMs).u32(g.skewMs);
  const t = g.timings;
  for (const v of [t.commitMs, t.revealMs, t.settleMs, t.sprintMs, t.proofMs, t.validationMs, t.syncMs, t.certifyMs, t.epochMs]) w.u32(v);
  w.u64(g.epochReward).u32(g.initialWeights.length);
  for (const x of g.initialWeights) w.fixed(x.publicKey, KEY_BYTES).u64(x.weight);
  return w.finish();
}

export function decodeGenesis(bytes: Uint8Array): Genesis {
  try {
    const r = new BinaryReader(bytes, 4096);
    const version = r.u16();
    const networkId = r.string(MAX_NETWORK_ID_BYTES);
    const config = r.string(64);
    const hitRateDenominator = r.u32();
    const startMs = r.u64();
    const skewMs = r.u32();
    const [commitMs, revealMs, settleMs, sprintMs, proofMs, validationMs, syncMs, certifyMs, epochMs] = Array.from({ length: 9 }, () => r.u32()) as number[];
    const epochReward = r.u64();
    const n = r.u32();
    if (n > MAX_HOSTS) throw new DecodeError(`${n} initial weights exceed ${MAX_HOSTS}`);
    const initialWeights: GenesisWeight[] = [];
    for (let i = 0; i < n; i++) initialWeights.push({ publicKey: r.fixed(KEY_BYTES), weight: r.u64() });
    r.end();
    const g: Genesis = {
      version,
      networkId,
      config,
      hitRateDenominator,
      startMs,
      skewMs,
      epochReward,
      initialWeights,
      timings: {
        commitMs: commitMs!,
        revealMs: revealMs!,
        settleMs: settleMs!,
        sprintMs: sprintMs!,
        proofMs: proofMs!,
        validationMs: validationMs!,
        syncMs: syncMs!,
        certifyMs: certifyMs!,
        epochMs: epochMs!,
      },
    };
    checkGenesis(g);
    return g;
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `genesis: ${e.message}`);
    throw e;
  }
}

/** SHA-256(utf8("sprintnet/genesis/v1") ‖ encodeGenesis(g)): the hash "before epoch 0". */
export const genesisHash = (g: Genesis): Uint8Array => sha256(tagged(TAG_GENESIS, encodeGenesis(g)));

export const genesisId = (g: Genesis): string => hex(genesisHash(g)).slice(0, 16);

export const sprintConfig = (g: Genesis): SprintConfig => getConfig(g.config);
export const hitRate = (g: Genesis): number => 1 / g.hitRateDenominator;

/** Absolute times (ms) of one epoch's boundaries. */
export interface EpochSchedule {
  readonly epoch: number;
  readonly start: number;
  readonly commitEnd: number;
  readonly revealEnd: number;
  readonly sprintStart: number;
  readonly sprintEnd: number;
  readonly proofEnd: number;
  readonly validationEnd: number;
  /** The ledger closes: each peer derives the state and signs its hash. */
  readonly close: number;
  readonly certifyEnd: number;
  readonly end: number;
}

export function schedule(g: Genesis, epoch: number): EpochSchedule {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ProtocolError('WRONG_EPOCH', `epoch must be a non-negative integer, got ${epoch}`);
  const t = g.timings;
  const start = g.startMs + epoch * t.epochMs;
  const commitEnd = start + t.commitMs;
  const revealEnd = commitEnd + t.revealMs;
  const sprintStart = revealEnd + t.settleMs;
  const sprintEnd = sprintStart + t.sprintMs;
  const proofEnd = sprintEnd + t.proofMs;
  const validationEnd = proofEnd + t.validationMs;
  const close = validationEnd + t.syncMs;
  const certifyEnd = close + t.certifyMs;
  return { epoch, start, commitEnd, revealEnd, sprintStart, sprintEnd, proofEnd, validationEnd, close, certifyEnd, end: start + t.epochMs };
}

/** The epoch running at `now`, or -1 before genesis. */
export function epochAt(g: Genesis, now: number): number {
  if (now < g.startMs) return -1;
  return Math.floor((now - g.startMs) / g.timings.epochMs);
}

/** JSON form of a genesis (files, network.json): keys as hex. */
export interface GenesisJson {
  version: number;
  networkId: string;
  config: string;
  hitRateDenominator: number;
  startMs: number;
  skewMs: number;
  timings: Timings;
  epochReward: number;
  initialWeights: { publicKey: string; weight: number }[];
}

export function genesisToJson(g: Genesis): GenesisJson {
  return { ...g, timings: { ...g.timings }, initialWeights: g.initialWeights.map((w) => ({ publicKey: hex(w.publicKey), weight: w.weight })) };
}

/** Parses and checks a genesis from JSON (typed BAD_GENESIS on any problem). */
export function genesisFromJson(value: unknown): Genesis {
  const bad = (why: string): never => {
    throw new ProtocolError('BAD_GENESIS', `genesis JSON: ${why}`);
  };
  if (typeof value !== 'object' || value === null) bad('not an object');
  const v = value as Record<string, unknown>;
  const num = (k: string, o: Record<string, unknown> = v) => (typeof o[k] === 'number' ? (o[k] as number) : bad(`${k} must be a number`));
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : bad(`${k} must be a string`));
  const t = (typeof v.timings === 'object' && v.timings !== null ? v.timings : bad('timings missing')) as Record<string, unknown>;
  const timings: Timings = {
    commitMs: num('commitMs', t),
    revealMs: num('revealMs', t),
    settleMs: num('settleMs', t),
    sprintMs: num('sprintMs', t),
    proofMs: num('proofMs', t),
    validationMs: num('validationMs', t),
    syncMs: num('syncMs', t),
    certifyMs: num('certifyMs', t),
    epochMs: num('epochMs', t),
  };
  const weights = Array.isArray(v.initialWeights) ? v.initialWeights : bad('initialWeights must be an array');
  const initialWeights = weights.map((w: unknown, i: number) => {
    const x = w as { publicKey?: unknown; weight?: unknown };
    if (typeof x?.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(x.publicKey) || typeof x.weight !== 'number')
      bad(`initialWeights[${i}] must be { publicKey: 64 hex, weight }`);
    return { publicKey: fromHex(x.publicKey as string, 32, 'BAD_PUBLIC_KEY', 'initial weight key'), weight: x.weight as number };
  });
  const g: Genesis = {
    version: num('version'),
    networkId: str('networkId'),
    config: str('config'),
    hitRateDenominator: num('hitRateDenominator'),
    startMs: num('startMs'),
    skewMs: num('skewMs'),
    timings,
    epochReward: num('epochReward'),
    initialWeights,
  };
  checkGenesis(g);
  return g;
}
