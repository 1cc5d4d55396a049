/**
 * Hashes both sides compute the same way: the model hash, one leaf per accepted step for the h_k
 * sent and for the output returned, and the roots over those leaves that the proof signs.
 *   model    = SHA-256(TAG_MODEL ‖ Σ over config.json then weight files in name order: lp(name) ‖ SHA-256(bytes))
 *   hk leaf  = SHA-256(TAG_HK ‖ u32 step ‖ u32 position ‖ u32 count ‖ u8 precision ‖ lp(h_k as sent))
 *   out leaf = SHA-256(TAG_OUT ‖ u32 step ‖ lp(logits as sent) ‖ f64 C ‖ f64 H)
 *   root     = SHA-256(TAG_ROOT ‖ u32 n ‖ leaf_0 ‖ … ‖ leaf_{n−1})
 * "As sent" is the wire encoding (f32 or f16, little-endian), so a verifier re-runs exactly the
 * values the volunteer received.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryWriter } from '../codec/binary.ts';
import type { ModelManifest } from '../llm/loader.ts';
import type { ModelSource } from '../llm/source.ts';
import { HASH_BYTES, TAG_HK, TAG_MODEL, TAG_OUT, TAG_ROOT } from './constants.ts';
import type { Precision } from './codec.ts';

const enc = new TextEncoder();

export function hkLeaf(step: number, position: number, count: number, precision: Precision, wire: Uint8Array): Uint8Array {
  return sha256(new BinaryWriter().string(TAG_HK).u32(step).u32(position).u32(count).u8(precision).bytes(wire).finish());
}

export function outputLeaf(step: number, logitsWire: Uint8Array, cost: number, entropyNats: number): Uint8Array {
  return sha256(new BinaryWriter().string(TAG_OUT).u32(step).bytes(logitsWire).f64(cost).f64(entropyNats).finish());
}

export function root(leaves: readonly Uint8Array[]): Uint8Array {
  const w = new BinaryWriter().string(TAG_ROOT).u32(leaves.length);
  for (const leaf of leaves) w.fixed(leaf, HASH_BYTES);
  return sha256(w.finish());
}

/** The model both sides must hold: config.json and every weight file, streamed (never whole in memory). */
export async function modelHash(source: ModelSource, manifest: ModelManifest, signal?: AbortSignal): Promise<Uint8Array> {
  const names = ['config.json', ...manifest.weightFiles.map((f) => f.name).sort()];
  const outer = sha256.create().update(enc.encode(TAG_MODEL));
  for (const name of names) {
    const inner = sha256.create();
    const opened = await source.open(name, signal);
    for await (const chunk of opened.chunks) inner.update(chunk);
    outer.update(new BinaryWriter().string(name).fixed(inner.digest(), HASH_BYTES).finish());
  }
  return outer.digest();
}
