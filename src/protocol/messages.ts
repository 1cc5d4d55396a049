/**
 * Signed protocol messages and their codecs (docs/protocol.md §"Messages"). Every message is
 *
 *   u8 kind ‖ u64 epoch ‖ 32 B sender ‖ u64 timestampMs ‖ body(kind) ‖ 64 B Ed25519 signature
 *
 * in the canonical encoding of src/codec/binary.ts, signed with `signTyped` under the message's
 * own type tag and the network id, so it verifies nowhere else. Messages are self-contained: a
 * peer can verify one it got by sync long after it was gossiped. Decoders refuse oversize,
 * truncated, trailing or non-canonical bytes with ProtocolError.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { mismatchLimit } from '../sprint/validate.ts';
import { MessageType, type SigningDomain } from '../wallet/signing.ts';
import {
  BLS_PUBLIC_KEY_BYTES,
  BLS_SIGNATURE_BYTES,
  HASH_BYTES,
  KEY_BYTES,
  MAX_CLAIMS,
  MAX_VALIDATION_ENTRIES,
  SIGNATURE_BYTES,
  TAG_MESSAGE_ID,
} from './constants.ts';
import type { KeyBinding, Signer, Verifier } from './crypto.ts';
import { ProtocolError } from './errors.ts';
import { genesisHash, type Genesis } from './genesis.ts';
import { compareBytes, hex, tagged } from './bytes.ts';
import { decodeProof } from '../split/proof.ts';
import { SplitError } from '../split/errors.ts';
import { INFERENCE_VERDICTS, InferenceVerdict, MAX_INFERENCE_PROOF_BYTES, type InferenceVerdictCode } from './inference-constants.ts';

export const Kind = { commit: 1, reveal: 2, proof: 3, validation: 4, vote: 5, inference: 6, inferenceVerdict: 7 } as const;
export type KindName = keyof typeof Kind;
const KIND_NAMES: Record<number, KindName> = { 1: 'commit', 2: 'reveal', 3: 'proof', 4: 'validation', 5: 'vote', 6: 'inference', 7: 'inferenceVerdict' };

/** The signing type tag of each kind (src/wallet/signing.ts MessageType). */
export const KIND_DOMAIN: Record<KindName, MessageType> = {
  commit: MessageType.SeedCommit,
  reveal: MessageType.SeedReveal,
  proof: MessageType.SprintProof,
  validation: MessageType.ValidationVote,
  vote: MessageType.EpochCertificate,
  inference: MessageType.InferenceProof,
  inferenceVerdict: MessageType.InferenceVerdict,
};

/** Verdict of one validator on one host's proof. */
export const Verdict = {
  /** The sample re-ran within tolerance: fewer mismatches than the limit k(m). */
  ok: 0,
  /** k(m) or more sampled nonces are off in distance or not appropriate. */
  mismatch: 1,
  /** The list repeats a nonce (spec §9: the whole claim is invalid). */
  duplicate: 2,
  /** The list does not match the proof's root or count, or is malformed. */
  malformed: 3,
  /** The list could not be fetched from anyone before the validation deadline. */
  unavailable: 4,
} as const;
export type VerdictCode = (typeof Verdict)[keyof typeof Verdict];
/** Verdicts that say the host lied (they can make it a fraud). */
export const FRAUD_VERDICTS: ReadonlySet<number> = new Set([Verdict.mismatch, Verdict.duplicate, Verdict.malformed]);

export const HEADER_BYTES = 1 + 8 + KEY_BYTES + 8;
export const VALIDATION_ENTRY_BYTES = KEY_BYTES + HASH_BYTES + 1 + 2 + 2;
const VALIDATION_FIXED = BLS_PUBLIC_KEY_BYTES + SIGNATURE_BYTES + BLS_SIGNATURE_BYTES + BLS_SIGNATURE_BYTES + 2;

