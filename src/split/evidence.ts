/**
 * The two calls after a session: the user submits its signed proof to the volunteer (which
 * publishes it to the ledger), and a validator fetches the session's evidence from the volunteer
 * to re-run its sample (docs/split-inference.md §7). Both ride the same sealed `split-infer`
 * request/response as the session.
 */
import { decodeAnswer, encodeRequest, type SplitAnswer } from './codec.ts';
import { SplitError } from './errors.ts';
import type { ComputeProof } from './proof.ts';
import type { SplitTransport } from './transport.ts';
import type { Evidence } from './verify.ts';

async function ask<K extends SplitAnswer['kind']>(t: SplitTransport, request: Uint8Array, kind: K): Promise<Extract<SplitAnswer, { kind: K }>> {
  const a = decodeAnswer(await t.call(request));
  if (a.kind === 'error') throw new SplitError(a.code, `${t.label}: ${a.message}`);
  if (a.kind !== kind) throw new SplitError('BAD_RESPONSE', `${t.label} answered ${a.kind}, expected ${kind}`);
  return a as Extract<SplitAnswer, { kind: K }>;
}

/** Hands the proof to the volunteer that signed its receipt; returns the volunteer's note ("published for epoch 3"). */
export async function submitProof(t: SplitTransport, proof: Uint8Array): Promise<string> {
  return (await ask(t, encodeRequest({ kind: 'submit', proof }), 'submitted')).note;
}

/**
 * The evidence of `proof` for the sampled steps. Only its shape is checked here: checkConsistency
 * checks it against the proof's roots, so a volunteer that sends other bytes fails there.
 */
export async function fetchEvidence(t: SplitTransport, proof: ComputeProof, sample: readonly number[]): Promise<Evidence> {
  const steps = [...new Set(sample)].sort((a, b) => a - b);
  const a = await ask(t, encodeRequest({ kind: 'evidence', user: proof.receipt.user, sessionId: proof.receipt.sessionId, steps }), 'evidence');
  const n = proof.receipt.steps.length;
  if (a.hk.length !== n || a.outLeaves.length !== n || a.logits.length !== steps.length) {
    throw new SplitError(
      'BAD_RESPONSE',
      `evidence covers ${a.hk.length} steps and ${a.logits.length} logits, the proof has ${n} steps and the sample ${steps.length}`,
    );
  }
  return { hk: a.hk, outLeaves: a.outLeaves, logits: new Map(steps.map((i, j) => [i, a.logits[j]!])) };
}
