/**
 * Public API of the peer-to-peer layer. The Sprint protocol and inference code use this module
 * only: register topics and request handlers, publish, listen; the transport details stay inside.
 */
export { SprintnetNode, peerIdFromPublicKeyBytes } from './node.ts';
export type { NodeIdentity, GossipMessage, PeerPresence, SprintnetNodeEvents, SprintnetNodeOptions } from './node.ts';
export { TopicRegistry } from './registry.ts';
export type { PayloadCodec, TopicSpec } from './registry.ts';
export { DEFAULT_NETWORK_CONFIG, MAX_FRAME_BYTES, networkConfig, protocolName, topicName } from './config.ts';
export type { NetworkConfig } from './config.ts';
export { decodeEnvelope, encodeEnvelope, signEnvelope, verifyEnvelope } from './envelope.ts';
export type { Envelope, EnvelopeFields } from './envelope.ts';
export type { RejectReason } from './validator.ts';
export { PENALTIES, PeerScores } from './scores.ts';
export { DEFAULT_REQUEST_LIMITS, DEFAULT_STREAM_LIMITS } from './reqresp.ts';
export type { RequestContext, RequestHandler, RequestLimits, RequestOptions, StreamLimits } from './reqresp.ts';
export {
  BudgetExceededError,
  PayloadTooLargeError,
  PeerBusyError,
  ResourceLimitError,
  TooManyStreamsError,
  PeerGoneError,
  ProtocolError,
  RemoteError,
  RequestAbortedError,
  RequestError,
  RequestTimeoutError,
} from './errors.ts';
export { classifyAddr } from './connections.ts';
export type { ConnectionInfo, TransportKind } from './connections.ts';
export type { RelayState } from './relay-keeper.ts';
export { defaultRegistry } from './topics/index.ts';
export { PRESENCE_TOPIC, presenceCodec, presenceTopic } from './topics/presence.ts';
export type { NodeRole, Presence } from './topics/presence.ts';
