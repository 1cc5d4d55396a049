/**
 * The epoch ledger (docs/protocol.md §"State derivation"): the state after epoch e is a pure
 * function of the state after epoch e−1 and the *set* of valid signed messages of epoch e. The
 * derivation groups and sorts everything by key and id, so the order in which messages arrived,
 * and repeated copies, never change a byte of the result, and `stateHash` is the same on every
 * peer that holds the same set.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { flopsPerNonce } from '../sprint/config.ts';
import { mismatchLimit } from '../sprint/validate.ts';
import { MessageType } from '../wallet/signing.ts';
import { BPS, HASH_BYTES, KEY_BYTES, MAX_HOSTS, MAX_TRANCHES, REPUTATION_MAX, TAG_STATE, VALIDATOR_SHARE_BPS, VEST_EPOCHS } from './constants.ts';
import type { Verifier } from './crypto.ts';
import { ProtocolError } from './errors.ts';
import { genesisHash, sprintConfig, type Genesis } from './genesis.ts';
import {
  FRAUD_VERDICTS,
  Verdict,
  type CommitMessage,
  type InferenceMessage,
  type InferenceVerdictMessage,
  type Message,
  type ProofMessage,
  type RevealMessage,
  type ValidationEntry,
  type ValidationMessage,
} from './messages.ts';
import { seedCommitment, sprintSeed } from './seed.ts';
import { effectiveRateBps, isSelected, lotteryMessage, sampleSize } from './selection.ts';
import { compareBytes, equalBytes, hex, hexBytes, tagged } from './bytes.ts';
import { inWindow } from './windows.ts';
import { deriveInference, type InferenceProofReport } from './inference.ts';

/** Per-epoch flags of a host (bit field). */
export const Flag = {
  /** Its proof was accepted by more than half of the weight that validated it. */
  accepted: 1,
  /** More than half of the validating weight found it lying (mismatch, duplicate, malformed). */
  fraud: 2,
  /** It committed to a seed secret and did not reveal it: its next weight is forfeited. */
  withheld: 4,
  /** It signed two different messages of one kind for this epoch. */
  equivocated: 8,
  /** Rejected without proof of lying (its list was unavailable to most validators). */
  rejected: 16,
  /** Nobody with weight validated its proof: not accepted, not penalised. */
  unvalidated: 32,
  /** Its proof used another seed than the epoch's: ignored. */
  wrongSeed: 64,
  /** Its voting weight carries over to the next epoch: nobody earned weight, or nobody could check the only weighted host (§9). */
  carried: 128,
} as const;

/** The flags that record a fault of the host (lying, withholding, equivocating); the others record an outcome. */
export const FAULT_FLAGS = Flag.fraud | Flag.withheld | Flag.equivocated;

/** The names of the fault flags set in `bits` (what puts a volunteer in the split ranking's `flagged` tier). */
export const faultFlagNames = (bits: number): string[] =>
  Object.entries(Flag)
    .filter(([, bit]) => bits & bit & FAULT_FLAGS)
    .map(([name]) => name);

export interface Tranche {
  readonly epoch: number;
  readonly amount: number;
}

export interface HostRecord {
  readonly publicKey: Uint8Array;
  /** Weight in force during this epoch (validation and certificate votes). */
  readonly votingWeight: number;
  /** Weight for the next epoch: its accepted nonces, unless forfeited. */
  readonly weight: number;
  /** Accepted epochs, capped at REPUTATION_MAX; reset to 0 by fraud or an unshown claim (§9). */
  readonly reputation: number;
  readonly flags: number;
  /** Nonces its proof claimed this epoch. */
  readonly claimed: number;
  /** Nonces credited this epoch: the claim less the share that failed re-evaluation (creditedCount). */
  readonly accepted: number;
  /** FLOPs credited this epoch and in total: accepted × (1/p) × FLOPs per nonce. */
  readonly epochFlops: bigint;
  readonly totalFlops: bigint;
  /** Reward units earned this epoch (as host and as validator). */
  readonly reward: number;
  readonly vested: number;
  readonly forfeited: number;
  /** Unvested rewards, oldest first; they vest VEST_EPOCHS epochs after they were earned. */
  readonly pending: readonly Tranche[];
  /** Split-inference FLOPs credited to it as a volunteer this epoch and in total (inference.ts); CU = FLOPs / 10^15. */
  readonly inferenceFlops: bigint;
  readonly totalInferenceFlops: bigint;
  /** Sessions credited this epoch. */
  readonly inferenceSessions: number;
}

