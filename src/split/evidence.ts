/**
 * The two calls after a session: the user submits its signed proof to the volunteer (which
 * publishes it to the ledger), and a validator fetches the session's evidence from the volunteer
 * to re-run its sample (docs/split-inference.md §7). Both ride the same sealed `split-infer`
 * request/response as the session.
 *
 * Evidence comes in chunks (§7a): a real model's logits alone outweigh one answer. The validator
 * plans every part's length from the receipt, asks for bounded byte ranges, and refuses any chunk
 * whose echo, length or part total differs from the plan, or a plan beyond its cap, with a
 * SplitError. It does not judge the bytes: checkConsistency hashes the assembled parts against the
 * proof's signed roots before anything is re-run, so a chunk changed or moved between requests
 * changes a root and the proof is found inconsistent.
 */
import { decodeAnswer, encodeRequest, EvidencePart, Precision, type EvidenceAnswer, type SplitAnswer } from './codec.ts';
import { HASH_BYTES, MAX_EVIDENCE_CHUNK, MAX_EVIDENCE_FETCH_BYTES, MAX_HIDDEN } from './constants.ts';
import { SplitError } from './errors.ts';
import type { ComputeProof } from './proof.ts';
import type { SplitTransport } from './transport.ts';
import type { Evidence } from './verify.ts';

async function ask<K extends SplitAnswer['kind']>(
  t: SplitTransport,
  request: Uint8Array,
  kind: K,
  signal?: AbortSignal,
): Promise<Extract<SplitAnswer, { kind: K }>> {
  const a = decodeAnswer(await t.call(request, signal));
  if (a.kind === 'error') throw new SplitError(a.code, `${t.label}: ${a.message}`);
  if (a.kind !== kind) throw new SplitError('BAD_RESPONSE', `${t.label} answered ${a.kind}, expected ${kind}`);
  return a as Extract<SplitAnswer, { kind: K }>;
}

/** Hands the proof to the volunteer that signed its receipt; returns the volunteer's note ("published for epoch 3"). */
export async function submitProof(t: SplitTransport, proof: Uint8Array): Promise<string> {
  return (await ask(t, encodeRequest({ kind: 'submit', proof }), 'submitted')).note;
}

export interface FetchEvidenceOptions {
  /** The validator's model's hidden size; without it, D follows from the h_k part's length (and must be whole). */
  readonly hiddenSize?: number;
  /** Bytes asked per chunk, 1 … MAX_EVIDENCE_CHUNK (default). */
  readonly chunkBytes?: number;
  /** Most bytes fetched for one proof (default MAX_EVIDENCE_FETCH_BYTES): a larger plan is a SplitError LIMIT before it is fetched. */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

const wireBytes = (p: Precision): number => (p === Precision.f16 ? 2 : 4);

/**
 * The evidence of `proof` for the sampled steps: every output leaf, h_k of every step, and the
 * logits of each sampled step, fetched in chunks.
 */
export async function fetchEvidence(t: SplitTransport, proof: ComputeProof, sample: readonly number[], options: FetchEvidenceOptions = {}): Promise<Evidence> {
  const r = proof.receipt;
  const n = r.steps.length;
  const steps = [...new Set(sample)].sort((a, b) => a - b);
  for (const i of steps) if (!Number.isInteger(i) || i < 0 || i >= n) throw new SplitError('BAD_ARGUMENT', `sampled step ${i} is not in [0, ${n})`);
  const chunk = options.chunkBytes ?? MAX_EVIDENCE_CHUNK;
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > MAX_EVIDENCE_CHUNK)
    throw new SplitError('BAD_ARGUMENT', `chunk of ${chunk} bytes is not in [1, ${MAX_EVIDENCE_CHUNK}]`);
  const cap = options.maxBytes ?? MAX_EVIDENCE_FETCH_BYTES;
  const D = options.hiddenSize;
  if (D !== undefined && !(Number.isInteger(D) && D >= 1 && D <= MAX_HIDDEN))
    throw new SplitError('BAD_ARGUMENT', `hidden size ${D} is not in [1, ${MAX_HIDDEN}]`);