/** Largest encoded message of each kind. */
export const MAX_MESSAGE_BYTES: Record<KindName, number> = {
  commit: HEADER_BYTES + HASH_BYTES + SIGNATURE_BYTES,
  reveal: HEADER_BYTES + HASH_BYTES + SIGNATURE_BYTES,
  proof: HEADER_BYTES + HASH_BYTES + 4 + HASH_BYTES + 8 + SIGNATURE_BYTES,
  validation: HEADER_BYTES + VALIDATION_FIXED + MAX_VALIDATION_ENTRIES * VALIDATION_ENTRY_BYTES + SIGNATURE_BYTES,
  vote: HEADER_BYTES + HASH_BYTES + SIGNATURE_BYTES,
  inference: HEADER_BYTES + 4 + MAX_INFERENCE_PROOF_BYTES + SIGNATURE_BYTES,
  inferenceVerdict: HEADER_BYTES + HASH_BYTES + 1 + 2 + SIGNATURE_BYTES,
};
export const MAX_ANY_MESSAGE_BYTES = Math.max(...Object.values(MAX_MESSAGE_BYTES));

interface Header {
  readonly epoch: number;
  readonly sender: Uint8Array;
  readonly timestampMs: number;
}

export interface CommitBody {
  readonly kind: 'commit';
  /** SHA-256 commitment to the secret (seed.ts `seedCommitment`). */
  readonly commitment: Uint8Array;
}
export interface RevealBody {
  readonly kind: 'reveal';
  readonly secret: Uint8Array;
}
export interface ProofBody {
  readonly kind: 'proof';
  /** The Sprint seed the host searched with; must equal the epoch's derived seed. */
  readonly seed: Uint8Array;
  /** Number of claimed appropriate nonces (the weight it asks for). */
  readonly count: number;
  /** Commitment to the nonce list (claims.ts `nonceListRoot`). */
  readonly root: Uint8Array;
  /** Nonces the host says it tried (informational; never trusted). */
  readonly noncesTried: number;
}
export interface ValidationEntry {
  readonly host: Uint8Array;
  /** Id of the proof message judged. */
  readonly proofId: Uint8Array;
  readonly verdict: VerdictCode;
  readonly checked: number;
  readonly mismatches: number;
}
export interface ValidationBody {
  readonly kind: 'validation';
  /** The validator's BLS lottery key, bound to the sender (Ed25519 signature + proof of possession). */
  readonly binding: KeyBinding;
  /** Unique BLS signature over (epoch, Sprint seed): its hash decides whom and what is checked. */
  readonly lottery: Uint8Array;
  /** Sorted by host key, no repeats. */
  readonly entries: readonly ValidationEntry[];
}
export interface VoteBody {
  readonly kind: 'vote';
  readonly stateHash: Uint8Array;
}
/** An effective-compute proof of split inference (src/split/proof.ts), published by its user or volunteer. */
export interface InferenceBody {
  readonly kind: 'inference';
  /** The proof's bytes (src/split proof.ts encodeProof); they decode, and the sender is its user or volunteer. */
  readonly proof: Uint8Array;
}
/** A weighted validator's verdict on one inference proof after its own checks and sampled re-run. */
export interface InferenceVerdictBody {
  readonly kind: 'inferenceVerdict';
  /** src/split proofId of the proof judged. */
  readonly proofId: Uint8Array;
  readonly verdict: InferenceVerdictCode;
  /** Decode steps re-run (0 for `invalid`). */
  readonly checked: number;
}
export type Body = CommitBody | RevealBody | ProofBody | ValidationBody | VoteBody | InferenceBody | InferenceVerdictBody;
export type Unsigned<B extends Body = Body> = Header & B;

export type Signed<B extends Body = Body> = Unsigned<B> & {
  readonly signature: Uint8Array;
  /** The full encoding. */
  readonly bytes: Uint8Array;
  /** Hex of SHA-256(utf8("sprintnet/message-id/v1") ‖ bytes). */
  readonly id: string;
  /** Hex of the body bytes: equal for two messages that say the same thing at different times. */
  readonly bodyKey: string;
};
export type Message = Signed;
export type CommitMessage = Signed<CommitBody>;
export type RevealMessage = Signed<RevealBody>;
export type ProofMessage = Signed<ProofBody>;
export type ValidationMessage = Signed<ValidationBody>;
export type VoteMessage = Signed<VoteBody>;
export type InferenceMessage = Signed<InferenceBody>;
export type InferenceVerdictMessage = Signed<InferenceVerdictBody>;