export interface EpochState {
  readonly epoch: number;
  readonly prevHash: Uint8Array;
  readonly seed: Uint8Array;
  /** Sorted by key. */
  readonly hosts: readonly HostRecord[];
}

/** Tallies behind a host's outcome, for reports (not part of the state). */
export interface HostTally {
  readonly publicKey: string;
  readonly validatingWeight: number;
  readonly acceptWeight: number;
  readonly fraudWeight: number;
  readonly validators: number;
}

export interface Derivation {
  readonly state: EpochState;
  readonly hash: Uint8Array;
  readonly seed: Uint8Array;
  /** Keys (hex) of the hosts whose valid reveals made the seed. */
  readonly revealers: readonly string[];
  readonly tallies: ReadonlyMap<string, HostTally>;
  /** Every inference proof of the epoch and what became of it (not part of the state). */
  readonly inference: readonly InferenceProofReport[];
}

const ZERO_HOST = (publicKey: Uint8Array): HostRecord => ({
  publicKey,
  votingWeight: 0,
  weight: 0,
  reputation: 0,
  flags: 0,
  claimed: 0,
  accepted: 0,
  epochFlops: 0n,
  totalFlops: 0n,
  reward: 0,
  vested: 0,
  forfeited: 0,
  pending: [],
  inferenceFlops: 0n,
  totalInferenceFlops: 0n,
  inferenceSessions: 0,
});

/** Weights in force during `epoch`: the previous state's next weights, or genesis's. */
export function votingWeights(g: Genesis, prev: EpochState | null, epochCommitters?: Iterable<string>): Map<string, number> {
  const w = new Map<string, number>();
  if (prev) {
    for (const h of prev.hosts) if (h.weight > 0) w.set(hex(h.publicKey), h.weight);
  } else if (g.initialWeights.length > 0) {
    for (const x of g.initialWeights) w.set(hex(x.publicKey), x.weight);
  } else if (epochCommitters) {
    for (const k of epochCommitters) w.set(k, 1); // open join: every epoch-0 committer counts once
  }
  return w;
}

/** The one message per (kind, sender), or 'equivocated' when a sender signed two different bodies. */
export function canonical<M extends Message>(messages: readonly M[]): Map<string, M | 'equivocated'> {
  const out = new Map<string, M | 'equivocated'>();
  for (const m of messages) {
    const key = hex(m.sender);
    const have = out.get(key);
    if (have === 'equivocated') continue;
    if (!have) out.set(key, m);
    else if (have.bodyKey !== m.bodyKey) out.set(key, 'equivocated');
    else if (m.id < have.id) out.set(key, m); // same body, other timestamp: keep the smallest id
  }
  return out;
}

const mulDiv = (a: number, b: number, c: number): number => (c === 0 ? 0 : Number((BigInt(a) * BigInt(b)) / BigInt(c)));

/** A host earns from the host pool when its proof was accepted and it did not withhold its seed secret (§9). */
export const earnsAsHost = (flags: number): boolean => (flags & Flag.accepted) !== 0 && (flags & Flag.withheld) === 0;

/** The host-pool part of a record's reward, given the accepted nonces of every host that earns as one (§9). */
export function hostPoolShare(g: Genesis, r: { readonly flags: number; readonly accepted: number }, acceptedTotal: number): number {
  const hostPool = g.epochReward - mulDiv(g.epochReward, VALIDATOR_SHARE_BPS, BPS);
  return earnsAsHost(r.flags) ? mulDiv(hostPool, r.accepted, acceptedTotal) : 0;
}

