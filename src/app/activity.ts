/**
 * What a screen shows about one host's part in the protocol, read from the messages a ProtocolHost
 * holds (its pool keeps the last few epochs) and the states it derived: its proofs, the validations
 * it published and those it received, the weights table with the evidence behind fraud flags, and
 * the epoch history. Plain data, so UI stores can copy it.
 */
import { KEEP_EPOCHS, type EpochView, type ProtocolHost } from '../protocol/host.ts';
import { Flag, flopsToCu } from '../protocol/ledger.ts';
import { FRAUD_VERDICTS, Verdict, type Message, type ProofMessage } from '../protocol/messages.ts';
import { toHex } from '../sprint/bytes.ts';

/** Epochs whose messages a host keeps (its pool is pruned after them): the activity lists reach back this far. */
export const ACTIVITY_EPOCHS = KEEP_EPOCHS;

const FLAGS = Object.entries(Flag) as [string, number][];
const VERDICT_NAMES = Object.fromEntries(Object.entries(Verdict).map(([name, code]) => [code, name])) as Record<number, string>;

export interface VerdictView {
  readonly epoch: number;
  /** Validator (for received verdicts) or judged host (for given ones), hex key. */
  readonly peer: string;
  readonly verdict: string;
  readonly checked: number;
  readonly mismatches: number;
}

export interface ProofView {
  readonly epoch: number;
  readonly count: number;
  readonly tried: number;
  readonly root: string;
}

export interface WeightRow {
  readonly publicKey: string;
  /** Weight earned for the next epoch, and the weight it voted with in this one. */
  readonly weight: number;
  readonly votingWeight: number;
  readonly reputation: number;
  /** Nonces its proof claimed, and those credited after validation. */
  readonly claimed: number;
  readonly credited: number;
  readonly flags: string[];
  readonly cuTotal: number;
  /** Split-inference compute credited (docs/protocol.md §9a): CU in total and this epoch, and sessions this epoch. */
  readonly inferenceCuTotal: number;
  readonly inferenceCu: number;
  readonly inferenceSessions: number;
  readonly vested: number;
  readonly pending: number;
  /** Validators' weight behind the outcome (when this peer derived the state itself). */
  readonly tally?: { validators: number; validatingWeight: number; acceptWeight: number; fraudWeight: number };
  /** For a fraud flag: the verdicts that said it lied. */
  readonly evidence?: VerdictView[];
}

export interface LedgerView {
  readonly epoch: number;
  readonly hash: string;
  readonly certificate: EpochView['certificate'];
  readonly rows: WeightRow[];
}

export interface EpochSummary {
  readonly epoch: number;
  readonly hash: string;
  readonly certificate: EpochView['certificate'];
  readonly hosts: number;
  readonly totalWeight: number;
  /** This host's row, if it is in the state. */
  readonly mine: { weight: number; claimed: number; credited: number; flags: string[] } | null;
}

export interface Activity {
  readonly proofs: ProofView[];
  readonly validationsGiven: VerdictView[];
  readonly validationsReceived: VerdictView[];
}

const flagNames = (bits: number): string[] => FLAGS.filter(([, bit]) => bits & bit).map(([n]) => n);

function verdictsAbout(messages: readonly Message[], host: string): VerdictView[] {
  const out: VerdictView[] = [];
  for (const m of messages) {
    if (m.kind !== 'validation') continue;
    for (const e of m.entries) {
      if (toHex(e.host) === host)
        out.push({
          epoch: m.epoch,
          peer: toHex(m.sender),
          verdict: VERDICT_NAMES[e.verdict] ?? String(e.verdict),
          checked: e.checked,
          mismatches: e.mismatches,
        });
    }
  }
  return out;
}

export function ledgerView(host: ProtocolHost, v: EpochView): LedgerView {
  const messages = host.pool.messages(v.epoch);
  const rows = v.state.hosts.map((h): WeightRow => {
    const key = toHex(h.publicKey);
    const t = v.derivation?.tallies.get(key);
    const fraud = (h.flags & Flag.fraud) !== 0;
    return {
      publicKey: key,
      weight: h.weight,
      votingWeight: h.votingWeight,
      reputation: h.reputation,
      claimed: h.claimed,
      credited: h.accepted,
      flags: flagNames(h.flags),
      cuTotal: flopsToCu(h.totalFlops),
      inferenceCuTotal: flopsToCu(h.totalInferenceFlops),
      inferenceCu: flopsToCu(h.inferenceFlops),
      inferenceSessions: h.inferenceSessions,
      vested: h.vested,
      pending: h.pending.reduce((s, x) => s + x.amount, 0),
      ...(t ? { tally: { validators: t.validators, validatingWeight: t.validatingWeight, acceptWeight: t.acceptWeight, fraudWeight: t.fraudWeight } } : {}),
      ...(fraud ? { evidence: verdictsAbout(messages, key).filter((x) => FRAUD_VERDICTS.has(Verdict[x.verdict as keyof typeof Verdict])) } : {}),
    };
  });
  return { epoch: v.epoch, hash: v.hash, certificate: v.certificate, rows };
}

/** This host's proofs and verdicts over the epochs its pool still holds. */
export function activityOf(host: ProtocolHost): Activity {
  const me = host.key;
  const proofs: ProofView[] = [];
  const given: VerdictView[] = [];
  const received: VerdictView[] = [];
  for (const e of host.pool.epochs()) {
    const messages = host.pool.messages(e);
    for (const m of messages) {
      if (toHex(m.sender) !== me) continue;
      if (m.kind === 'proof') proofs.push(proofView(m));
      if (m.kind === 'validation') {
        for (const x of m.entries)
          given.push({ epoch: e, peer: toHex(x.host), verdict: VERDICT_NAMES[x.verdict] ?? String(x.verdict), checked: x.checked, mismatches: x.mismatches });
      }
    }
    received.push(...verdictsAbout(messages, me));
  }
  return { proofs, validationsGiven: given, validationsReceived: received };
}

const proofView = (m: ProofMessage): ProofView => ({ epoch: m.epoch, count: m.count, tried: m.noncesTried, root: toHex(m.root) });

/** The last `limit` derived epochs, newest first. */
export function historyOf(host: ProtocolHost, limit = 20): EpochSummary[] {
  const out: EpochSummary[] = [];
  for (let e = host.head; e >= 0 && out.length < limit; e--) {
    const v = host.view(e);
    if (!v) continue;
    const mine = v.state.hosts.find((h) => toHex(h.publicKey) === host.key);
    out.push({
      epoch: e,
      hash: v.hash,
      certificate: v.certificate,
      hosts: v.state.hosts.length,
      totalWeight: v.state.hosts.reduce((s, h) => s + h.weight, 0),
      mine: mine ? { weight: mine.weight, claimed: mine.claimed, credited: mine.accepted, flags: flagNames(mine.flags) } : null,
    });
  }
  return out;
}
