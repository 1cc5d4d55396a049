/**
 * The effective-compute proof (docs/split-inference.md §Proof). Two signatures:
 *  - the volunteer's **receipt**, signed at session close under MessageType.InferenceResponse:
 *    what it computed (session, model, k, both keys, the genesis whose ledger may credit it,
 *    per-step positions/precision/rewinds/C_t/H_t, the h_k root, the output root, FLOPs). Without
 *    it there was no session.
 *  - the user's **proof**, under MessageType.ComputeProof: the receipt, the volunteer's signature and
 *    a timestamp. The user signs only when every decode C_t ≤ τ.
 * Both are canonical binary (src/codec/binary.ts) and domain-separated by type and network id.
 *
 *   receipt = u8 v ‖ session[16] ‖ model[32] ‖ u16 k ‖ u16 L ‖ u32 V ‖ user[32] ‖ volunteer[32] ‖ genesis[32] ‖ u64 openedAtMs
 *             ‖ u32 n ‖ n × (u32 position ‖ u32 count ‖ u8 phase ‖ u8 precision ‖ u8 rewinds ‖ f64 C ‖ f64 H)
 *             ‖ hkRoot[32] ‖ outputRoot[32] ‖ u64 flops
 *   proof   = u8 v ‖ lp(receipt) ‖ receiptSig[64] ‖ u64 timestampMs ‖ userSig[64]
 *
 * v = 2 (SPLIT_PROOF_VERSION). `genesis` is the genesis hash (docs/protocol.md §3) of the ledger the
 * volunteer publishes to, 32 zero bytes when it runs none; both signatures cover it, and a ledger
 * credits only a proof that names its own genesis (src/protocol/inference.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter } from '../codec/binary.ts';
import type { LlamaConfig } from '../llm/config.ts';
import { MessageType, type SigningDomain } from '../wallet/signing.ts';
import { HASH_BYTES, KEY_BYTES, MAX_PROOF_STEPS, SESSION_ID_BYTES, SIGNATURE_BYTES, SPLIT_PROOF_VERSION, TAG_SAMPLE } from './constants.ts';
import { Phase, Precision, typed } from './codec.ts';
import { SplitError } from './errors.ts';
import { flopsForStep } from './flops.ts';

export interface StepRecord {
  readonly position: number;
  readonly count: number;
  readonly phase: Phase;
  readonly precision: Precision;
  /** Attempts of this step rejected by the monitor before this one was accepted. */
  readonly rewinds: number;
  readonly cost: number;
  readonly entropy: number;
}

export interface Receipt {
  readonly sessionId: Uint8Array;
  readonly modelHash: Uint8Array;
  readonly k: number;
  readonly numLayers: number;
  readonly vocab: number;
  readonly user: Uint8Array;
  readonly volunteer: Uint8Array;
  /**
   * The genesis hash of the ledger that may credit the session, named by the volunteer (the ledger
   * it publishes to); NO_GENESIS when it runs none. 32 bytes.
   */
  readonly genesis: Uint8Array;
  readonly openedAtMs: number;
  readonly steps: readonly StepRecord[];
  readonly hkRoot: Uint8Array;
  readonly outputRoot: Uint8Array;
  readonly flops: bigint;
}

export interface ComputeProof {
  readonly receipt: Receipt;
  /** The receipt's bytes exactly as the volunteer signed them. */
  readonly receiptBytes: Uint8Array;
  readonly receiptSignature: Uint8Array;
  readonly timestampMs: number;
  readonly userSignature: Uint8Array;
}

/** What the proof signer needs: src/protocol's Signer and a wallet identity both fit. */
export interface ProofSigner {
  readonly publicKey: Uint8Array;
  sign(domain: SigningDomain, payload: Uint8Array): Promise<Uint8Array>;
}

export interface SignatureVerifier {
  verify(publicKey: Uint8Array, domain: SigningDomain, payload: Uint8Array, signature: Uint8Array): boolean;
}

/** A receipt's genesis when the volunteer runs no ledger: no ledger credits it. */
export const NO_GENESIS: Uint8Array = new Uint8Array(HASH_BYTES);

