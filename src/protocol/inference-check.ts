/**
 * The two signed messages that carry split inference into the ledger (inference.ts), and what a
 * validator that holds a model does with a proof: checkProof with its own model record (τ, FLOPs,
 * L, V), then a re-run of its own sample of decode steps (sampleSteps seeded with its key, so the
 * prover cannot know it) from the evidence, and a verdict. A validator without the model, or that
 * cannot get the evidence, abstains: no verdict at all, so it neither helps nor blocks the credit.
 */
import type { KvCache } from '../llm/model-types.ts';
import type { SplitModel } from '../split/engines.ts';
import { checkProof, decodeProof, genesisProblem, proofId, sampleSteps, type ComputeProof, type ModelRecord } from '../split/proof.ts';
import { checkConsistency, type Evidence } from '../split/verify.ts';
import type { Signer, Verifier } from './crypto.ts';
import { ProtocolError } from './errors.ts';
import { epochAt, genesisHash, schedule, type Genesis } from './genesis.ts';
import { INFERENCE_SAMPLE, InferenceVerdict, type InferenceVerdictCode } from './inference-constants.ts';
import { signMessage, type InferenceMessage, type InferenceVerdictMessage } from './messages.ts';

/** The epoch a proof belongs to: the one whose [start, proofEnd) holds its timestamp. Throws OUT_OF_WINDOW otherwise. */
export function inferenceEpoch(g: Genesis, proof: ComputeProof): number {
  const e = epochAt(g, proof.timestampMs);
  if (e < 0 || proof.timestampMs >= schedule(g, e).proofEnd) {
    throw new ProtocolError('OUT_OF_WINDOW', `a proof stamped ${proof.timestampMs} falls in no epoch's [start, proof deadline): start the session again`);
  }
  return e;
}

/**
 * The protocol message carrying a proof; `signer` must be its user or its volunteer. Throws
 * BAD_GENESIS when the proof names another genesis than `g` (or none): `g`'s ledger would not credit it.
 */
export async function signInference(signer: Signer, g: Genesis, proofBytes: Uint8Array, now: number): Promise<InferenceMessage> {
  const proof = decodeProof(proofBytes);
  const wrong = genesisProblem(proof, genesisHash(g));
  if (wrong) throw new ProtocolError('BAD_GENESIS', wrong.detail);
  const epoch = inferenceEpoch(g, proof);
  return signMessage(signer, g, { kind: 'inference', epoch, sender: signer.publicKey, timestampMs: now, proof: proofBytes });
}

export interface InferenceJudgement {
  readonly verdict: InferenceVerdictCode;
  /** Decode steps re-run. */
  readonly checked: number;
  readonly detail: string;
}

/** A model this validator holds, with the τ published for it. */
export interface HeldModel<K extends KvCache = KvCache> {
  readonly record: ModelRecord;
  readonly model: SplitModel<K>;
  readonly normWeight: ArrayLike<number>;
}

export interface JudgeOptions {
  /** The ledger judged for: its network id signs, its hash must be the one the proof names. */
  readonly genesis: Genesis;
  readonly verifier: Verifier;
  /** The validator's key: the seed of its sample. */
  readonly seed: Uint8Array;
  /** The model of a hash, if this validator holds it. */
  readonly model: (hash: Uint8Array) => HeldModel | undefined;
  /** h_k, output leaves and the sampled steps' logits (from the volunteer); null when nobody serves them. */
  readonly evidence: (proof: ComputeProof, sample: readonly number[]) => Promise<Evidence | null>;
}

/** The validator's judgement of a proof, or null when it abstains (no model, no evidence). */
export async function judgeInference(proofBytes: Uint8Array, o: JudgeOptions): Promise<InferenceJudgement | null> {
  const p = decodeProof(proofBytes);
  const held = o.model(p.receipt.modelHash);
  if (!held) return null;
  const record = (h: Uint8Array) => (h.every((v, i) => v === held.record.hash[i]) ? held.record : undefined);
  const checked = checkProof(p, o.genesis.networkId, record, o.verifier, genesisHash(o.genesis));
  if (!checked.ok) return { verdict: InferenceVerdict.invalid, checked: 0, detail: `${checked.reason}: ${checked.detail}` };
  const sample = sampleSteps(p, o.seed, INFERENCE_SAMPLE);
  // A proof with no decode step has nothing to re-run here, and no verdict can credit it (a consistent one must check ≥ 1).
  if (sample.length === 0) return { verdict: InferenceVerdict.invalid, checked: 0, detail: 'no decode step to re-run' };
  const evidence = await o.evidence(p, sample);
  if (!evidence) return null;
  const c = await checkConsistency(p, evidence, sample, { model: held.model, normWeight: held.normWeight });
  return c.ok
    ? { verdict: InferenceVerdict.consistent, checked: sample.length, detail: `re-ran steps ${c.checked.join(', ')}` }
    : { verdict: InferenceVerdict.inconsistent, checked: sample.length, detail: `step ${c.step}: ${c.detail}` };
}

export async function signVerdict(
  signer: Signer,
  g: Genesis,
  epoch: number,
  proofBytes: Uint8Array,
  j: InferenceJudgement,
  now: number,
): Promise<InferenceVerdictMessage> {
  return signMessage(signer, g, {
    kind: 'inferenceVerdict',
    epoch,
    sender: signer.publicKey,
    timestampMs: now,
    proofId: proofId(decodeProof(proofBytes)),
    verdict: j.verdict,
    checked: j.checked,
  });
}
