/**
 * What a verifier does with a proof beyond the signatures (proof.ts checkProof):
 *  - **consistency**: with the evidence the user attaches on request (h_k of every step as sent, the
 *    output leaves, and the logits of the sampled steps), recompute both roots, then re-run layers
 *    [k, L) over the h_k and compare, at each sampled decode step, the logits (engine tolerance, or
 *    f16 rounding), C_t (re-derived from the final hidden states) and H_t (from the logits as sent);
 *  - **credit**: a pure function of the set of proofs of an epoch and the consistency verdicts: CU
 *    per volunteer (FLOPs / 10^15) and AΞ, with replayed, stale and conflicting proofs refused.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { KvCache } from '../llm/model-types.ts';
import { decodeFloats, Phase, Precision } from './codec.ts';
import { CLOCK_SKEW_MS, FLOPS_PER_CU, FLOPS_PER_TERA } from './constants.ts';
import { hkLeaf, outputLeaf, root } from './digest.ts';
import type { SplitModel } from './engines.ts';
import { bitsGained, entropy, finalNormed, structuralCost } from './metrics.ts';
import { checkProof, proofId, type ComputeProof, type ModelRecord, type ProofRejection, type SignatureVerifier } from './proof.ts';

/** What the user keeps per step and attaches on request. */
export interface Evidence {
  /** h_k of each step, as sent. */
  readonly hk: readonly Uint8Array[];
  /** Output leaf of each step (digest.ts outputLeaf). */
  readonly outLeaves: readonly Uint8Array[];
  /** Logits as sent, for (at least) the sampled steps. */
  readonly logits: ReadonlyMap<number, Uint8Array>;
}

/** Logit agreement: the engine's tolerance (src/llm LOGIT_TOLERANCE), and f16's half-ulp when logits went as f16. */
export const LOGIT_TOLERANCE_F32 = 2e-5;
export const LOGIT_TOLERANCE_F16 = 2 ** -10;
/** |ΔC| allowed between the volunteer's C_t and the verifier's (f32 engine vs float64 reference: ~1e-6 measured). */
export const COST_TOLERANCE = 1e-4;

export type Consistency = { readonly ok: true; readonly checked: number[] } | { readonly ok: false; readonly step: number; readonly detail: string };

/** Logits go as f16 only when the step asked for it and they fit; their length says which. */
const logitsPrecision = (bytes: Uint8Array, vocab: number): Precision => (bytes.length === 2 * vocab ? Precision.f16 : Precision.f32);

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export async function checkConsistency<K extends KvCache>(
  proof: ComputeProof,
  evidence: Evidence,
  sample: readonly number[],
  engine: { readonly model: SplitModel<K>; readonly normWeight: ArrayLike<number> },
): Promise<Consistency> {
  const r = proof.receipt;
  const c = engine.model.config;
  const D = c.hiddenSize;
  if (evidence.hk.length !== r.steps.length || evidence.outLeaves.length !== r.steps.length)
    return { ok: false, step: -1, detail: 'the evidence does not cover every step' };
  // Rows of another hidden size would hash to the root only if both parties used another model: refuse them before a forward sees them.
  const short = r.steps.findIndex((s, i) => evidence.hk[i]!.length !== s.count * D * (s.precision === Precision.f16 ? 2 : 4));
  if (short >= 0) return { ok: false, step: short, detail: `h_k is not ${r.steps[short]!.count} rows of ${D} values` };
  const hkLeaves = r.steps.map((s, i) => hkLeaf(i, s.position, s.count, s.precision, evidence.hk[i]!));
  if (!same(root(hkLeaves), r.hkRoot)) return { ok: false, step: -1, detail: 'the h_k sent do not hash to the proof’s h_k root' };
  if (!same(root([...evidence.outLeaves]), r.outputRoot)) return { ok: false, step: -1, detail: 'the output leaves do not hash to the proof’s output root' };
  const wanted = new Set(sample);
  for (const i of wanted) {
    const s = r.steps[i];
    if (!s || s.phase !== Phase.decode) return { ok: false, step: i, detail: 'the sample names no decode step' };
    const logits = evidence.logits.get(i);
    if (!logits || !same(outputLeaf(i, logits, s.cost, s.entropy), evidence.outLeaves[i]!))
      return { ok: false, step: i, detail: 'the attached logits are not the ones returned' };
    if (entropy(decodeFloats(logits, logitsPrecision(logits, c.vocabSize), 'logits')) !== s.entropy) {
      return { ok: false, step: i, detail: 'H_t does not follow from the logits' };
    }
  }
  const last = Math.max(-1, ...wanted);
  const cache = engine.model.createKvCache({ fromLayer: r.k, maxContext: r.steps[last]!.position + r.steps[last]!.count });
  try {
    let prev: Float64Array | null = null;
    for (let i = 0; i <= last; i++) {
      const s = r.steps[i]!;
      const hidden = decodeFloats(evidence.hk[i]!, s.precision, 'h_k');
      const out = await engine.model.forward({ hidden, fromLayer: r.k, kvCache: cache, logits: wanted.has(i) ? 'last' : 'none', returnHidden: true });
      const fin = finalNormed(out.hidden!, (s.count - 1) * D, engine.normWeight, c.rmsNormEps);
      const before = s.count >= 2 ? finalNormed(out.hidden!, (s.count - 2) * D, engine.normWeight, c.rmsNormEps) : prev;
      prev = fin;
      if (!wanted.has(i)) continue;
      const sentBytes = evidence.logits.get(i)!;
      const sentPrecision = logitsPrecision(sentBytes, c.vocabSize);
      const sent = decodeFloats(sentBytes, sentPrecision, 'logits');
      const mine = out.logits!;
      let scale = 1;
      let worst = 0;
      for (let v = 0; v < mine.length; v++) {
        scale = Math.max(scale, Math.abs(mine[v]!));
        worst = Math.max(worst, Math.abs(mine[v]! - sent[v]!));
      }
      const tol = (sentPrecision === Precision.f16 ? LOGIT_TOLERANCE_F16 : LOGIT_TOLERANCE_F32) * scale;
      if (!(worst <= tol)) return { ok: false, step: i, detail: `logits differ by ${worst.toExponential(2)} (tolerance ${tol.toExponential(2)})` };
      const cost = before === null ? 0 : structuralCost(before, fin);
      if (!(Math.abs(cost - s.cost) <= COST_TOLERANCE)) return { ok: false, step: i, detail: `C_t is ${cost.toFixed(6)}, the proof says ${s.cost.toFixed(6)}` };
    }
  } finally {
    engine.model.destroyKvCache?.(cache);
  }
  return { ok: true, checked: [...wanted].sort((a, b) => a - b) };
}