function writeBody(w: BinaryWriter, b: Body): void {
  switch (b.kind) {
    case 'commit':
      w.fixed(b.commitment, HASH_BYTES);
      return;
    case 'reveal':
      w.fixed(b.secret, HASH_BYTES);
      return;
    case 'proof':
      w.fixed(b.seed, HASH_BYTES).u32(b.count).fixed(b.root, HASH_BYTES).u64(b.noncesTried);
      return;
    case 'validation': {
      w.fixed(b.binding.blsPublicKey, BLS_PUBLIC_KEY_BYTES)
        .fixed(b.binding.signature, SIGNATURE_BYTES)
        .fixed(b.binding.proofOfPossession, BLS_SIGNATURE_BYTES)
        .fixed(b.lottery, BLS_SIGNATURE_BYTES)
        .u16(b.entries.length);
      for (const e of b.entries) w.fixed(e.host, KEY_BYTES).fixed(e.proofId, HASH_BYTES).u8(e.verdict).u16(e.checked).u16(e.mismatches);
      return;
    }
    case 'vote':
      w.fixed(b.stateHash, HASH_BYTES);
      return;
    case 'inference':
      w.bytes(b.proof);
      return;
    case 'inferenceVerdict':
      w.fixed(b.proofId, HASH_BYTES).u8(b.verdict).u16(b.checked);
      return;
  }
}

/** The signed bytes: everything before the signature. Throws ProtocolError on a field out of range. */
export function encodeUnsigned(m: Unsigned): Uint8Array {
  checkBody(m);
  const w = new BinaryWriter().u8(Kind[m.kind]).u64(m.epoch).fixed(m.sender, KEY_BYTES).u64(m.timestampMs);
  writeBody(w, m);
  return w.finish();
}

export const domainOf = (kind: KindName, networkId: string): SigningDomain => ({ type: KIND_DOMAIN[kind], networkId });

export const messageId = (bytes: Uint8Array): string => hex(sha256(tagged(TAG_MESSAGE_ID, bytes)));

function finish<B extends Body>(m: Unsigned<B>, unsigned: Uint8Array, signature: Uint8Array, whole?: Uint8Array): Signed<B> {
  let bytes = whole;
  if (!bytes) {
    bytes = new Uint8Array(unsigned.length + SIGNATURE_BYTES);
    bytes.set(unsigned);
    bytes.set(signature, unsigned.length);
  }
  return { ...m, signature, bytes, id: messageId(bytes), bodyKey: hex(sha256(unsigned.subarray(HEADER_BYTES))) };
}

/** k(m) of spec §9 for the counts a validation entry may carry, computed once per m. */
const limits = new Map<number, number>();
const limitFor = (checked: number): number => {
  let k = limits.get(checked);
  if (k === undefined) limits.set(checked, (k = mismatchLimit(checked)));
  return k;
};

/**
 * What is signed: the genesis hash, then the message without its signature. The hash is not on
 * the wire, but it binds every message to one genesis: a message of another genesis under the same
 * network id fails verification, so it can neither count in our ledger nor make a wallet that takes
 * part in both look like an equivocator (docs/protocol.md §5).
 */
const hashes = new WeakMap<Genesis, Uint8Array>();
function signedPayload(g: Genesis, unsigned: Uint8Array): Uint8Array {
  let h = hashes.get(g);
  if (!h) hashes.set(g, (h = genesisHash(g)));
  const out = new Uint8Array(h.length + unsigned.length);
  out.set(h);
  out.set(unsigned, h.length);
  return out;
}

