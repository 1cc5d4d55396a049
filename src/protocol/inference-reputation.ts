/**
 * Inference-specific reputation (docs/split-inference.md §9, §12): per volunteer, how many of its
 * sessions the weighted validators judged consistent, inconsistent or invalid, from the
 * `inference` and `inferenceVerdict` messages of any set of epochs (the pool, or stored messages).
 *
 * The counting follows the ledger's (inference.ts) so that nobody can move a volunteer's record
 * alone:
 * - a proof counts only if both signatures hold, user ≠ volunteer and it names this genesis (an
 *   invented proof naming a volunteer, judged invalid, must not lower its record);
 * - one verdict per (validator, proof), a validator that signed two different verdicts on a proof
 *   is not counted on it; only keys with voting weight in the verdict's epoch, other than the two
 *   parties;
 * - a session (user key ‖ session id) is judged by the weight of its counted verdicts: consistent
 *   when consistent verdicts hold more than half of it, else inconsistent or invalid, whichever
 *   holds more (inconsistent on a tie). Several proofs of one session (re-signed receipts) count as
 *   one session, judged by its worst proof. A session nobody with weight judged is `unjudged`.
 * Pure and order-independent: the same set of messages gives the same records.
 */
import { decodeProof, genesisProblem, proofId, signatureProblem } from '../split/proof.ts';
import { hex } from './bytes.ts';
import type { Verifier } from './crypto.ts';
import { genesisHash, type Genesis } from './genesis.ts';
import { InferenceVerdict } from './inference-constants.ts';
import { verdictsByProof } from './inference.ts';
import type { InferenceMessage, InferenceVerdictMessage, Message } from './messages.ts';

export interface InferenceRecord {
  /** The volunteer's Ed25519 key (hex). */
  readonly volunteer: string;
  readonly consistent: number;
  readonly inconsistent: number;
  readonly invalid: number;
  /** Sessions with a valid proof and no counted verdict yet. */
  readonly unjudged: number;
}

type Judged = 'consistent' | 'inconsistent' | 'invalid' | 'unjudged';
const WORST: readonly Judged[] = ['invalid', 'inconsistent', 'consistent', 'unjudged'];

export interface ReputationInput {
  /** The ledger counted: its network id signs the proofs, and they must name its hash. */
  readonly genesis: Genesis;
  /** Messages of any kinds and epochs (others are ignored), signatures of the messages already verified. */
  readonly messages: Iterable<Message>;
  /** Voting weights in force in an epoch. */
  readonly weightsIn: (epoch: number) => ReadonlyMap<string, number>;
  readonly verifier: Verifier;
}

/** Per volunteer (hex key), sorted by key. */
export function inferenceReputation(input: ReputationInput): Map<string, InferenceRecord> {
  const proofs = new Map<string, InferenceMessage>();
  const verdicts: InferenceVerdictMessage[] = [];
  for (const m of input.messages) {
    if (m.kind === 'inference') proofs.set(hex(proofId(decodeProof(m.proof))), m);
    else if (m.kind === 'inferenceVerdict') verdicts.push(m);
  }

  const on = verdictsByProof(verdicts);

  const weights = new Map<number, ReadonlyMap<string, number>>();
  const weightIn = (epoch: number, key: string): number => {
    let w = weights.get(epoch);
    if (!w) weights.set(epoch, (w = input.weightsIn(epoch)));
    return w.get(key) ?? 0;
  };

  // Session key → [volunteer, worst judgement of its proofs].
  const sessions = new Map<string, [string, Judged]>();
  const own = genesisHash(input.genesis);
  for (const [id, m] of proofs) {
    const p = decodeProof(m.proof);
    if (signatureProblem(p, input.genesis.networkId, input.verifier) || genesisProblem(p, own)) continue;
    const parties = new Set([hex(p.receipt.user), hex(p.receipt.volunteer)]);
    let [c, inc, inv] = [0, 0, 0];
    for (const v of on.get(id) ?? []) {
      const sender = hex(v.sender);
      const w = weightIn(v.epoch, sender);
      if (w <= 0 || parties.has(sender)) continue;
      if (v.verdict === InferenceVerdict.consistent) c += w;
      else if (v.verdict === InferenceVerdict.inconsistent) inc += w;
      else inv += w;
    }
    const total = c + inc + inv;
    const judged: Judged = total === 0 ? 'unjudged' : 2 * c > total ? 'consistent' : inv > inc ? 'invalid' : 'inconsistent';
    const session = hex(p.receipt.user) + hex(p.receipt.sessionId);
    const have = sessions.get(session);
    const volunteer = hex(p.receipt.volunteer);
    if (!have || WORST.indexOf(judged) < WORST.indexOf(have[1])) sessions.set(session, [volunteer, judged]);
  }

  const out = new Map<string, { consistent: number; inconsistent: number; invalid: number; unjudged: number }>();
  for (const [volunteer, judged] of sessions.values()) {
    const r = out.get(volunteer) ?? { consistent: 0, inconsistent: 0, invalid: 0, unjudged: 0 };
    r[judged]++;
    out.set(volunteer, r);
  }
  return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([volunteer, r]) => [volunteer, { volunteer, ...r }]));
}

/**
 * One number for ranking (src/split/router-rank.ts): sessions judged consistent minus twice those
 * judged inconsistent or invalid (a caught lie costs more than an honest session earns), 0 for a
 * volunteer never judged. RankInput has no field for it yet: a caller can rank on it by passing
 * `standing: { ...ledgerStanding, reputation: inferenceScore(records.get(volunteerKeyHex)) }`
 * (or add both), or router-rank can take it as a key of its own between tier and reputation.
 */
export const inferenceScore = (r: InferenceRecord | undefined): number => (r ? r.consistent - 2 * (r.inconsistent + r.invalid) : 0);