export const receiptDomain = (networkId: string): SigningDomain => ({ type: MessageType.InferenceResponse, networkId });
export const proofDomain = (networkId: string): SigningDomain => ({ type: MessageType.ComputeProof, networkId });

export function encodeReceipt(r: Receipt): Uint8Array {
  if (r.steps.length > MAX_PROOF_STEPS) throw new SplitError('LIMIT', `${r.steps.length} steps exceed ${MAX_PROOF_STEPS}`);
  if (r.flops > BigInt(Number.MAX_SAFE_INTEGER)) throw new SplitError('LIMIT', 'FLOPs exceed 2^53 − 1: close the session sooner');
  const w = new BinaryWriter()
    .u8(SPLIT_PROOF_VERSION)
    .fixed(r.sessionId, SESSION_ID_BYTES)
    .fixed(r.modelHash, HASH_BYTES)
    .u16(r.k)
    .u16(r.numLayers)
    .u32(r.vocab)
    .fixed(r.user, KEY_BYTES)
    .fixed(r.volunteer, KEY_BYTES)
    .fixed(r.genesis, HASH_BYTES)
    .u64(r.openedAtMs)
    .u32(r.steps.length);
  for (const s of r.steps) w.u32(s.position).u32(s.count).u8(s.phase).u8(s.precision).u8(s.rewinds).f64(s.cost).f64(s.entropy);
  return w.fixed(r.hkRoot, HASH_BYTES).fixed(r.outputRoot, HASH_BYTES).u64(Number(r.flops)).finish();
}

const STEP_BYTES = 4 + 4 + 1 + 1 + 1 + 8 + 8;

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return typed('receipt', () => {
    const r = new BinaryReader(bytes);
    const version = r.u8();
    if (version !== SPLIT_PROOF_VERSION) throw new SplitError('MALFORMED', `receipt version ${version}, expected ${SPLIT_PROOF_VERSION}`);
    const sessionId = r.fixed(SESSION_ID_BYTES);
    const modelHash = r.fixed(HASH_BYTES);
    const k = r.u16();
    const numLayers = r.u16();
    const vocab = r.u32();
    const user = r.fixed(KEY_BYTES);
    const volunteer = r.fixed(KEY_BYTES);
    const genesis = r.fixed(HASH_BYTES);
    const openedAtMs = r.u64();
    const n = r.u32();
    if (n > MAX_PROOF_STEPS) throw new SplitError('LIMIT', `${n} steps exceed ${MAX_PROOF_STEPS}`);
    if (n * STEP_BYTES > bytes.length) throw new SplitError('MALFORMED', `receipt announces ${n} steps but is ${bytes.length} bytes`);
    const steps: StepRecord[] = [];
    for (let i = 0; i < n; i++) {
      const position = r.u32();
      const count = r.u32();
      const phase = r.u8();
      const precision = r.u8();
      const rewinds = r.u8();
      const cost = r.f64();
      const entropy = r.f64();
      if (phase !== Phase.prefill && phase !== Phase.decode) throw new SplitError('MALFORMED', `step ${i}: phase ${phase}`);
      if (precision !== Precision.f32 && precision !== Precision.f16) throw new SplitError('MALFORMED', `step ${i}: precision ${precision}`);
      steps.push({ position, count, phase, precision, rewinds, cost, entropy });
    }
    const hkRoot = r.fixed(HASH_BYTES);
    const outputRoot = r.fixed(HASH_BYTES);
    const flops = BigInt(r.u64());
    r.end();
    return { sessionId, modelHash, k, numLayers, vocab, user, volunteer, genesis, openedAtMs, steps, hkRoot, outputRoot, flops };
  });
}

function proofBody(receiptBytes: Uint8Array, receiptSignature: Uint8Array, timestampMs: number): Uint8Array {
  return new BinaryWriter().u8(SPLIT_PROOF_VERSION).bytes(receiptBytes).fixed(receiptSignature, SIGNATURE_BYTES).u64(timestampMs).finish();
}