export interface VolunteerCredit {
  /** Hex of the volunteer's Ed25519 key. */
  readonly volunteer: string;
  readonly flops: bigint;
  readonly cu: number;
  /** ΔH_eff in bits, summed over its credited sessions. */
  readonly effectiveBits: number;
  /** AΞ: effective bits per tera-FLOP. */
  readonly aXi: number;
  readonly sessions: number;
}

export interface CreditOptions {
  readonly networkId: string;
  readonly models: (hash: Uint8Array) => ModelRecord | undefined;
  readonly verifier: SignatureVerifier;
  /** The epoch's window: a proof's timestamp must fall in [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Session keys (user ‖ session id, hex) credited in earlier epochs. */
  readonly credited: ReadonlySet<string>;
  /** The validators' consistency verdict on a proof (by proof id, hex); undefined = not checked. */
  readonly consistent: (proofIdHex: string) => boolean | undefined;
}

export interface CreditResult {
  readonly credits: VolunteerCredit[];
  /** Session keys credited now: add them to `credited` for later epochs. */
  readonly sessions: string[];
  readonly rejected: { readonly id: string; readonly reason: ProofRejection | 'unchecked'; readonly detail: string }[];
}

/** ΔH_eff of one proof: Σ over decode steps of log2 V − H_t / ln 2, and 0 if any step fragmented (was rewound). */
export function effectiveBits(p: ComputeProof): number {
  const r = p.receipt;
  if (r.steps.some((s) => s.rewinds > 0)) return 0;
  return r.steps.reduce((sum, s) => sum + (s.phase === Phase.decode ? bitsGained(s.entropy, r.vocab) : 0), 0);
}

export const sessionKey = (p: ComputeProof): string => bytesToHex(p.receipt.user) + bytesToHex(p.receipt.sessionId);

/**
 * The credits of one epoch from the *set* of proofs seen: the result depends neither on the order
 * nor on repeated copies. A proof is credited when it checks (proof.ts), the validators found it
 * consistent, its timestamp is in the window, its session was not credited before, and no other
 * proof names the same session (two different proofs for one session credit nothing).
 */
export function deriveCredits(proofs: Iterable<Uint8Array>, o: CreditOptions): CreditResult {
  const rejected: CreditResult['rejected'][number][] = [];
  const byId = new Map<string, ComputeProof>();
  for (const bytes of proofs) {
    const checked = checkProof(bytes, o.networkId, o.models, o.verifier);
    if (!checked.ok) {
      rejected.push({ id: bytesToHex(bytes.subarray(0, 8)), reason: checked.reason, detail: checked.detail });
      continue;
    }
    byId.set(bytesToHex(proofId(checked.proof)), checked.proof);
  }
  const bySession = new Map<string, [string, ComputeProof][]>();
  for (const [id, p] of [...byId].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const key = sessionKey(p);
    bySession.set(key, [...(bySession.get(key) ?? []), [id, p]]);
  }
  const totals = new Map<string, { flops: bigint; bits: number; sessions: number }>();
  const sessions: string[] = [];
  for (const [key, list] of [...bySession].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (list.length > 1) {
      for (const [id] of list) rejected.push({ id, reason: 'conflicting', detail: `${list.length} different proofs for one session` });
      continue;
    }
    const [id, p] = list[0]!;
    if (o.credited.has(key)) {
      rejected.push({ id, reason: 'replayed', detail: 'this session was credited in an earlier epoch' });
      continue;
    }
    if (p.timestampMs < o.fromMs || p.timestampMs >= o.toMs || p.receipt.openedAtMs > p.timestampMs + CLOCK_SKEW_MS) {
      rejected.push({ id, reason: 'stale', detail: `timestamp ${p.timestampMs} is outside [${o.fromMs}, ${o.toMs})` });
      continue;
    }
    const verdict = o.consistent(id);
    if (verdict !== true) {
      rejected.push({
        id,
        reason: verdict === false ? 'inconsistent' : 'unchecked',
        detail: verdict === false ? 'a re-run disagreed with the proof' : 'no consistency verdict yet',
      });
      continue;
    }
    const v = bytesToHex(p.receipt.volunteer);
    const t = totals.get(v) ?? { flops: 0n, bits: 0, sessions: 0 };
    totals.set(v, { flops: t.flops + p.receipt.flops, bits: t.bits + effectiveBits(p), sessions: t.sessions + 1 });
    sessions.push(key);
  }
  const credits = [...totals]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([volunteer, t]) => ({
      volunteer,
      flops: t.flops,
      cu: Number(t.flops) / FLOPS_PER_CU,
      effectiveBits: t.bits,
      aXi: t.flops > 0n ? t.bits / (Number(t.flops) / FLOPS_PER_TERA) : 0,
      sessions: t.sessions,
    }));
  return { credits, sessions, rejected };
}
