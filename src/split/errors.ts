/**
 * One error type for split inference, with a stable `code`. Volunteers answer a refused request
 * with an in-band error message (codec.ts) carrying the same code, so the user's side gets the
 * volunteer's reason typed, not a transport string.
 */
export type SplitErrorCode =
  /** Bytes that do not decode: truncated, trailing, oversize, wrong version or kind, non-finite floats. */
  | 'MALFORMED'
  /** A field outside its limit (positions per request, hidden size, vocabulary, sessions). */
  | 'LIMIT'
  /** The volunteer does not serve this model hash or this split layer. */
  | 'WRONG_MODEL'
  | 'UNKNOWN_SESSION'
  /** A step whose number or position does not follow the session's state. */
  | 'OUT_OF_ORDER'
  /** A session id reused by another peer, or a rewind that names no undoable step. */
  | 'BAD_SESSION'
  /** The volunteer's answer contradicts itself or the request (wrong step, entropy that does not match the logits). */
  | 'BAD_RESPONSE'
  /** The volunteer's receipt roots differ from the ones the user computed. */
  | 'RECEIPT_MISMATCH'
  /** No volunteer could serve the request (all failed or timed out). */
  | 'NO_VOLUNTEER'
  /** The user chose "on this device only" and something asked to send h_k. */
  | 'PRIVACY'
  /** A proof that fails verification; `reason` in ProofRejection says why. */
  | 'BAD_PROOF'
  | 'BAD_ARGUMENT'
  /** The volunteer failed while computing (engine error); retrying elsewhere may work. */
  | 'VOLUNTEER_FAILED'
  /** The volunteer serves evidence only to peers it knows as validators, and publishes proofs only when it runs a ledger. */
  | 'FORBIDDEN';

export class SplitError extends Error {
  override readonly name = 'SplitError';
  constructor(
    readonly code: SplitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isSplitError = (e: unknown, code?: SplitErrorCode): e is SplitError => e instanceof SplitError && (code === undefined || e.code === code);

export const SPLIT_ERROR_CODES: readonly SplitErrorCode[] = [
  'MALFORMED',
  'LIMIT',
  'WRONG_MODEL',
  'UNKNOWN_SESSION',
  'OUT_OF_ORDER',
  'BAD_SESSION',
  'BAD_RESPONSE',
  'RECEIPT_MISMATCH',
  'NO_VOLUNTEER',
  'PRIVACY',
  'BAD_PROOF',
  'BAD_ARGUMENT',
  'VOLUNTEER_FAILED',
  'FORBIDDEN',
];
