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
/** The remote refused the call for lack of capacity (status 2): too many calls from us, or its byte budget is spent. Retry later. */
export class PeerBusyError extends RemoteError {
  override name = 'PeerBusyError';
}
/** A local resource limit refused the call or stream. */
export class ResourceLimitError extends RequestError {
  override name = 'ResourceLimitError';
}
/** Bytes received on request/response streams would exceed the node's budget (global or per peer). */
export class BudgetExceededError extends ResourceLimitError {
  override name = 'BudgetExceededError';
}
/** The peer already has the maximum number of inbound calls open. */
export class TooManyStreamsError extends ResourceLimitError {
  override name = 'TooManyStreamsError';
}
