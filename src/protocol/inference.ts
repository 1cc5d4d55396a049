/**
 * Split-inference credit in the epoch ledger (docs/protocol.md §9a, docs/split-inference.md §7).
 *
 * The ledger cannot re-run a model: it has no weights and must derive the same state on every
 * peer, including browsers that hold none. So the re-run is done by **weighted validators that
 * hold the model**, each on its own sample, and the ledger counts their signed verdicts, the way it
 * counts Sprint validations. What the ledger checks itself, from the bytes alone: both signatures
 * of the proof (volunteer's receipt, user's proof), user ≠ volunteer, the proof names this genesis
 * (so a session is credited in one genesis of a network id only), the proof's timestamp in
 * [start, proofEnd) of the epoch and the session opened in [start, timestamp + skew] (so a session
 * can be credited in one epoch only, and a proof re-signed later falls outside), one proof per
 * session (two different proofs of one session credit nothing), and verdicts from weighted keys
 * that are neither party, a consistent one re-running exactly min(INFERENCE_SAMPLE, decode steps)
 * steps. A proof is credited when at least MIN_INFERENCE_VALIDATORS distinct validators found it
 * consistent and they hold more than half of the weight that judged it. Like the rest of the
 * ledger the result depends only on the set of messages: everything is grouped and sorted by id.
 */
import { CLOCK_SKEW_MS } from '../split/constants.ts';
import { Phase } from '../split/codec.ts';
import { decodeProof, genesisProblem, proofId, signatureProblem, type ComputeProof } from '../split/proof.ts';
import { hex } from './bytes.ts';
import type { Verifier } from './crypto.ts';
import { genesisHash, schedule, type Genesis } from './genesis.ts';
import { INFERENCE_SAMPLE, InferenceVerdict, MAX_INFERENCE_SESSIONS, MIN_INFERENCE_VALIDATORS } from './inference-constants.ts';
import type { InferenceMessage, InferenceVerdictMessage } from './messages.ts';

export type InferenceOutcome =
  'credited' | 'bad-signature' | 'self-dealing' | 'wrong-genesis' | 'out-of-window' | 'conflicting' | 'unvalidated' | 'rejected' | 'over-cap';

export interface InferenceProofReport {
  /** Hex of src/split proofId. */
  readonly id: string;
  readonly volunteer: string;
  readonly user: string;
  readonly flops: bigint;
  readonly outcome: InferenceOutcome;
  readonly consistentWeight: number;
  readonly verdictWeight: number;
}

export interface InferenceCredit {
  readonly flops: bigint;
  readonly sessions: number;
}

export interface InferenceDerivation {
  /** Per volunteer (hex key), sorted by key. */
  readonly credits: ReadonlyMap<string, InferenceCredit>;
  /** Every distinct proof of the epoch, sorted by id. */
  readonly reports: readonly InferenceProofReport[];
}

/**
 * Why an inference message can never count in the ledger of genesis hash `own` (its proof names
 * another genesis, or none), or null. The host refuses such a message on receipt (BAD_GENESIS).
 */
export const inferenceGenesisProblem = (own: Uint8Array, m: InferenceMessage): string | null => genesisProblem(decodeProof(m.proof), own)?.detail ?? null;

/**
 * Why the proof an inference message carries is not signed by both its parties (or its user deals
 * with itself), or null: the ledger reports such a proof `bad-signature` and credits nothing, so the
 * host refuses it on receipt (BAD_SIGNATURE) instead of keeping, storing and serving it.
 */
export const inferenceSignatureProblem = (g: Genesis, m: InferenceMessage, verifier: Verifier): string | null =>
  signatureProblem(decodeProof(m.proof), g.networkId, verifier)?.detail ?? null;

/** How many decode steps a consistent verdict on `p` must have re-run. */
export const requiredChecks = (p: ComputeProof): number => Math.min(INFERENCE_SAMPLE, p.receipt.steps.filter((s) => s.phase === Phase.decode).length);

const byKey = <T>(a: [string, T], b: [string, T]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * The inference credit of `epoch` from the epoch's inference messages and verdicts (signatures of
 * the messages themselves already verified, any order, repeats allowed) and the weights in force.
 */
/**
 * The verdicts on each proof (hex proof id), one per validator: a validator that signed two
 * different verdicts on one proof is not counted on it. Lists in the order the verdicts came.
 */
