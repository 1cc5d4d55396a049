/**
 * The session messages (docs/split-inference.md §Messages), in the canonical encoding of
 * src/codec/binary.ts. A request is `u8 version ‖ u8 kind ‖ body`; an answer is the same with an
 * answer kind, or an error (`kind 0xff ‖ u16 code ‖ string`). Every decoder checks the version, the
 * kind, each length against the limits in constants.ts, that floats are finite, and that nothing
 * trails; anything else is a SplitError MALFORMED or LIMIT. Decoders never trust a length to allocate.
 */
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { f16ToNumber, numberToF16 } from '../llm/dtype.ts';
import {
  HASH_BYTES,
  KEY_BYTES,
  MAX_CONTEXT,
  MAX_PROOF_BYTES,
  MAX_ERROR_TEXT,
  MAX_EVIDENCE_CHUNK,
  MAX_HIDDEN,
  MAX_POSITIONS_PER_REQUEST,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_VOCAB,
  SESSION_ID_BYTES,
  SIGNATURE_BYTES,
  SPLIT_PROTOCOL_VERSION,
} from './constants.ts';
import { SPLIT_ERROR_CODES, SplitError, type SplitErrorCode } from './errors.ts';

/** Wire precision of h_k and logits: 0 = f32, 1 = f16 (the reduced-precision path). */
export const Precision = { f32: 0, f16: 1 } as const;
export type Precision = (typeof Precision)[keyof typeof Precision];
/** A prefill step carries prompt (or failover history) positions and is not monitored; a decode step carries one generated position. */
export const Phase = { prefill: 0, decode: 1 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const RequestKind = { open: 1, step: 2, rewind: 3, close: 4, submit: 5, evidence: 6 } as const;
export const AnswerKind = { opened: 0x81, stepped: 0x82, rewound: 0x83, receipt: 0x84, submitted: 0x85, evidence: 0x86, error: 0xff } as const;

/**
 * What an evidence request fetches a chunk of (docs/split-inference.md §7a): the output leaves of
 * every step (n × 32 bytes), h_k of every step as sent, concatenated in step order, or the logits
 * of one step as sent.
 */
export const EvidencePart = { leaves: 0, hk: 1, logits: 2 } as const;
export type EvidencePart = (typeof EvidencePart)[keyof typeof EvidencePart];

export interface OpenRequest {
  readonly kind: 'open';
  readonly sessionId: Uint8Array;
  readonly modelHash: Uint8Array;
  readonly k: number;
  readonly maxContext: number;
  /** The user's ephemeral X25519 key for the session key (session-key.ts); absent: every call is sealed on its own. */
  readonly sessionKey?: Uint8Array;
}
export interface StepRequest {
  readonly kind: 'step';
  readonly sessionId: Uint8Array;
  readonly modelHash: Uint8Array;
  readonly k: number;
  readonly step: number;
  readonly position: number;
  readonly count: number;
  readonly phase: Phase;
  readonly precision: Precision;
  /** h_k for the `count` positions as sent: count × hidden values, f32 or f16 little-endian. */
  readonly hidden: Uint8Array;
}
export interface RewindRequest {
  readonly kind: 'rewind';
  readonly sessionId: Uint8Array;
  /** The step to discard: the last one computed. */
  readonly step: number;
}
export interface CloseRequest {
  readonly kind: 'close';
  readonly sessionId: Uint8Array;
}
/** The user hands its signed proof to the volunteer, which publishes it to the ledger (docs/split-inference.md §7). */
export interface SubmitRequest {
  readonly kind: 'submit';
  readonly proof: Uint8Array;
}
/** A validator asks the volunteer for one chunk of a closed session's evidence: bytes [offset, offset + length) of one part. */
export interface EvidenceRequest {
  readonly kind: 'evidence';
  readonly user: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly part: EvidencePart;
  /** The step whose logits are wanted (part logits); 0 for the other parts. */
  readonly step: number;
  readonly offset: number;
  /** 1 … MAX_EVIDENCE_CHUNK. */
  readonly length: number;
}
export type SplitRequest = OpenRequest | StepRequest | RewindRequest | CloseRequest | SubmitRequest | EvidenceRequest;

export interface OpenedAnswer {
  readonly kind: 'opened';
  readonly sessionId: Uint8Array;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly vocab: number;
  readonly openedAtMs: number;
  /** The volunteer's ephemeral X25519 key, exactly when the open carried the user's. */
  readonly sessionKey?: Uint8Array;
}
export interface SteppedAnswer {
  readonly kind: 'stepped';
  readonly sessionId: Uint8Array;
  readonly step: number;
  readonly position: number;
  readonly precision: Precision;
  /** Logits of the step's last position as sent (vocab values, f32 or f16). */
  readonly logits: Uint8Array;
  readonly cost: number;
  readonly entropy: number;
}
export interface RewoundAnswer {
  readonly kind: 'rewound';
  readonly sessionId: Uint8Array;
  readonly step: number;
  /** KV-cache length after the rewind. */
  readonly length: number;
}
export interface ReceiptAnswer {
  readonly kind: 'receipt';
  readonly sessionId: Uint8Array;
  /** The receipt body (proof.ts encodeReceipt) and the volunteer's signature of it. */
  readonly receipt: Uint8Array;
  readonly signature: Uint8Array;
}
export interface ErrorAnswer {
  readonly kind: 'error';
  readonly code: SplitErrorCode;
  readonly message: string;
}
export interface SubmittedAnswer {
  readonly kind: 'submitted';
  /** What the volunteer did with it, for people ("published for epoch 3"). */
  readonly note: string;
}
/** One chunk: the request's part, step and offset echoed, the part's whole length, and its bytes from offset on. */
export interface EvidenceAnswer {
  readonly kind: 'evidence';
  readonly part: EvidencePart;
  readonly step: number;
  readonly offset: number;
  readonly total: number;
  /** min(length asked, total − offset) bytes. */
  readonly bytes: Uint8Array;
}
export type SplitAnswer = OpenedAnswer | SteppedAnswer | RewoundAnswer | ReceiptAnswer | SubmittedAnswer | EvidenceAnswer | ErrorAnswer;

const bytesPer = (p: Precision): number => (p === Precision.f16 ? 2 : 4);

/** Values → wire bytes. f16 rounds to nearest even; callers check `fitsF16` first. */
export function encodeFloats(values: ArrayLike<number>, precision: Precision): Uint8Array {
  const out = new Uint8Array(values.length * bytesPer(precision));
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (precision === Precision.f16) view.setUint16(2 * i, numberToF16(values[i]!), true);
    else view.setFloat32(4 * i, values[i]!, true);
  }
  return out;
}

