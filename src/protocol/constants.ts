/**
 * Every constant of the Sprint protocol in one place (docs/protocol.md §"Constants"). Changing any
 * of these changes consensus: peers with different values derive different state hashes.
 */

/** Protocol version carried in genesis; bump on any change to messages or state derivation. */
export const PROTOCOL_VERSION = 1;

// ---- domain-separation tags (UTF-8, hashed in front of the data) ----
export const TAG_GENESIS = 'sprintnet/genesis/v1';
export const TAG_SEED_COMMIT = 'sprintnet/seed-commit/v1';
export const TAG_SPRINT_SEED = 'sprintnet/sprint-seed/v1';
export const TAG_NONCE_LIST = 'sprintnet/nonce-list/v1';
export const TAG_MESSAGE_ID = 'sprintnet/message-id/v1';
export const TAG_SELECT = 'sprintnet/validate-select/v1';
export const TAG_SAMPLE = 'sprintnet/validate-sample/v1';
/** v2: each host also carries its split-inference credit (docs/protocol.md §10). */
export const TAG_STATE = 'sprintnet/epoch-state/v2';
export const TAG_LOTTERY = 'sprintnet/validation-lottery/v1';
export const TAG_BUCKETS = 'sprintnet/sync-bucket/v1';
/** A validator's own order among proofs of equal standing (local policy, not consensus). */
export const TAG_ORDER = 'sprintnet/validate-order/v1';

// ---- sizes and limits of network input ----
export const KEY_BYTES = 32;
export const HASH_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const SECRET_BYTES = 32;
export const BLS_PUBLIC_KEY_BYTES = 48;
export const BLS_SIGNATURE_BYTES = 96;
export const MAX_NETWORK_ID_BYTES = 64;
/** Most nonces one proof may claim (a list of 16-byte entries: 1 MiB). */
export const MAX_CLAIMS = 65_536;
/** Most hosts one validation message may judge. */
export const MAX_VALIDATION_ENTRIES = 1024;
/** Most hosts in the genesis weight table and in an epoch state. */
export const MAX_HOSTS = 100_000;
/** Most rewards tranches kept per host (= VEST_EPOCHS). */
export const MAX_TRANCHES = 16;
/** Largest encoded nonce list: u32 count + 16 bytes per claim. */
export const MAX_NONCE_LIST_BYTES = 4 + 16 * MAX_CLAIMS;
/** Ids per sync `get` request, and messages per response. */
export const MAX_SYNC_IDS = 512;
/** Passes of `get` per peer per sync round: a pass re-asks every id a budget-cut answer left out. */
export const SYNC_GET_PASSES = 16;
/** Buckets of the one-level hash reconciliation (ids split by their first byte's high nibble). */
export const SYNC_BUCKETS = 16;
/** Peers asked their head (op 6) at once when a host starts catching up (docs/protocol.md §12). */
export const MAX_HEAD_PROBES = 16;

// ---- validation sampling and reputation (Appendix D style; docs/protocol.md §"Validation") ----
/** Rates are in basis points: 10 000 = always. */
export const BPS = 10_000;
/** Reputation at which a host reaches the floor check rate; reputation counts accepted epochs. */
export const REPUTATION_MAX = 10;
/**
 * The floor: a host of full reputation is still checked by this many validators in expectation
 * (per-validator rate MIN_EXPECTED_VALIDATORS / n, n validators besides the host), so the chance
 * that nobody checks it is about e^(-7) ≈ 0.09%, and validation work per host does not grow with n.
 */
export const MIN_EXPECTED_VALIDATORS = 7;
/**
 * A new host (reputation 0) is checked by this many validators in expectation (every validator in a
 * network of at most this many): three times the floor, so the hosts nobody knows yet get the
 * closest look, while validation work per new host, and what a flood of proofs from fresh keys
 * costs the network, no longer grows with its size (docs/protocol.md §8).
 */
export const NEW_HOST_VALIDATORS = 3 * MIN_EXPECTED_VALIDATORS;
/** Nonce lists a validator fetches at once, in its validation order (lists are up to 1 MiB each). */
export const VALIDATION_FETCHES = 8;

// ---- rewards (docs/protocol.md §"Rewards") ----
/** Share of each epoch's reward paid to validators whose verdicts agreed with the outcome. */
export const VALIDATOR_SHARE_BPS = 1_000;
/** Rewards vest this many epochs after they are earned; fraud forfeits every unvested tranche. */
export const VEST_EPOCHS = 3;
/** 1 CU = 10^15 FP32-equivalent operations. */
export const FLOPS_PER_CU = 10n ** 15n;
