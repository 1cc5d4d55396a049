/**
 * Typed errors of the Sprint protocol. Everything that comes from the network is checked and,
 * when refused, refused with one of these codes; `message` is for people.
 */
export type ProtocolErrorCode =
  | 'MALFORMED' // bytes that do not decode (truncated, trailing bytes, bad field)
  | 'OVERSIZE' // over a limit of docs/protocol.md
  | 'BAD_SIGNATURE'
  | 'BAD_KEY' // not a strict Ed25519 public key
  | 'WRONG_NETWORK'
  | 'WRONG_EPOCH' // signed for another epoch than the one it is used in
  | 'OUT_OF_WINDOW' // timestamp outside its phase window (± clock-skew tolerance)
  | 'CLOCK_SKEW' // live message whose timestamp is too far from our clock
  | 'EPOCH_CLOSED' // the epoch is certified; nothing more is added to it
  | 'NOT_ELIGIBLE' // sender holds no weight where weight is required
  | 'BAD_COMMITMENT' // a nonce list or reveal does not match its commitment
  | 'DUPLICATE_NONCE'
  | 'BAD_GENESIS'
  | 'BAD_CERTIFICATE'
  | 'BAD_STATE' // a served state that is not the one its certificate (or the one we hold) names, or not built on our previous state
  | 'SUPERSEDED' // a sender's copy the pool bound refuses: it holds that body with a smaller id, or two smaller bodies (pool.ts)
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'SIGNER_LOCKED'; // our own signer (a locked wallet) was not ready before the message's window closed

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}
