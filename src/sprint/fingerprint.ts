/**
 * Output-dependent permutation keys (spec §7, task version 2). The permutation that decides a
 * nonce's distance is keyed by a fingerprint of the nonce's own logits, so nobody knows it before
 * running the whole forward pass: a screen that ranks nonces by a cheap guess of their permuted
 * output has to guess all fingerprint bits first (docs/sprint-audit.md).
 */
import { philox4x32 } from './philox.ts';
import { PERMUTATION_ROUNDS } from './seeds.ts';

/** Sign bits of the centred logits z_0 … z_127. */
export const FINGERPRINT_BITS = 128;
export const FINGERPRINT_WORDS = FINGERPRINT_BITS / 32;

/** f_w bit (j mod 32) is 1 when z_j > mean(z), for j = 32w … 32w + 31. */
export function fingerprint(logits: ArrayLike<number>, mean: number, out = new Uint32Array(FINGERPRINT_WORDS)): Uint32Array {
  if (logits.length < FINGERPRINT_BITS || out.length < FINGERPRINT_WORDS) {
    throw new RangeError(`a fingerprint needs ${FINGERPRINT_BITS} logits and ${FINGERPRINT_WORDS} output words, got ${logits.length} and ${out.length}`);
  }
  out.fill(0);
  // Both lengths were checked above, so every index below is in range.
  for (let j = 0; j < FINGERPRINT_BITS; j++) if (logits[j]! > mean) out[j >>> 5]! |= 1 << (j & 31);
  return out;
}

/**
 * key_{4j} … key_{4j+3} = Philox4x32-10(counter = (f0, f1, f2, f3), key = (b0, b1 ^ j)) for j = 0, 1,
 * where (b0, b1) is the nonce's output key (input seed bytes 24–31).
 */
export function outputPermutationKeys(fp: Uint32Array, outputKey: readonly [number, number], out = new Uint32Array(PERMUTATION_ROUNDS)): Uint32Array {
  const [f0, f1, f2, f3] = fp;
  if (f0 === undefined || f1 === undefined || f2 === undefined || f3 === undefined) {
    throw new RangeError(`a fingerprint has ${FINGERPRINT_WORDS} words, got ${fp.length}`);
  }
  const block = new Uint32Array(4);
  for (let j = 0; j < 2; j++) {
    philox4x32(f0, f1, f2, f3, outputKey[0], (outputKey[1] ^ j) >>> 0, block);
    out.set(block, 4 * j);
  }
  return out;
}
