/**
 * The small interfaces through which the protocol knows the rest of the system: an engine that
 * searches and re-evaluates nonces, a transport for gossip and request/response, a clock with
 * timers, and a byte store. The runtime (src/app) backs them with the GPU engine, libp2p and
 * IndexedDB or files; the simulation backs them with the CPU reference and memory.
 */
import type { SprintConfig } from '../sprint/config.ts';
import type { NonceClaim } from '../sprint/claims.ts';

export interface SearchRequest {
  readonly config: SprintConfig;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly hitRate: number;
  /** Resume point and what was found before it (after a reload or a lost device). */
  readonly startNonce: number;
  readonly found: readonly NonceClaim[];
  /** Clock time at which the search must have stopped. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  /** Called with newly found nonces and the resume point, so they can be persisted at once. */
  readonly onProgress?: (p: { newlyFound: readonly NonceClaim[]; nextNonce: number; tried: number }) => void;
}

export interface SearchResult {
  readonly found: readonly NonceClaim[];
  /** Nonces fully evaluated by this host in this Sprint (resumed runs included). */
  readonly tried: number;
  readonly nextNonce: number;
}

export interface EvaluateRequest {
  readonly config: SprintConfig;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly nonces: readonly number[];
}

export interface ProtocolEngine {
  /** Searches nonces until the deadline (or the engine's own budget in a simulation). */
  search(req: SearchRequest): Promise<SearchResult>;
  /** Distances of the given nonces of another host (validation). */
  evaluate(req: EvaluateRequest): Promise<number[]>;
}

export interface Clock {
  now(): number;
  /** Calls `fn` once at (or soon after) time `at`; returns a cancel function. */
  setTimer(at: number, fn: () => void): () => void;
}

/** Gossip topics of the protocol (registered in src/node/topics for libp2p). */
export const TOPICS = ['sprint-seed', 'sprint-proof', 'sprint-validation', 'sprint-vote', 'inference-proof'] as const;
export type Topic = (typeof TOPICS)[number];

export interface Transport {
  publish(topic: Topic, bytes: Uint8Array): Promise<void>;
  /** Every gossip message on the protocol topics; `from` is the forwarding peer (hex key), if known. */
  subscribe(handler: (topic: Topic, bytes: Uint8Array, from?: string) => void): () => void;
  /** Answers the one request/response protocol of the Sprint (sync.ts). */
  handle(handler: (request: Uint8Array, from: string) => Promise<Uint8Array>): void;
  /** Request to a peer named by its hex Ed25519 public key. */
  request(peer: string, request: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** Peers we can ask (hex Ed25519 public keys), excluding ourselves. */
  peers(): string[];
}

export interface ProtocolStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys that start with `prefix`, sorted. */
  keys(prefix: string): Promise<string[]>;
}