  // h_k bytes per unit of D: Σ count × (2 or 4) over the steps.
  const hkUnits = r.steps.reduce((sum, s) => sum + s.count * wireBytes(s.precision), 0);
  const leafBytes = n * HASH_BYTES;
  const minimalLogits = steps.reduce((sum, i) => sum + r.vocab * wireBytes(r.steps[i]!.precision), 0);
  let fetched = 0;
  const reserve = (total: number, stillToCome: number): void => {
    if (fetched + total + stillToCome > cap)
      throw new SplitError('LIMIT', `the evidence needs at least ${fetched + total + stillToCome} bytes, over the cap of ${cap}`);
    fetched += total;
  };
  reserve(0, leafBytes + hkUnits * (D ?? 1) + minimalLogits);

  /** One part, chunk by chunk; `expect` says what is wrong with an announced total (null: fine). */
  const fetchPart = async (part: EvidencePart, step: number, expect: (total: number) => string | null, stillToCome: number): Promise<Uint8Array> => {
    let out: Uint8Array | null = null;
    let offset = 0;
    do {
      const length: number = out ? Math.min(chunk, out.length - offset) : chunk;
      const a: EvidenceAnswer = await ask(
        t,
        encodeRequest({ kind: 'evidence', user: r.user, sessionId: r.sessionId, part, step, offset, length }),
        'evidence',
        options.signal,
      );
      if (a.part !== part || a.step !== step || a.offset !== offset)
        throw new SplitError('BAD_RESPONSE', `${t.label} answered part ${a.part} step ${a.step} at ${a.offset}, asked part ${part} step ${step} at ${offset}`);
      if (!out) {
        const problem = expect(a.total);
        if (problem) throw new SplitError('BAD_RESPONSE', `${t.label}: evidence part ${part} of ${a.total} bytes: ${problem}`);
        reserve(a.total, stillToCome);
        out = new Uint8Array(a.total);
      } else if (a.total !== out.length) throw new SplitError('BAD_RESPONSE', `${t.label} changed part ${part}'s length from ${out.length} to ${a.total}`);
      const want = Math.min(length, out.length - offset);
      if (a.bytes.length !== want) throw new SplitError('BAD_RESPONSE', `${t.label} sent ${a.bytes.length} bytes at ${offset}, expected ${want}`);
      out.set(a.bytes, offset);
      offset += want;
    } while (offset < out.length);
    return out;
  };

  const leaves = await fetchPart(EvidencePart.leaves, 0, (x) => (x === leafBytes ? null : `the proof has ${n} steps (${leafBytes} bytes)`), 0);
  let hidden = D;
  const hk = await fetchPart(
    EvidencePart.hk,
    0,
    (x) => {
      if (D !== undefined) return x === hkUnits * D ? null : `expected ${hkUnits * D} for hidden size ${D}`;
      hidden = x / hkUnits;
      return Number.isInteger(hidden) && hidden >= 1 && hidden <= MAX_HIDDEN ? null : `not a whole hidden size in [1, ${MAX_HIDDEN}] for the proof's steps`;
    },
    minimalLogits,
  );
  const logits = new Map<number, Uint8Array>();
  let left = minimalLogits;
  for (const i of steps) {
    const f16 = r.steps[i]!.precision === Precision.f16;
    left -= r.vocab * wireBytes(r.steps[i]!.precision);
    // Logits asked as f16 go as f32 when they do not fit f16, so an f16 step may carry either.
    const ok = (x: number) => (x === 4 * r.vocab || (f16 && x === 2 * r.vocab) ? null : `expected the logits of ${r.vocab} tokens`);
    logits.set(i, await fetchPart(EvidencePart.logits, i, ok, left));
  }

  const hkRows: Uint8Array[] = [];
  let at = 0;
  for (const s of r.steps) {
    const size = s.count * hidden! * wireBytes(s.precision);
    hkRows.push(hk.subarray(at, at + size));
    at += size;
  }
  const outLeaves = Array.from({ length: n }, (_, i) => leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
  return { hk: hkRows, outLeaves, logits };
}
