/**
 * Task version 2 on the GPU: the input noise G added in the embed kernel, and the output stage's
 * fingerprint → permutation keys → distance path, against the CPU reference (src/sprint).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { fingerprint, FINGERPRINT_BITS, FINGERPRINT_WORDS, outputPermutationKeys } from '../sprint/fingerprint.ts';
import { ReferenceModel, evaluateNonces, logitMean, mapReferenceNonces, nonceInput } from '../sprint/reference.ts';
import { at } from '../sprint/indexing.ts';
import { inputSeed, nodeSeed, outputKey, PERMUTATION_ROUNDS, tokensFromInputSeed } from '../sprint/seeds.ts';
import { PUBLIC_KEY, SPEC_TOLERANCE, SPRINT_SEED, nodeEngine } from './test-support.ts';
import type { SprintEngine } from './transformer.ts';

const tiny = CONFIGS.tiny;
const NONCES = Array.from({ length: 768 }, (_, i) => 5000 + 7 * i);

interface RefNonce {
  seed: Uint8Array;
  fingerprint: Uint32Array;
  keys: Uint32Array;
  distance: number;
  /** Smallest |z_j − mean| over the 128 fingerprint logits (how close the nonce is to a bit flip). */
  margin: number;
}

let model: ReferenceModel;
let reference: RefNonce[];

type Pair<T> = readonly [T, T];
const both = <T, U>([a, b]: Pair<T>, f: (x: T, i: number) => U): [U, U] => [f(a, 0), f(b, 1)];

beforeAll(() => {
  model = new ReferenceModel(tiny, SPRINT_SEED, true);
  reference = mapReferenceNonces(model, SPRINT_SEED, PUBLIC_KEY, NONCES, ({ seed, logits, keys, distance }) => {
    const mean = logitMean(logits);
    let margin = Infinity;
    for (const z of logits.subarray(0, FINGERPRINT_BITS)) margin = Math.min(margin, Math.abs(z - mean));
    return { seed, fingerprint: fingerprint(logits, mean), keys, distance, margin };
  });
});

describe('task version 2 on the GPU (tiny)', () => {
  for (const outputMode of ['serial', 'workgroup'] as const) {
    it(`${outputMode} output stage: fingerprints and permutation keys equal the reference's bit for bit on ${NONCES.length} nonces; distances within the spec tolerance, same appropriate flags`, async () => {
      // Batch 80: the last of 10 passes is partly filled (768 = 9 × 80 + 48).
      const engine = await nodeEngine({ autotune: false, outputMode, batch: 80 });
      try {
        const got = await engine.inspectNonces(PUBLIC_KEY, NONCES);
        const r = rTarget(tiny);
        let worst = 0;
        reference.forEach((ref, i) => {
          const fp = got.fingerprints.subarray(i * FINGERPRINT_WORDS, (i + 1) * FINGERPRINT_WORDS);
          const keys = got.keys.subarray(i * PERMUTATION_ROUNDS, (i + 1) * PERMUTATION_ROUNDS);
          expect(Array.from(fp), `fingerprint of nonce ${NONCES[i]} (margin ${ref.margin})`).toEqual(Array.from(ref.fingerprint));
          // The keys follow from the GPU's own fingerprint by the spec's Philox derivation …
          expect(Array.from(keys)).toEqual(Array.from(outputPermutationKeys(fp, outputKey(ref.seed))));
          // … and equal the reference's.
          expect(Array.from(keys)).toEqual(Array.from(ref.keys));
          const distance = at(got.distances, i, 'distance');
          worst = Math.max(worst, Math.abs(distance - ref.distance));
          expect(distance < r, `flag of nonce ${NONCES[i]}`).toBe(ref.distance < r);
        });
        expect(worst).toBeLessThanOrEqual(SPEC_TOLERANCE);
        // The fingerprints are not degenerate: no two of the nonces share one.
        expect(new Set(reference.map((x) => x.fingerprint.join(','))).size).toBe(NONCES.length);
        // The Sprint path (no fingerprint readback) gives the same distances.
        expect(await engine.evaluateNonces(PUBLIC_KEY, NONCES.slice(0, 100))).toEqual(got.distances.slice(0, 100));
        expect(engine.device.uncapturedErrors).toEqual([]);
      } finally {
        engine.destroy();
      }
    });
  }

  it('input noise: two nonces with the same tokens get different inputs and distances, both as the reference', async () => {
    // Found by a birthday search over nonces 0 … 896,751 for this sprint seed and public key
    // (token space 512^4 = 2^36): both input seeds give the tokens 121, 36, 355, 76.
    const pair: Pair<number> = [623_112, 896_751];
    const ns = nodeSeed(PUBLIC_KEY);
    const seeds = both(pair, (n) => inputSeed(SPRINT_SEED, ns, n));
    const [t0, t1] = both(seeds, (s) => Array.from(tokensFromInputSeed(tiny, s)));
    expect(t0).toEqual([121, 36, 355, 76]);
    expect(t1).toEqual(t0);
    // The reference's inputs differ by G only (E and P are the same rows).
    const [x0, x1] = both(seeds, (s) => nonceInput(model, s).x);
    expect(x0.some((v, i) => v !== x1[i])).toBe(true);

    const engine: SprintEngine = await nodeEngine({ autotune: false, batch: 2 });
    try {
      const gpu = await engine.inspectNonces(PUBLIC_KEY, pair);
      const cpu = evaluateNonces(tiny, SPRINT_SEED, PUBLIC_KEY, pair, model);
      gpu.distances.forEach((d, i) => expect(Math.abs(d - at(cpu, i, 'reference nonce').distance)).toBeLessThanOrEqual(SPEC_TOLERANCE));
      // The fingerprint reads the logits alone (not the output key): it differs only because G does.
      const [f0, f1] = both([0, 1], (i) => Array.from(gpu.fingerprints.subarray(i * FINGERPRINT_WORDS, (i + 1) * FINGERPRINT_WORDS)));
      expect(f0).not.toEqual(f1);
      const refFp = both([x0, x1], (x) => {
        const logits = model.logits(at(model.runLayers([x], 0, tiny.layers), 0, 'final state'));
        return Array.from(fingerprint(logits, logitMean(logits)));
      });
      expect([f0, f1]).toEqual(refFp);
      // Without the noise (light inference path) the two inputs are the same sequence: equal logits.
      const plain = await engine.forward({ tokens: [Uint32Array.from(t0), Uint32Array.from(t1)], logits: true });
      const V = tiny.vocab;
      expect(plain.logits!.subarray(0, V)).toEqual(plain.logits!.subarray(V, 2 * V));
    } finally {
      engine.destroy();
    }
  });
});