/** Wire bytes → values; a non-finite value is MALFORMED (a NaN would poison a KV cache for good). */
export function decodeFloats(bytes: Uint8Array, precision: Precision, what: string): Float32Array {
  const size = bytesPer(precision);
  if (bytes.length % size !== 0) throw new SplitError('MALFORMED', `${what}: ${bytes.length} bytes is not a whole number of ${size}-byte values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / size);
  for (let i = 0; i < out.length; i++) {
    const v = precision === Precision.f16 ? f16ToNumber(view.getUint16(2 * i, true)) : view.getFloat32(4 * i, true);
    if (!Number.isFinite(v)) throw new SplitError('MALFORMED', `${what}: value ${i} is not finite`);
    out[i] = v;
  }
  return out;
}

/** f16 holds every value (|x| ≤ 65504); otherwise the step goes as f32. */
export function fitsF16(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!(Math.abs(values[i]!) <= 65504)) return false;
  return true;
}

/** `u8 0` or `u8 1 ‖ key[32]`: the session key's ephemeral half in open and opened. */
const optionalKey = (w: BinaryWriter, key: Uint8Array | undefined): Uint8Array => (key ? w.u8(1).fixed(key, KEY_BYTES) : w.u8(0)).finish();

function readOptionalKey(r: BinaryReader): { sessionKey?: Uint8Array } {
  const keyed = enumOf(r.u8(), [0, 1], 'session key flag');
  return keyed ? { sessionKey: r.fixed(KEY_BYTES) } : {};
}

const head = (kind: number): BinaryWriter => new BinaryWriter().u8(SPLIT_PROTOCOL_VERSION).u8(kind);

export function encodeRequest(m: SplitRequest): Uint8Array {
  switch (m.kind) {
    case 'open':
      return optionalKey(head(RequestKind.open).fixed(m.sessionId, SESSION_ID_BYTES).fixed(m.modelHash, HASH_BYTES).u16(m.k).u32(m.maxContext), m.sessionKey);
    case 'step':
      return head(RequestKind.step)
        .fixed(m.sessionId, SESSION_ID_BYTES)
        .fixed(m.modelHash, HASH_BYTES)
        .u16(m.k)
        .u32(m.step)
        .u32(m.position)
        .u32(m.count)
        .u8(m.phase)
        .u8(m.precision)
        .bytes(m.hidden)
        .finish();
    case 'rewind':
      return head(RequestKind.rewind).fixed(m.sessionId, SESSION_ID_BYTES).u32(m.step).finish();
    case 'close':
      return head(RequestKind.close).fixed(m.sessionId, SESSION_ID_BYTES).finish();
    case 'submit':
      return head(RequestKind.submit).bytes(m.proof).finish();
    case 'evidence':
      return head(RequestKind.evidence)
        .fixed(m.user, KEY_BYTES)
        .fixed(m.sessionId, SESSION_ID_BYTES)
        .u8(m.part)
        .u32(m.step)
        .u32(m.offset)
        .u32(m.length)
        .finish();
  }
}

export function encodeAnswer(m: SplitAnswer): Uint8Array {
  switch (m.kind) {
    case 'opened':
      return optionalKey(
        head(AnswerKind.opened).fixed(m.sessionId, SESSION_ID_BYTES).u16(m.numLayers).u32(m.hiddenSize).u32(m.vocab).u64(m.openedAtMs),
        m.sessionKey,
      );
    case 'stepped':
      return head(AnswerKind.stepped)
        .fixed(m.sessionId, SESSION_ID_BYTES)
        .u32(m.step)
        .u32(m.position)
        .u8(m.precision)
        .bytes(m.logits)
        .f64(m.cost)
        .f64(m.entropy)
        .finish();
    case 'rewound':
      return head(AnswerKind.rewound).fixed(m.sessionId, SESSION_ID_BYTES).u32(m.step).u32(m.length).finish();
    case 'receipt':
      return head(AnswerKind.receipt).fixed(m.sessionId, SESSION_ID_BYTES).bytes(m.receipt).fixed(m.signature, SIGNATURE_BYTES).finish();
    case 'submitted':
      return head(AnswerKind.submitted).string(m.note.slice(0, MAX_ERROR_TEXT)).finish();
    case 'evidence':
      return head(AnswerKind.evidence).u8(m.part).u32(m.step).u32(m.offset).u32(m.total).bytes(m.bytes).finish();
    case 'error':
      return head(AnswerKind.error).u16(SPLIT_ERROR_CODES.indexOf(m.code)).string(m.message.slice(0, MAX_ERROR_TEXT)).finish();
  }
}

function reader(bytes: Uint8Array, max: number, what: string): BinaryReader {
  if (!(bytes instanceof Uint8Array)) throw new SplitError('MALFORMED', `${what} is not bytes`);
  if (bytes.length > max) throw new SplitError('LIMIT', `${what} of ${bytes.length} bytes exceeds ${max}`);
  const r = new BinaryReader(bytes, max);
  const version = r.u8();
  if (version !== SPLIT_PROTOCOL_VERSION) throw new SplitError('MALFORMED', `${what}: protocol version ${version}, expected ${SPLIT_PROTOCOL_VERSION}`);
  return r;
}

/** Runs a decoder, turning the codec's DecodeError or RangeError into SplitError MALFORMED naming what was read. */
export function typed<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof SplitError) throw e;
    if (e instanceof DecodeError || e instanceof RangeError) throw new SplitError('MALFORMED', `${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

const enumOf = <T extends number>(v: number, values: readonly T[], what: string): T => {
  if (!values.includes(v as T)) throw new SplitError('MALFORMED', `${what} ${v} is unknown`);
  return v as T;
};

const evidencePart = (v: number): EvidencePart => enumOf(v, [EvidencePart.leaves, EvidencePart.hk, EvidencePart.logits], 'evidence part');

function range(v: number, min: number, max: number, what: string): number {
  if (v < min || v > max) throw new SplitError('LIMIT', `${what} ${v} is outside [${min}, ${max}]`);
  return v;
}

export function decodeRequest(bytes: Uint8Array): SplitRequest {
  return typed('request', () => {
    const r = reader(bytes, MAX_REQUEST_BYTES, 'request');
    const kind = r.u8();
    let m: SplitRequest;
    switch (kind) {
      case RequestKind.open:
        m = {
          kind: 'open',
          sessionId: r.fixed(SESSION_ID_BYTES),
          modelHash: r.fixed(HASH_BYTES),
          k: range(r.u16(), 1, 0xffff, 'k'),
          maxContext: range(r.u32(), 1, MAX_CONTEXT, 'maxContext'),
          ...readOptionalKey(r),
        };
        break;
      case RequestKind.step: {
        const sessionId = r.fixed(SESSION_ID_BYTES);
        const modelHash = r.fixed(HASH_BYTES);
        const k = range(r.u16(), 1, 0xffff, 'k');
        const step = r.u32();
        const position = range(r.u32(), 0, MAX_CONTEXT - 1, 'position');
        const count = range(r.u32(), 1, MAX_POSITIONS_PER_REQUEST, 'positions per request');
        const phase = enumOf(r.u8(), [Phase.prefill, Phase.decode], 'phase');
        const precision = enumOf(r.u8(), [Precision.f32, Precision.f16], 'precision');
        const hidden = r.bytes(MAX_REQUEST_BYTES);
        if (phase === Phase.decode && count !== 1) throw new SplitError('MALFORMED', `a decode step carries one position, not ${count}`);
        const per = count * bytesPer(precision);
        if (hidden.length % per !== 0 || hidden.length / per > MAX_HIDDEN || hidden.length === 0) {
          throw new SplitError('MALFORMED', `h_k of ${hidden.length} bytes does not hold ${count} rows of at most ${MAX_HIDDEN} values`);
        }
        decodeFloats(hidden, precision, 'h_k');
        m = { kind: 'step', sessionId, modelHash, k, step, position, count, phase, precision, hidden };
        break;
      }
      case RequestKind.rewind:
        m = { kind: 'rewind', sessionId: r.fixed(SESSION_ID_BYTES), step: r.u32() };
        break;
      case RequestKind.close:
        m = { kind: 'close', sessionId: r.fixed(SESSION_ID_BYTES) };
        break;
      case RequestKind.submit:
        m = { kind: 'submit', proof: r.bytes(MAX_PROOF_BYTES) };
        break;
      case RequestKind.evidence: {
        const user = r.fixed(KEY_BYTES);
        const sessionId = r.fixed(SESSION_ID_BYTES);
        const part = evidencePart(r.u8());
        const step = r.u32();
        if (part !== EvidencePart.logits && step !== 0) throw new SplitError('MALFORMED', `evidence part ${part} names step ${step}, not 0`);
        const offset = r.u32();
        const length = range(r.u32(), 1, MAX_EVIDENCE_CHUNK, 'evidence chunk');
        m = { kind: 'evidence', user, sessionId, part, step, offset, length };
        break;
      }
      default:
        throw new SplitError('MALFORMED', `request kind ${kind} is unknown`);
    }
    r.end();
    return m;
  });
}

export function decodeAnswer(bytes: Uint8Array): SplitAnswer {
  return typed('answer', () => {
    const r = reader(bytes, MAX_RESPONSE_BYTES, 'answer');
    const kind = r.u8();
    let m: SplitAnswer;
    switch (kind) {
      case AnswerKind.opened:
        m = {
          kind: 'opened',
          sessionId: r.fixed(SESSION_ID_BYTES),
          numLayers: range(r.u16(), 2, 0xffff, 'numLayers'),
          hiddenSize: range(r.u32(), 1, MAX_HIDDEN, 'hiddenSize'),
          vocab: range(r.u32(), 2, MAX_VOCAB, 'vocab'),
          openedAtMs: r.u64(),
          ...readOptionalKey(r),
        };
        break;
      case AnswerKind.stepped: {
        const sessionId = r.fixed(SESSION_ID_BYTES);
        const step = r.u32();
        const position = r.u32();
        const precision = enumOf(r.u8(), [Precision.f32, Precision.f16], 'precision');
        const logits = r.bytes(MAX_VOCAB * 4);
        range(logits.length / bytesPer(precision), 2, MAX_VOCAB, 'vocab');
        decodeFloats(logits, precision, 'logits');
        const cost = r.f64();
        const entropy = r.f64();
        if (!(cost >= 0 && cost <= 2)) throw new SplitError('MALFORMED', `C_t ${cost} is outside [0, 2]`);
        if (!(entropy >= 0)) throw new SplitError('MALFORMED', `H_t ${entropy} is negative`);
        m = { kind: 'stepped', sessionId, step, position, precision, logits, cost, entropy };
        break;
      }
      case AnswerKind.rewound:
        m = { kind: 'rewound', sessionId: r.fixed(SESSION_ID_BYTES), step: r.u32(), length: r.u32() };
        break;
      case AnswerKind.receipt:
        m = { kind: 'receipt', sessionId: r.fixed(SESSION_ID_BYTES), receipt: r.bytes(MAX_RESPONSE_BYTES), signature: r.fixed(SIGNATURE_BYTES) };
        break;
      case AnswerKind.submitted:
        m = { kind: 'submitted', note: r.string(MAX_ERROR_TEXT * 4) };
        break;
      case AnswerKind.evidence: {
        const part = evidencePart(r.u8());
        const step = r.u32();
        if (part !== EvidencePart.logits && step !== 0) throw new SplitError('MALFORMED', `evidence part ${part} names step ${step}, not 0`);
        const offset = r.u32();
        const total = r.u32();
        const chunk = r.bytes(MAX_EVIDENCE_CHUNK);
        if (chunk.length === 0 || offset + chunk.length > total)
          throw new SplitError('MALFORMED', `an evidence chunk of ${chunk.length} bytes at ${offset} does not lie inside its part of ${total}`);
        m = { kind: 'evidence', part, step, offset, total, bytes: chunk };
        break;
      }
      case AnswerKind.error: {
        const code = SPLIT_ERROR_CODES[r.u16()];
        if (!code) throw new SplitError('MALFORMED', 'error answer with an unknown code');
        m = { kind: 'error', code, message: r.string(MAX_ERROR_TEXT * 4) };
        break;
      }
      default:
        throw new SplitError('MALFORMED', `answer kind ${kind} is unknown`);
    }
    r.end();
    return m;
  });
}
