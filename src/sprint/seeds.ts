/**
 * Seeds of spec §3 and §5 (task version 2): weight key, node seed, input seed, and the disjoint
 * byte ranges of the input seed: tokens (0–15), input-noise key (16–23), output key (24–31).
 * Version 1's input seed and permutation keys stay here for the attack suite only (superseded).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, u32le, u64le, utf8 } from './bytes.ts';
import type { SprintConfig } from './config.ts';
import { SprintInputError } from './errors.ts';

const WEIGHTS_TAG = utf8('sprintnet/weights/v1');
const NODE_SEED_TAG = utf8('sprintnet/node-seed/v1');
const INPUT_SEED_TAG = utf8('sprintnet/input-seed/v2');
const INPUT_SEED_TAG_V1 = utf8('sprintnet/input-seed/v1');

/** The task version this code implements (docs/sprint-spec.md). */
export const TASK_VERSION = 2;
export type TaskVersion = 1 | 2;

export const SEED_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const PERMUTATION_ROUNDS = 8;

export function checkSprintSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    throw new SprintInputError('BAD_SEED', `sprint seed must be ${SEED_BYTES} bytes, got ${describeLength(seed)}`);
  }
}

export function checkPublicKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_BYTES) {
    throw new SprintInputError('BAD_PUBLIC_KEY', `public key must be ${PUBLIC_KEY_BYTES} bytes, got ${describeLength(key)}`);
  }
}

export function checkNonce(nonce: number): void {
  if (typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 0) {
    throw new SprintInputError('BAD_NONCE', `nonce must be an integer in [0, 2^53 - 1], got ${String(nonce)}`);
  }
}

function describeLength(v: unknown): string {
  return v instanceof Uint8Array ? `${v.length} bytes` : typeof v;
}

/** Philox key (k0, k1) for every tensor of a Sprint. */
export function weightKey(sprintSeed: Uint8Array): [number, number] {
  checkSprintSeed(sprintSeed);
  const k = sha256(concatBytes(WEIGHTS_TAG, sprintSeed));
  return [u32le(k, 0), u32le(k, 4)];
}

export function nodeSeed(publicKey: Uint8Array): Uint8Array {
  checkPublicKey(publicKey);
  return sha256(concatBytes(NODE_SEED_TAG, publicKey));
}

export function inputSeed(sprintSeed: Uint8Array, nodeSeedBytes: Uint8Array, nonce: number, version: TaskVersion = TASK_VERSION): Uint8Array {
  checkSprintSeed(sprintSeed);
  checkNonce(nonce);
  return sha256(concatBytes(version === 1 ? INPUT_SEED_TAG_V1 : INPUT_SEED_TAG, sprintSeed, nodeSeedBytes, u64le(nonce)));
}

/** Tokens read bytes 0 … 4T−1 only; every config has T ≤ 4, so they never reach the keys below. */
export function tokensFromInputSeed(config: SprintConfig, seed: Uint8Array): Uint32Array {
  const tokens = new Uint32Array(config.seqLen);
  for (let t = 0; t < config.seqLen; t++) tokens[t] = u32le(seed, 4 * t) & (config.vocab - 1);
  return tokens;
}

/** Philox key of the nonce's input noise G (spec §5): bytes 16–23 of the input seed. */
export const inputNoiseKey = (seed: Uint8Array): [number, number] => [u32le(seed, 16), u32le(seed, 20)];

/** Key of the output-dependent permutation keys (spec §7): bytes 24–31 of the input seed. */
export const outputKey = (seed: Uint8Array): [number, number] => [u32le(seed, 24), u32le(seed, 28)];

/** Version 1 (superseded, attack suite only): permutation keys known before the forward pass. */
export function permutationKeysV1(seed: Uint8Array): Uint32Array {
  const keys = new Uint32Array(PERMUTATION_ROUNDS);
  for (let r = 0; r < PERMUTATION_ROUNDS; r++) {
    keys[r] = (u32le(seed, 16 + 4 * (r % 4)) ^ Math.imul(r, 0x9e3779b9)) >>> 0;
  }
  return keys;
}
