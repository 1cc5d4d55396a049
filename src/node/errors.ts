/** Typed failures of the request/response helper, so callers can branch on `instanceof`. */
export class RequestError extends Error {
  override name = 'RequestError';
}
/** No complete response within the deadline, including a peer that vanished without closing. */
export class RequestTimeoutError extends RequestError {
  override name = 'RequestTimeoutError';
}
/** The caller's AbortSignal fired. */
export class RequestAbortedError extends RequestError {
  override name = 'RequestAbortedError';
}
/** The stream closed or reset before a full response arrived. */
export class PeerGoneError extends RequestError {
  override name = 'PeerGoneError';
}
/** A request or response exceeded its `maxDataLength`. */
export class PayloadTooLargeError extends RequestError {
  override name = 'PayloadTooLargeError';
}
/** The remote handler failed and said why. */
export class RemoteError extends RequestError {
  override name = 'RemoteError';
}
/** The remote broke the framing rules (or the payload failed decryption). */
export class ProtocolError extends RequestError {
  override name = 'ProtocolError';
}
