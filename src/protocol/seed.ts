/**
 * The Sprint seed by commit–reveal among weighted hosts (docs/protocol.md §"Seed").
 *
 *   commitment = SHA-256(utf8("sprintnet/seed-commit/v1") ‖ lp(networkId) ‖ u64 epoch ‖ key ‖ secret)
 *   seed       = SHA-256(utf8("sprintnet/sprint-seed/v1") ‖ prevHash ‖ u64 epoch ‖ u32 n ‖ n × (key ‖ secret))
 *
 * over the n valid reveals sorted by key. `prevHash` is the previous epoch's state hash (the
 * genesis hash before epoch 0), so with no reveal at all the seed is still fresh per epoch but
 * predictable, which is why withholding is penalised.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryWriter } from '../codec/binary.ts';
import { HASH_BYTES, KEY_BYTES, SECRET_BYTES, TAG_SEED_COMMIT, TAG_SPRINT_SEED } from './constants.ts';
import { compareBytes, tagged } from './bytes.ts';

export function seedCommitment(networkId: string, epoch: number, publicKey: Uint8Array, secret: Uint8Array): Uint8Array {
  const body = new BinaryWriter().string(networkId).u64(epoch).fixed(publicKey, KEY_BYTES).fixed(secret, SECRET_BYTES).finish();
  return sha256(tagged(TAG_SEED_COMMIT, body));
}

export interface Reveal {
  readonly publicKey: Uint8Array;
  readonly secret: Uint8Array;
}

export function sprintSeed(prevHash: Uint8Array, epoch: number, reveals: readonly Reveal[]): Uint8Array {
  const sorted = [...reveals].sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  const w = new BinaryWriter().fixed(prevHash, HASH_BYTES).u64(epoch).u32(sorted.length);
  for (const r of sorted) w.fixed(r.publicKey, KEY_BYTES).fixed(r.secret, SECRET_BYTES);
  return sha256(tagged(TAG_SPRINT_SEED, w.finish()));
}