export async function signProof(
  signer: ProofSigner,
  networkId: string,
  receiptBytes: Uint8Array,
  receiptSignature: Uint8Array,
  timestampMs: number,
): Promise<ComputeProof> {
  const receipt = decodeReceipt(receiptBytes);
  const userSignature = await signer.sign(proofDomain(networkId), proofBody(receiptBytes, receiptSignature, timestampMs));
  return { receipt, receiptBytes, receiptSignature, timestampMs, userSignature };
}

export function encodeProof(p: ComputeProof): Uint8Array {
  const body = proofBody(p.receiptBytes, p.receiptSignature, p.timestampMs);
  return new BinaryWriter().fixed(body, body.length).fixed(p.userSignature, SIGNATURE_BYTES).finish();
}

export function decodeProof(bytes: Uint8Array): ComputeProof {
  return typed('proof', () => {
    const r = new BinaryReader(bytes);
    const version = r.u8();
    if (version !== SPLIT_PROOF_VERSION) throw new SplitError('MALFORMED', `proof version ${version}, expected ${SPLIT_PROOF_VERSION}`);
    const receiptBytes = r.bytes(bytes.length);
    const receiptSignature = r.fixed(SIGNATURE_BYTES);
    const timestampMs = r.u64();
    const userSignature = r.fixed(SIGNATURE_BYTES);
    r.end();
    return { receipt: decodeReceipt(receiptBytes), receiptBytes, receiptSignature, timestampMs, userSignature };
  });
}

/** The proof's id: SHA-256 of its bytes. */
export const proofId = (p: ComputeProof): Uint8Array => sha256(encodeProof(p));

/** What a verifier knows about a model it accepts proofs for. */
export interface ModelRecord {
  readonly hash: Uint8Array;
  readonly config: LlamaConfig;
  /** τ for this model (docs: how it is measured). */
  readonly tau: number;
}

export type ProofRejection =
  | 'malformed'
  | 'unknown-model'
  | 'bad-receipt-signature'
  | 'bad-user-signature'
  | 'self-dealing'
  | 'wrong-genesis'
  | 'bad-steps'
  | 'bad-flops'
  | 'cost-over-tau'
  | 'inconsistent'
  | 'stale'
  | 'replayed'
  | 'conflicting';

export type Checked =
  | { readonly ok: true; readonly proof: ComputeProof; readonly model: ModelRecord }
  | { readonly ok: false; readonly reason: ProofRejection; readonly detail: string };

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** FLOPs of every step of a receipt, as the verifier recomputes them. */
export function receiptFlops(config: LlamaConfig, r: Pick<Receipt, 'k' | 'steps'>): bigint {
  let total = 0n;
  for (const s of r.steps) total += flopsForStep(config, r.k, config.numLayers, s.position, s.count);
  return total;
}

/**
 * The checks that need no model (what the epoch ledger can do itself): the volunteer signed the
 * receipt, the user signed the proof, and they are two keys. Null when all hold.
 */
export function signatureProblem(p: ComputeProof, networkId: string, verifier: SignatureVerifier): (Checked & { ok: false }) | null {
  const r = p.receipt;
  if (!verifier.verify(r.volunteer, receiptDomain(networkId), p.receiptBytes, p.receiptSignature))
    return { ok: false, reason: 'bad-receipt-signature', detail: 'the volunteer did not sign this receipt' };
  if (!verifier.verify(r.user, proofDomain(networkId), proofBody(p.receiptBytes, p.receiptSignature, p.timestampMs), p.userSignature)) {
    return { ok: false, reason: 'bad-user-signature', detail: 'the user did not sign this proof' };
  }
  if (sameBytes(r.user, r.volunteer)) return { ok: false, reason: 'self-dealing', detail: 'user and volunteer are one key' };
  return null;
}