/**
 * Derives the state after `epoch`. `messages` are messages whose signatures were verified (any
 * order, repeats allowed); messages of another epoch or outside their window are skipped here too.
 */
export function deriveEpoch(g: Genesis, prev: EpochState | null, epoch: number, messages: Iterable<Message>, verifier: Verifier): Derivation {
  if (prev ? prev.epoch !== epoch - 1 : epoch !== 0)
    throw new ProtocolError('WRONG_EPOCH', `cannot derive epoch ${epoch} from state of epoch ${prev?.epoch ?? 'genesis'}`);
  const prevHash = prev ? stateHash(prev) : genesisHash(g);
  const byKind = {
    commit: [] as CommitMessage[],
    reveal: [] as RevealMessage[],
    proof: [] as ProofMessage[],
    validation: [] as ValidationMessage[],
    inference: [] as InferenceMessage[],
    inferenceVerdict: [] as InferenceVerdictMessage[],
  };
  for (const m of messages) {
    if (m.epoch !== epoch || m.kind === 'vote' || !inWindow(g, m.kind, epoch, m.timestampMs)) continue;
    (byKind[m.kind] as Message[]).push(m);
  }
  const commits = canonical(byKind.commit);
  const committersAll = [...commits.entries()].filter(([, m]) => m !== 'equivocated').map(([k]) => k);
  const weights = votingWeights(g, prev, committersAll);
  const prevHosts = new Map((prev?.hosts ?? []).map((h) => [hex(h.publicKey), h]));
  type Mutable = { -readonly [K in keyof HostRecord]: HostRecord[K] };
  const rec = new Map<string, Mutable>();
  const get = (key: string, publicKey: Uint8Array) => {
    let r = rec.get(key);
    if (!r) {
      const p = prevHosts.get(key) ?? ZERO_HOST(publicKey);
      r = {
        ...p,
        votingWeight: weights.get(key) ?? 0,
        weight: 0,
        flags: 0,
        claimed: 0,
        accepted: 0,
        epochFlops: 0n,
        reward: 0,
        inferenceFlops: 0n,
        inferenceSessions: 0,
      };
      rec.set(key, r);
    }
    return r;
  };
  for (const h of prev?.hosts ?? []) get(hex(h.publicKey), h.publicKey);
  for (const [key, weight] of weights) if (weight > 0) get(key, keyBytes(key));

  // Seed: commits by weighted hosts, reveals that open them.
  const revealsBySender = new Map<string, RevealMessage[]>();
  for (const r of byKind.reveal) {
    const k = hex(r.sender);
    revealsBySender.set(k, [...(revealsBySender.get(k) ?? []), r]);
  }
  const reveals: { publicKey: Uint8Array; secret: Uint8Array }[] = [];
  for (const [key, c] of [...commits.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!(weights.get(key)! > 0)) continue; // a commit without weight is not part of the seed
    const r = get(key, c === 'equivocated' ? keyBytes(key) : c.sender);
    if (c === 'equivocated') {
      r.flags |= Flag.withheld | Flag.equivocated;
      continue;
    }
    const opening = (revealsBySender.get(key) ?? []).find((x) => equalBytes(seedCommitment(g.networkId, epoch, c.sender, x.secret), c.commitment));
    if (opening) reveals.push({ publicKey: c.sender, secret: opening.secret });
    else r.flags |= Flag.withheld;
  }
  const seed = sprintSeed(prevHash, epoch, reveals);

  // Proofs.
  const proofs = new Map<string, ProofMessage>();
  for (const [key, p] of canonical(byKind.proof)) {
    if (p === 'equivocated') {
      get(key, keyBytes(key)).flags |= Flag.equivocated | Flag.fraud;
      continue;
    }
    const r = get(key, p.sender);
    r.claimed = p.count;
    if (!equalBytes(p.seed, seed)) r.flags |= Flag.wrongSeed;
    else if (p.count > 0) proofs.set(key, p);
  }

  // Validations by weighted validators, entries checked against the lottery.
  const validators = [...weights.entries()].filter(([, w]) => w > 0).map(([k]) => k);
  const tally = new Map<string, { vw: number; aw: number; fw: number; uw: number; n: number; samples: Sample[] }>();
  const credits = new Map<string, { host: string; verdict: number }[]>();
  const lotteryDomain = { type: MessageType.ValidationLottery, networkId: g.networkId };
  const payload = lotteryMessage(epoch, seed);
  for (const [vkey, v] of [...canonical(byKind.validation).entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const vw = weights.get(vkey) ?? 0;
    if (vw <= 0) continue;
    if (v === 'equivocated') {
      get(vkey, keyBytes(vkey)).flags |= Flag.equivocated | Flag.fraud;
      continue;
    }
    const value = verifier.lotteryValue(v.binding, lotteryDomain, payload, v.lottery);
    if (!value) continue;
    const counted: { host: string; verdict: number }[] = [];
    for (const e of v.entries) {
      const hkey = hex(e.host);
      const proof = proofs.get(hkey);
      if (!proof || hkey === vkey || hex(e.proofId) !== proof.id) continue;
      const others = validators.length - (weights.get(hkey)! > 0 ? 1 : 0);
      const rate = effectiveRateBps(prevHosts.get(hkey)?.reputation ?? 0, others);
      if (!isSelected(value, e.host, rate)) continue;
      if ((e.verdict === Verdict.ok || e.verdict === Verdict.mismatch) && !sampleDone(e, sampleSize(proof.count))) continue;
      const t = tally.get(hkey) ?? { vw: 0, aw: 0, fw: 0, uw: 0, n: 0, samples: [] };
      t.vw += vw;
      t.n += 1;
      if (e.verdict === Verdict.ok || e.verdict === Verdict.mismatch) t.samples.push({ weight: vw, key: vkey, mismatches: e.mismatches, checked: e.checked });
      if (e.verdict === Verdict.ok) t.aw += vw;
      else if (FRAUD_VERDICTS.has(e.verdict)) t.fw += vw;
      else if (e.verdict === Verdict.unavailable) t.uw += vw;
      tally.set(hkey, t);
      counted.push({ host: hkey, verdict: e.verdict });
    }
    credits.set(vkey, counted);
  }

  // Outcomes.
  const cfg = sprintConfig(g);
  const flopsEach = BigInt(g.hitRateDenominator) * BigInt(flopsPerNonce(cfg));
  let acceptedTotal = 0;
  for (const [key, proof] of proofs) {
    const r = rec.get(key)!;
    const t = tally.get(key);
    if (r.flags & Flag.fraud) continue; // equivocated
    if (!t || t.vw === 0) r.flags |= Flag.unvalidated;
    else if (2 * t.aw > t.vw && creditedCount(proof.count, t.samples) === 0) {
      r.flags |= Flag.fraud; // accepted by k(m), yet not one claimed nonce re-evaluates (k(1) = 2)
    } else if (2 * t.aw > t.vw) {
      r.flags |= Flag.accepted;
      r.accepted = creditedCount(proof.count, t.samples);
      r.epochFlops = BigInt(r.accepted) * flopsEach;
      if (!(r.flags & Flag.withheld)) acceptedTotal += r.accepted;
    } else if (2 * t.fw > t.vw) r.flags |= Flag.fraud;
    else r.flags |= Flag.rejected;
  }

  // Split inference: CU for volunteers whose proofs weighted validators found consistent (no weight, no reward).
  const inference = deriveInference(g, epoch, byKind.inference, byKind.inferenceVerdict, weights, verifier);
  for (const [key, c] of inference.credits) {
    const r = get(key, keyBytes(key));
    r.inferenceFlops = c.flops;
    r.inferenceSessions = c.sessions;
  }

  // Rewards: the host pool by accepted nonces, the validator pool by verdicts that agreed.
  const validatorPool = mulDiv(g.epochReward, VALIDATOR_SHARE_BPS, BPS);
  const agreed = (host: string, verdict: number) => {
    const f = rec.get(host)!.flags;
    return (
      (verdict === Verdict.ok && f & Flag.accepted) || (FRAUD_VERDICTS.has(verdict) && f & Flag.fraud) || (verdict === Verdict.unavailable && f & Flag.rejected)
    );
  };
  const validatorCredits = new Map<string, number>();
  let creditTotal = 0;
  for (const [vkey, list] of credits) {
    if (rec.get(vkey)!.flags & Flag.fraud) continue;
    const c = list.filter((x) => agreed(x.host, x.verdict)).length;
    if (c > 0) {
      validatorCredits.set(vkey, c);
      creditTotal += c;
    }
  }
  for (const [key, r] of rec) {
    r.reward = hostPoolShare(g, r, acceptedTotal) + mulDiv(validatorPool, validatorCredits.get(key) ?? 0, creditTotal);
  }

  const carried = carriedOver(rec.values(), validators.length === 1 ? rec.get(validators[0]!) : undefined);

  // Reputation, weights, vesting, forfeiture.
  const hosts: HostRecord[] = [];
  for (const [key, r] of [...rec.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let { reputation, vested, forfeited } = r;
    let pending = [...r.pending];
    // A claim whose list most of the validating weight was not shown resets reputation, so everyone
    // checks the next one; a second one before any acceptance forfeits like fraud. Otherwise
    // withholding a forged list would cost less than serving it and being caught. Only a strict
    // majority of `unavailable` counts: a tie, or lying `mismatch` votes short of fraud, cost nothing.
    const t = tally.get(key);
    const unshown = (r.flags & Flag.rejected) !== 0 && t !== undefined && 2 * t.uw > t.vw;
    const unshownAgain = unshown && reputation === 0;
    if (r.flags & Flag.fraud || unshownAgain) {
      forfeited += pending.reduce((s, t) => s + t.amount, 0) + r.reward;
      pending = [];
      reputation = 0;
      r.reward = 0;
    } else {
      if (r.flags & Flag.accepted) reputation = Math.min(REPUTATION_MAX, reputation + 1);
      if (unshown) reputation = 0;
      vested += pending.filter((t) => t.epoch <= epoch - VEST_EPOCHS).reduce((s, t) => s + t.amount, 0);
      pending = pending.filter((t) => t.epoch > epoch - VEST_EPOCHS);
      if (r.reward > 0) pending.push({ epoch, amount: r.reward });
    }
    if (carried.has(r)) r.flags |= Flag.carried;
    const weight = carried.has(r) ? r.votingWeight : earnedWeight(r);
    const h: HostRecord = {
      publicKey: r.publicKey,
      votingWeight: r.votingWeight,
      weight,
      reputation,
      flags: r.flags,
      claimed: r.claimed,
      accepted: r.accepted,
      epochFlops: r.epochFlops,
      totalFlops: r.totalFlops + r.epochFlops,
      reward: r.reward,
      vested,
      forfeited,
      pending,
      inferenceFlops: r.inferenceFlops,
      totalInferenceFlops: r.totalInferenceFlops + r.inferenceFlops,
      inferenceSessions: r.inferenceSessions,
    };
    if (isLive(h)) hosts.push(h);
  }
  if (hosts.length > MAX_HOSTS) hosts.length = MAX_HOSTS; // sorted by key: deterministic cut (documented limit)
  const state: EpochState = { epoch, prevHash, seed, hosts };
  const tallies = new Map<string, HostTally>();
  for (const [k, t] of tally) tallies.set(k, { publicKey: k, validatingWeight: t.vw, acceptWeight: t.aw, fraudWeight: t.fw, validators: t.n });
  return { state, hash: stateHash(state), seed, revealers: reveals.map((r) => hex(r.publicKey)).sort(), tallies, inference: inference.reports };
}

/** Weight for the next epoch by the outcome alone: the credited nonces of an accepted claim, unless withheld or fraud (§9). */
const earnedWeight = (r: { readonly flags: number; readonly accepted: number }): number =>
  r.flags & Flag.accepted && !(r.flags & (Flag.withheld | Flag.fraud)) ? r.accepted : 0;

/**
 * The records whose voting weight carries over to the next epoch (§9 "Carry-over", "The only weighted
 * host"): the only weighted host's when its claim went unchecked, and otherwise none, unless nobody
 * earned weight this epoch. Such an epoch proved nobody's work (every weighted host was away
 * through its validation window, the one that stayed could not fetch the others' lists and had
 * nobody to check its own, nobody found a nonce, or a lone weighted host), and taking every weight
 * to 0 would leave no validator and no certifier for ever. Then every weighted host that neither
 * equivocated, committed fraud nor withheld keeps its weight, or, when every one of them withheld,
 * every one that did not equivocate or commit fraud.
 */
function carriedOver<R extends { readonly votingWeight: number; readonly flags: number; readonly accepted: number }>(records: Iterable<R>, lone?: R): Set<R> {
  const all = [...records];
  if (all.some((r) => earnedWeight(r) > 0)) {
    // The only weighted host has nobody to check its claim (no host validates itself): were its
    // weight to go to 0 while the newcomers it validated earn, the two would hand all weight back
    // and forth each epoch, each checked only by the other while the other holds weight.
    const unchecked = lone && lone.flags & Flag.unvalidated && !(lone.flags & (Flag.withheld | Flag.fraud | Flag.equivocated));
    return new Set(unchecked ? [lone] : []);
  }
  const weighted = all.filter((r) => r.votingWeight > 0 && !(r.flags & (Flag.fraud | Flag.equivocated)));
  const revealed = weighted.filter((r) => !(r.flags & Flag.withheld));
  return new Set(revealed.length > 0 ? revealed : weighted);
}

interface Sample {
  readonly weight: number;
  readonly key: string;
  readonly mismatches: number;
  readonly checked: number;
}

/**
 * Nonces credited to an accepted claim: its count less the share that failed re-evaluation,
 * count − ⌈count · f⌉, with f the weighted lower median of the validators' mismatch fractions
 * (ties by validator key). Spec §9's k(m) tolerates k − 1 mismatches so that honest numeric
 * outliers do not reject a claim; this keeps those nonces from earning weight (and k(1) = 2 would
 * otherwise accept a one-nonce forgery). A minority of validators, lenient or harsh, cannot move
 * the median.
 */
/**
 * A sampled verdict counts when it re-ran the whole sample of m, or is a `mismatch` that stopped
 * early, in draw order, once k(m) mismatches decided it (§8 "Stopping early"; checked < m).
 */
export function sampleDone(e: Pick<ValidationEntry, 'verdict' | 'checked' | 'mismatches'>, m: number): boolean {
  return e.checked === m || (e.verdict === Verdict.mismatch && e.checked < m && e.mismatches >= mismatchLimit(m));
}

export function creditedCount(count: number, samples: readonly Sample[]): number {
  if (samples.length === 0) return count;
  const sorted = [...samples].sort((a, b) => a.mismatches * b.checked - b.mismatches * a.checked || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const total = sorted.reduce((s, x) => s + x.weight, 0);
  let acc = 0;
  let median = sorted[0]!;
  for (const x of sorted) {
    acc += x.weight;
    median = x;
    if (2 * acc >= total) break;
  }
  const removed = Number((BigInt(count) * BigInt(median.mismatches) + BigInt(median.checked) - 1n) / BigInt(median.checked));
  return count - removed;
}

/** Hosts with nothing to remember are dropped from the state. */
const isLive = (h: HostRecord): boolean =>
  h.votingWeight > 0 ||
  h.weight > 0 ||
  h.reputation > 0 ||
  h.flags !== 0 ||
  h.vested > 0 ||
  h.forfeited > 0 ||
  h.pending.length > 0 ||
  h.totalFlops > 0n ||
  h.totalInferenceFlops > 0n;

const keyBytes = hexBytes;

function u128(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 128n) throw new RangeError('u128 out of range');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
function readU128(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/**
 * u64 epoch ‖ 32 prevHash ‖ 32 seed ‖ u32 n ‖ n × host, host =
 * 32 key ‖ u64 votingWeight ‖ u64 weight ‖ u16 reputation ‖ u8 flags ‖ u32 claimed ‖ u32 accepted ‖
 * u128 epochFlops ‖ u128 totalFlops ‖ u64 reward ‖ u64 vested ‖ u64 forfeited ‖ u8 t ‖ t × (u64 epoch ‖ u64 amount)
 * ‖ u128 inferenceFlops ‖ u128 totalInferenceFlops ‖ u32 inferenceSessions        (version 2: the last three fields)
 */
export function encodeState(s: EpochState): Uint8Array {
  const w = new BinaryWriter().u64(s.epoch).fixed(s.prevHash, HASH_BYTES).fixed(s.seed, HASH_BYTES).u32(s.hosts.length);
  for (const h of s.hosts) {
    w.fixed(h.publicKey, KEY_BYTES)
      .u64(h.votingWeight)
      .u64(h.weight)
      .u16(h.reputation)
      .u8(h.flags)
      .u32(h.claimed)
      .u32(h.accepted)
      .fixed(u128(h.epochFlops), 16)
      .fixed(u128(h.totalFlops), 16)
      .u64(h.reward)
      .u64(h.vested)
      .u64(h.forfeited)
      .u8(h.pending.length);
    for (const t of h.pending) w.u64(t.epoch).u64(t.amount);
    w.fixed(u128(h.inferenceFlops), 16).fixed(u128(h.totalInferenceFlops), 16).u32(h.inferenceSessions);
  }
  return w.finish();
}

export function decodeState(bytes: Uint8Array): EpochState {
  try {
    const r = new BinaryReader(bytes);
    const epoch = r.u64();
    const prevHash = r.fixed(HASH_BYTES);
    const seed = r.fixed(HASH_BYTES);
    const n = r.u32();
    if (n > MAX_HOSTS) throw new DecodeError(`${n} hosts exceed ${MAX_HOSTS}`);
    const hosts: HostRecord[] = [];
    for (let i = 0; i < n; i++) {
      const publicKey = r.fixed(KEY_BYTES);
      if (i > 0 && compareBytes(hosts[i - 1]!.publicKey, publicKey) >= 0) throw new DecodeError('hosts are not sorted by key');
      const votingWeight = r.u64(),
        weight = r.u64(),
        reputation = r.u16(),
        flags = r.u8(),
        claimed = r.u32(),
        accepted = r.u32();
      const epochFlops = readU128(r.fixed(16)),
        totalFlops = readU128(r.fixed(16));
      const reward = r.u64(),
        vested = r.u64(),
        forfeited = r.u64();
      const t = r.u8();
      if (t > MAX_TRANCHES) throw new DecodeError(`${t} tranches exceed ${MAX_TRANCHES}`);
      const pending: Tranche[] = [];
      for (let j = 0; j < t; j++) pending.push({ epoch: r.u64(), amount: r.u64() });
      const inferenceFlops = readU128(r.fixed(16)),
        totalInferenceFlops = readU128(r.fixed(16)),
        inferenceSessions = r.u32();
      hosts.push({
        publicKey,
        votingWeight,
        weight,
        reputation,
        flags,
        claimed,
        accepted,
        epochFlops,
        totalFlops,
        reward,
        vested,
        forfeited,
        pending,
        inferenceFlops,
        totalInferenceFlops,
        inferenceSessions,
      });
    }
    r.end();
    return { epoch, prevHash, seed, hosts };
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `epoch state: ${e.message}`);
    throw e;
  }
}

/** SHA-256(utf8("sprintnet/epoch-state/v2") ‖ encodeState(s)). */
export const stateHash = (s: EpochState): Uint8Array => sha256(tagged(TAG_STATE, encodeState(s)));

/** Credited compute in CU (10^15 FLOPs), as a float for display; the state keeps exact FLOPs. */
export const flopsToCu = (flops: bigint): number => Number(flops) / 1e15;

export const hostOf = (s: EpochState, publicKey: Uint8Array): HostRecord | undefined => s.hosts.find((h) => equalBytes(h.publicKey, publicKey));

export const totalWeight = (w: ReadonlyMap<string, number>): number => [...w.values()].reduce((a, b) => a + b, 0);
