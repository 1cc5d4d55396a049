/** Limits and tags of split inference, in one place (docs/split-inference.md §Limits). */

export const SPLIT_PROTOCOL_VERSION = 1;
/**
 * Version byte of the receipt and of the proof (proof.ts, docs/split-inference.md §6). 2: the
 * receipt names the genesis whose ledger may credit it (version 1 named none, so one session could
 * be credited in two geneses of one network id); a version-1 receipt or proof is refused (MALFORMED).
 */
export const SPLIT_PROOF_VERSION = 2;
/** libp2p request/response protocol name (node.handle / node.request). */
export const SPLIT_RPC_NAME = 'split-infer';
/** The same session's step, rewind and close under its session key (the layer does not seal them: `sealing: 'caller'`). */
export const SPLIT_SESSION_RPC_NAME = 'split-session';

export const SESSION_ID_BYTES = 16;
export const HASH_BYTES = 32;
export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** Largest hidden size and vocabulary a message may carry (Llama 3 70B: 8192, 128 256 tokens). */
export const MAX_HIDDEN = 16_384;
export const MAX_VOCAB = 262_144;
/** Positions in one step request: a prompt or a failover rebuild is sent in chunks of at most this many. */
export const MAX_POSITIONS_PER_REQUEST = 512;
/** Largest plaintext request / response (h_k of 512 positions at hidden 2048 in f32 is 4 MiB). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024 + 1024;
export const MAX_RESPONSE_BYTES = MAX_VOCAB * 4 + 1024;
/** Steps one proof may cover (a 4096-token session plus its prompt chunks). */
export const MAX_PROOF_STEPS = 8_192;
/** Largest proof a user submits: the fixed part plus 28 bytes per step. */
export const MAX_PROOF_BYTES = 512 + 28 * MAX_PROOF_STEPS;
/** Bytes of closed sessions' evidence (h_k and logits as sent) a volunteer keeps for validators; the oldest go first. */
export const MAX_EVIDENCE_BYTES = 256 * 1024 * 1024;
/** Bytes of evidence one answer carries at most (a chunk of one part: output leaves, h_k, or one step's logits). */
export const MAX_EVIDENCE_CHUNK = 1024 * 1024;
/** What a validator fetches for one proof at most, unless it sets its own cap (the volunteer keeps no more anyway). */
export const MAX_EVIDENCE_FETCH_BYTES = MAX_EVIDENCE_BYTES;
/** Evidence bytes one peer may fetch from a volunteer per window (a validator judging the largest session kept fits). */
export const EVIDENCE_BYTES_PER_PEER = MAX_EVIDENCE_BYTES;
export const EVIDENCE_WINDOW_MS = 60_000;
export const MAX_CONTEXT = 131_072;
/** Error messages carried in-band. */
export const MAX_ERROR_TEXT = 512;

/** Sessions one volunteer keeps at once, and per user peer. */
export const MAX_SESSIONS = 16;
export const MAX_SESSIONS_PER_PEER = 2;
/** A session with no request for this long is dropped (its KV cache freed). */
export const SESSION_IDLE_MS = 5 * 60_000;

/** A receipt may be opened by the volunteer's clock at most this far after the user's proof timestamp. */
export const CLOCK_SKEW_MS = 60_000;

/** ε in H = −Σ p log(p + ε) (natural log: nats). */
export const ENTROPY_EPSILON = 1e-12;
/** How many times a step whose input token crossed a threshold is resampled before the session stops. */
export const MAX_RESAMPLES = 3;

/** Domain tags of the hashes (each ends with a version). */
export const TAG_MODEL = 'sprintnet/split/model/v1';
export const TAG_HK = 'sprintnet/split/hk/v1';
export const TAG_OUT = 'sprintnet/split/out/v1';
export const TAG_ROOT = 'sprintnet/split/root/v1';
export const TAG_SAMPLE = 'sprintnet/split/sample/v1';

/** 1 CU = 10^15 FLOPs (docs/protocol.md §9; the ledger's FLOPS_PER_CU). */
export const FLOPS_PER_CU = 1e15;
/** AΞ is reported in bits per tera-FLOP. */
export const FLOPS_PER_TERA = 1e12;