export function verdictsByProof(verdicts: Iterable<InferenceVerdictMessage>): Map<string, InferenceVerdictMessage[]> {
  const verdictOf = new Map<string, InferenceVerdictMessage | 'equivocated'>();
  for (const v of verdicts) {
    const key = `${hex(v.proofId)}/${hex(v.sender)}`;
    const have = verdictOf.get(key);
    if (have === 'equivocated') continue;
    if (!have) verdictOf.set(key, v);
    else if (have.bodyKey !== v.bodyKey) verdictOf.set(key, 'equivocated');
  }
  const on = new Map<string, InferenceVerdictMessage[]>();
  for (const [key, v] of verdictOf) {
    if (v === 'equivocated') continue;
    const id = key.slice(0, key.indexOf('/'));
    on.set(id, [...(on.get(id) ?? []), v]);
  }
  return on;
}

export function deriveInference(
  g: Genesis,
  epoch: number,
  messages: readonly InferenceMessage[],
  verdicts: readonly InferenceVerdictMessage[],
  weights: ReadonlyMap<string, number>,
  verifier: Verifier,
): InferenceDerivation {
  const s = schedule(g, epoch);
  const ownGenesis = genesisHash(g);
  // Distinct proofs: the same bytes published by both parties, or twice, are one proof.
  const proofs = new Map<string, ComputeProof>();
  for (const m of messages) {
    const p = decodeProof(m.proof);
    proofs.set(hex(proofId(p)), p);
  }
  const reports = new Map<string, InferenceProofReport>();
  const report = (id: string, p: ComputeProof, outcome: InferenceOutcome, cw = 0, vw = 0) =>
    reports.set(id, {
      id,
      volunteer: hex(p.receipt.volunteer),
      user: hex(p.receipt.user),
      flops: p.receipt.flops,
      outcome,
      consistentWeight: cw,
      verdictWeight: vw,
    });

  const bySession = new Map<string, [string, ComputeProof][]>();
  for (const [id, p] of [...proofs].sort(byKey)) {
    const problem = signatureProblem(p, g.networkId, verifier);
    if (problem) {
      report(id, p, problem.reason === 'self-dealing' ? 'self-dealing' : 'bad-signature');
      continue;
    }
    // Signed for another genesis (or none): it may count there, never here as well.
    if (genesisProblem(p, ownGenesis)) {
      report(id, p, 'wrong-genesis');
      continue;
    }
    const t = p.timestampMs;
    if (t < s.start || t >= s.proofEnd || p.receipt.openedAtMs < s.start || p.receipt.openedAtMs > t + CLOCK_SKEW_MS) {
      report(id, p, 'out-of-window');
      continue;
    }
    const key = hex(p.receipt.user) + hex(p.receipt.sessionId);
    bySession.set(key, [...(bySession.get(key) ?? []), [id, p]]);
  }

  const verdictsOn = verdictsByProof(verdicts);

  const totals = new Map<string, { flops: bigint; sessions: number }>();
  for (const [, list] of [...bySession].sort(byKey)) {
    if (list.length > 1) {
      for (const [id, p] of list) report(id, p, 'conflicting');
      continue;
    }
    const [id, p] = list[0]!;
    const parties = new Set([hex(p.receipt.user), hex(p.receipt.volunteer)]);
    const need = requiredChecks(p);
    let vw = 0;
    let cw = 0;
    let consistent = 0;
    for (const v of verdictsOn.get(id) ?? []) {
      const key = hex(v.sender);
      const w = weights.get(key) ?? 0;
      if (w <= 0 || parties.has(key)) continue;
      if (v.verdict === InferenceVerdict.consistent && v.checked !== need) continue;
      if (v.verdict === InferenceVerdict.inconsistent && v.checked > need) continue;
      vw += w;
      if (v.verdict === InferenceVerdict.consistent) {
        cw += w;
        consistent++;
      }
    }
    if (vw === 0) {
      report(id, p, 'unvalidated');
      continue;
    }
    if (consistent < MIN_INFERENCE_VALIDATORS || !(2 * cw > vw)) {
      report(id, p, 'rejected', cw, vw);
      continue;
    }
    const volunteer = hex(p.receipt.volunteer);
    const t = totals.get(volunteer) ?? { flops: 0n, sessions: 0 };
    if (t.sessions >= MAX_INFERENCE_SESSIONS) {
      report(id, p, 'over-cap', cw, vw);
      continue;
    }
    totals.set(volunteer, { flops: t.flops + p.receipt.flops, sessions: t.sessions + 1 });
    report(id, p, 'credited', cw, vw);
  }
  return {
    credits: new Map([...totals].sort(byKey)),
    reports: [...reports.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}