/** Null when the proof names `genesisHash` (docs/split-inference.md §6): a ledger credits only its own genesis's proofs. */
export function genesisProblem(p: ComputeProof, genesisHash: Uint8Array): (Checked & { ok: false }) | null {
  if (sameBytes(p.receipt.genesis, genesisHash)) return null;
  const named = sameBytes(p.receipt.genesis, NO_GENESIS) ? 'no genesis' : `genesis ${hexOf(p.receipt.genesis).slice(0, 16)}`;
  return { ok: false, reason: 'wrong-genesis', detail: `the proof names ${named}, not ${hexOf(genesisHash).slice(0, 16)}` };
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The cheap checks, no model run: both signatures, distinct keys, the step structure (prefill
 * chunks first and contiguous from position 0, then one position per decode step, C = 0 on prefill),
 * FLOPs equal to the formula, and every decode C_t ≤ τ. With `genesisHash` (a ledger's validator),
 * also that the proof names that genesis.
 */
export function checkProof(
  bytesOrProof: Uint8Array | ComputeProof,
  networkId: string,
  models: (hash: Uint8Array) => ModelRecord | undefined,
  verifier: SignatureVerifier,
  genesisHash?: Uint8Array,
): Checked {
  let p: ComputeProof;
  try {
    p = bytesOrProof instanceof Uint8Array ? decodeProof(bytesOrProof) : bytesOrProof;
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: e instanceof Error ? e.message : String(e) };
  }
  const r = p.receipt;
  const model = models(r.modelHash);
  if (!model) return { ok: false, reason: 'unknown-model', detail: 'no record of this model hash' };
  const signed = signatureProblem(p, networkId, verifier) ?? (genesisHash ? genesisProblem(p, genesisHash) : null);
  if (signed) return signed;
  const c = model.config;
  if (r.numLayers !== c.numLayers || r.vocab !== c.vocabSize || r.k < 1 || r.k >= c.numLayers)
    return { ok: false, reason: 'bad-steps', detail: `k ${r.k}, L ${r.numLayers}, V ${r.vocab} do not fit the model` };
  if (r.steps.length === 0) return { ok: false, reason: 'bad-steps', detail: 'no steps' };
  let next = 0;
  let decoding = false;
  for (const [i, s] of r.steps.entries()) {
    if (s.position !== next) return { ok: false, reason: 'bad-steps', detail: `step ${i} starts at ${s.position}, expected ${next}` };
    if (s.phase === Phase.decode) decoding = true;
    else if (decoding) return { ok: false, reason: 'bad-steps', detail: `prefill step ${i} after a decode step` };
    if (s.phase === Phase.decode && s.count !== 1) return { ok: false, reason: 'bad-steps', detail: `decode step ${i} has ${s.count} positions` };
    if (s.phase === Phase.prefill && s.cost !== 0) return { ok: false, reason: 'bad-steps', detail: `prefill step ${i} reports C = ${s.cost}` };
    if (s.count < 1) return { ok: false, reason: 'bad-steps', detail: `step ${i} is empty` };
    next += s.count;
  }
  if (next > c.maxPositions) return { ok: false, reason: 'bad-steps', detail: `${next} positions exceed the model's ${c.maxPositions}` };
  const flops = receiptFlops(c, r);
  if (flops !== r.flops) return { ok: false, reason: 'bad-flops', detail: `claims ${r.flops} FLOPs, the steps make ${flops}` };
  const over = r.steps.findIndex((s) => s.phase === Phase.decode && !(s.cost <= model.tau));
  if (over >= 0) return { ok: false, reason: 'cost-over-tau', detail: `step ${over}: C = ${r.steps[over]!.cost} > τ = ${model.tau}` };
  return { ok: true, proof: p, model };
}

/**
 * Which decode steps a verifier re-runs: m distinct indices drawn from SHA-256(tag ‖ proof id ‖ seed).
 * Each verifier uses its own seed (its key), so a prover cannot know every verifier's sample.
 */
export function sampleSteps(p: ComputeProof, seed: Uint8Array, m: number): number[] {
  const decode = p.receipt.steps.flatMap((s, i) => (s.phase === Phase.decode ? [i] : []));
  const want = Math.min(m, decode.length);
  const chosen = new Set<number>();
  let counter = 0;
  const id = proofId(p);
  while (chosen.size < want) {
    const h = sha256(new BinaryWriter().string(TAG_SAMPLE).fixed(id, HASH_BYTES).bytes(seed).u32(counter++).finish());
    const x = new DataView(h.buffer, h.byteOffset).getUint32(0, true);
    chosen.add(decode[x % decode.length]!);
  }
  return [...chosen].sort((a, b) => a - b);
}