export async function signMessage<B extends Body>(signer: Signer, g: Genesis, m: Unsigned<B>): Promise<Signed<B>> {
  const unsigned = encodeUnsigned(m);
  const signature = await signer.sign(domainOf(m.kind, g.networkId), signedPayload(g, unsigned));
  if (signature.length !== SIGNATURE_BYTES) throw new ProtocolError('BAD_SIGNATURE', 'signer returned a signature of the wrong length');
  return finish(m, unsigned, signature);
}

/** Never throws: a strict Ed25519 signature by the sender for this network and genesis. */
export function verifyMessage(verifier: Verifier, g: Genesis, m: Message): boolean {
  const unsigned = m.bytes.subarray(0, m.bytes.length - SIGNATURE_BYTES);
  return verifier.verify(m.sender, domainOf(m.kind, g.networkId), signedPayload(g, unsigned), m.signature);
}

function checkBody(m: Unsigned): void {
  const bad = (why: string): never => {
    throw new ProtocolError('MALFORMED', `${m.kind}: ${why}`);
  };
  if (!Number.isSafeInteger(m.epoch) || m.epoch < 0) bad('epoch out of range');
  if (!Number.isSafeInteger(m.timestampMs) || m.timestampMs < 0) bad('timestamp out of range');
  if (m.kind === 'proof') {
    if (!Number.isSafeInteger(m.count) || m.count < 0 || m.count > MAX_CLAIMS) bad(`count must be in [0, ${MAX_CLAIMS}]`);
    if (!Number.isSafeInteger(m.noncesTried) || m.noncesTried < 0) bad('noncesTried out of range');
  }
  if (m.kind === 'validation') {
    if (m.entries.length > MAX_VALIDATION_ENTRIES)
      throw new ProtocolError('OVERSIZE', `validation: ${m.entries.length} entries exceed ${MAX_VALIDATION_ENTRIES}`);
    m.entries.forEach((e, i) => {
      if (i > 0 && compareBytes(m.entries[i - 1]!.host, e.host) >= 0) bad('entries must be sorted by host key without repeats');
      const problem = entryProblem(e);
      if (problem) bad(`entry ${i}: ${problem}`);
    });
    if (!equalKey(m.binding.ed25519PublicKey, m.sender)) bad('the lottery binding names another key than the sender');
  }
  if (m.kind === 'inference') {
    if (m.proof.length > MAX_INFERENCE_PROOF_BYTES)
      throw new ProtocolError('OVERSIZE', `inference: a proof of ${m.proof.length} bytes exceeds ${MAX_INFERENCE_PROOF_BYTES}`);
    let r;
    try {
      r = decodeProof(m.proof).receipt;
    } catch (e) {
      if (e instanceof SplitError) bad(`the proof does not decode: ${e.message}`);
      throw e;
    }
    // Only the two parties of a session publish its proof: a third key gains nothing by it and would only add copies.
    if (!equalKey(r.user, m.sender) && !equalKey(r.volunteer, m.sender)) bad('the sender is neither the user nor the volunteer of the proof');
  }
  if (m.kind === 'inferenceVerdict') {
    if (!INFERENCE_VERDICTS.has(m.verdict)) bad(`unknown verdict ${m.verdict}`);
    if (!Number.isInteger(m.checked) || m.checked < 0 || m.checked > 0xffff) bad('checked out of range');
    if ((m.verdict === InferenceVerdict.invalid) !== (m.checked === 0)) bad('an invalid verdict re-runs nothing; the others re-run at least one step');
  }
}

const equalKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && compareBytes(a, b) === 0;

/** Consistency of a verdict with its counts (k(m) from spec §9), or null when consistent. */
export function entryProblem(e: ValidationEntry): string | null {
  if (!Object.values(Verdict).includes(e.verdict)) return `unknown verdict ${e.verdict}`;
  if (!Number.isInteger(e.checked) || !Number.isInteger(e.mismatches) || e.checked < 0 || e.mismatches < 0 || e.checked > 0xffff || e.mismatches > e.checked) {
    return 'counts out of range';
  }
  if (e.verdict === Verdict.ok || e.verdict === Verdict.mismatch) {
    if (e.checked === 0) return 'a sampled verdict needs checked ≥ 1';
    const rejected = e.mismatches >= limitFor(e.checked);
    if (rejected !== (e.verdict === Verdict.mismatch)) return `verdict ${e.verdict} contradicts ${e.mismatches} mismatches of ${e.checked}`;
  } else if (e.checked !== 0 || e.mismatches !== 0) {
    return 'an unsampled verdict carries no counts';
  }
  return null;
}

