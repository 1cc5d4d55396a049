import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { fingerprint, FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import { ReferenceModel, logitMean, mapReferenceNonces } from '../sprint/reference.ts';
import { PERMUTATION_ROUNDS, weightKey } from '../sprint/seeds.ts';
import { GLOBAL_LAYER, TensorId, generateTensorCodes, tensorShape } from '../sprint/weights.ts';
import { at } from '../sprint/indexing.ts';
import { PUBLIC_KEY, SPEC_TOLERANCE, SPRINT_SEED, nodeEngine } from './test-support.ts';
import type { SprintEngine } from './transformer.ts';

// The full 612M-parameter model: ~20 s of weight generation and ~6 s per nonce on SwiftShader.
const canonical = CONFIGS.canonical;
let engine: SprintEngine;

beforeAll(async () => {
  engine = await nodeEngine({
    config: canonical,
    autotune: false,
    variant: { tileM: 4, tileN: 4, useWorkgroupMemory: false, workgroupSize: 64, weightFormat: 'u8' },
    batch: 4,
  });
}, 300_000);
afterAll(() => engine?.destroy());

describe('SprintEngine on canonical', () => {
  it('holds the weights in 1 byte/param; SHA-256 of layer-0 Wq, layer-63 W2 and the LM head match the reference', async () => {
    expect(engine.weightBytes).toBeGreaterThanOrEqual(612_370_432);
    expect(engine.weightBytes).toBeLessThan(612_370_432 * 1.01);
    const key = weightKey(SPRINT_SEED);
    const hex = (b: Uint8Array) => Buffer.from(sha256(b)).toString('hex');
    for (const [id, layer] of [
      [TensorId.wq, 0],
      [TensorId.w2, 63],
      [TensorId.lmHead, GLOBAL_LAYER],
    ] as const) {
      const { rows, cols } = tensorShape(canonical, id);
      expect(hex(await engine.readWeights(id, layer))).toBe(hex(generateTensorCodes(key, id, layer, rows * cols)));
    }
  });

  it('distances of 4 nonces match the CPU reference within the spec tolerance; fingerprints and keys bit for bit', async () => {
    const nonces = [0, 1, 2, 3];
    const gpu = await engine.inspectNonces(PUBLIC_KEY, nonces);
    const r = rTarget(canonical);
    mapReferenceNonces(new ReferenceModel(canonical, SPRINT_SEED), SPRINT_SEED, PUBLIC_KEY, nonces, ({ logits, keys, distance }, i) => {
      expect(Array.from(gpu.fingerprints.subarray(i * FINGERPRINT_WORDS, (i + 1) * FINGERPRINT_WORDS))).toEqual(
        Array.from(fingerprint(logits, logitMean(logits))),
      );
      expect(Array.from(gpu.keys.subarray(i * PERMUTATION_ROUNDS, (i + 1) * PERMUTATION_ROUNDS))).toEqual(Array.from(keys));
      const got = at(gpu.distances, i, 'distance');
      expect(Math.abs(got - distance)).toBeLessThanOrEqual(SPEC_TOLERANCE);
      expect(got < r).toBe(distance < r);
    });
  }, 300_000);
});