/**
 * Decodes one message. Throws ProtocolError OVERSIZE or MALFORMED; never anything else. Does not
 * verify the signature (`verifyMessage`).
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES + SIGNATURE_BYTES) throw new ProtocolError('MALFORMED', 'message too short');
  const kind = KIND_NAMES[bytes[0]!];
  if (!kind) throw new ProtocolError('MALFORMED', `unknown message kind ${bytes[0]}`);
  if (bytes.length > MAX_MESSAGE_BYTES[kind]) throw new ProtocolError('OVERSIZE', `${kind} of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES[kind]}`);
  let m: Unsigned;
  let signature: Uint8Array;
  const own = bytes.slice();
  try {
    const r = new BinaryReader(own);
    r.u8();
    const header = { epoch: r.u64(), sender: r.fixed(KEY_BYTES), timestampMs: r.u64() };
    let body: Body;
    switch (kind) {
      case 'commit':
        body = { kind, commitment: r.fixed(HASH_BYTES) };
        break;
      case 'reveal':
        body = { kind, secret: r.fixed(HASH_BYTES) };
        break;
      case 'proof':
        body = { kind, seed: r.fixed(HASH_BYTES), count: r.u32(), root: r.fixed(HASH_BYTES), noncesTried: r.u64() };
        break;
      case 'validation': {
        const binding: KeyBinding = {
          ed25519PublicKey: header.sender,
          blsPublicKey: r.fixed(BLS_PUBLIC_KEY_BYTES),
          signature: r.fixed(SIGNATURE_BYTES),
          proofOfPossession: r.fixed(BLS_SIGNATURE_BYTES),
        };
        const lottery = r.fixed(BLS_SIGNATURE_BYTES);
        const n = r.u16();
        if (n > MAX_VALIDATION_ENTRIES) throw new DecodeError(`${n} entries exceed ${MAX_VALIDATION_ENTRIES}`);
        // Entries hold views into `own` (a private copy of the message), not a copy per field.
        const entries: ValidationEntry[] = [];
        const base = HEADER_BYTES + VALIDATION_FIXED;
        for (let i = 0; i < n; i++) {
          const at = base + i * VALIDATION_ENTRY_BYTES;
          r.fixed(KEY_BYTES + HASH_BYTES);
          entries.push({
            host: own.subarray(at, at + KEY_BYTES),
            proofId: own.subarray(at + KEY_BYTES, at + KEY_BYTES + HASH_BYTES),
            verdict: r.u8() as VerdictCode,
            checked: r.u16(),
            mismatches: r.u16(),
          });
        }
        body = { kind, binding, lottery, entries };
        break;
      }
      case 'vote':
        body = { kind, stateHash: r.fixed(HASH_BYTES) };
        break;
      case 'inference':
        body = { kind, proof: r.bytes(MAX_INFERENCE_PROOF_BYTES) };
        break;
      case 'inferenceVerdict':
        body = { kind, proofId: r.fixed(HASH_BYTES), verdict: r.u8() as InferenceVerdictCode, checked: r.u16() };
        break;
    }
    signature = r.fixed(SIGNATURE_BYTES);
    r.end();
    m = { ...header, ...body };
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `${kind}: ${e.message}`);
    throw e;
  }
  checkBody(m);
  return finish(m, own.subarray(0, own.length - SIGNATURE_BYTES), signature, own);
}

export const isKind = <K extends KindName>(m: Message, kind: K): m is Signed<Extract<Body, { kind: K }>> => m.kind === kind;
