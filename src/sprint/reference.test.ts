import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { CONFIGS } from './config.ts';
import { toHex } from './bytes.ts';
import { SprintInputError } from './errors.ts';
import { at } from './indexing.ts';
import { evaluateNonce, evaluateNonces, ReferenceModel } from './reference.ts';
import { fingerprint, FINGERPRINT_BITS, outputPermutationKeys } from './fingerprint.ts';
import { buildVectors, type ConfigVectors, VECTOR_NONCES } from './vectors.ts';
import { generateTensorCodes, TensorId, tensorShape } from './weights.ts';

const vectors = JSON.parse(readFileSync('docs/sprint-vectors.json', 'utf8')) as { configs: ConfigVectors[] };
const byName = (name: string) => vectors.configs.find((v) => v.config === name)!;

describe('test vectors (docs/sprint-vectors.json)', () => {
  it('tiny: the reference reproduces every field', () => {
    expect(buildVectors('tiny', VECTOR_NONCES.tiny)).toEqual(byName('tiny'));
  });

  it('canonical: weights, target, tokens and distances reproduce', () => {
    // Nonce 0 only (layer-by-layer generation of 0.6 B parameters takes ~10 s on two cores).
    const want = byName('canonical');
    const got = buildVectors('canonical', [0]);
    expect(got.tensors).toEqual(want.tensors);
    expect(got.targetFirst).toEqual(want.targetFirst);
    expect(got.rTarget).toBe(want.rTarget);
    expect(got.nonces[0]).toEqual(want.nonces[0]);
  }, 300_000);
});

describe('weights', () => {
  it('every weight is an odd multiple of 2^-s with |code| ≤ 255, exactly representable in f16', () => {
    const c = CONFIGS.tiny;
    const model = new ReferenceModel(c, new Uint8Array(32));
    const w = model.layer(0).w2;
    const scale = 2 ** 11;
    for (const v of w) {
      const code = v * scale;
      expect(Number.isInteger(code) && Math.abs(code) <= 255 && Math.abs(code) % 2 === 1).toBe(true);
    }
  });

  it('codes are a prefix-stable stream: generating fewer elements gives a prefix', () => {
    const key: [number, number] = [1, 2];
    const all = generateTensorCodes(key, TensorId.w1, 3, 1000);
    expect(generateTensorCodes(key, TensorId.w1, 3, 37)).toEqual(all.subarray(0, 37));
  });

  it('different tensors, layers and seeds give different codes', () => {
    const key: [number, number] = [1, 2];
    const n = tensorShape(CONFIGS.tiny, TensorId.wq).rows * 64;
    const a = toHex(sha256(generateTensorCodes(key, TensorId.wq, 0, n)));
    expect(toHex(sha256(generateTensorCodes(key, TensorId.wk, 0, n)))).not.toBe(a);
    expect(toHex(sha256(generateTensorCodes(key, TensorId.wq, 1, n)))).not.toBe(a);
    expect(toHex(sha256(generateTensorCodes([1, 3], TensorId.wq, 0, n)))).not.toBe(a);
  });
});

describe('forward pass', () => {
  it('activations stay finite and non-degenerate, distances lie in (0, 2)', () => {
    const c = CONFIGS.tiny;
    const model = new ReferenceModel(c, new Uint8Array(32).fill(9));
    const stats: number[] = [];
    const x = at(
      model.runLayers([model.embed(Uint32Array.of(1, 2, 3, 4))], 0, c.layers, (s) => stats.push(s.rms)),
      0,
      'final state',
    );
    expect(stats.every((r) => Number.isFinite(r) && r > 0.5 && r < 50)).toBe(true);
    const logits = model.logits(x);
    const mean = logits.reduce((s, v) => s + v, 0) / logits.length;
    const sd = Math.sqrt(logits.reduce((s, v) => s + (v - mean) ** 2, 0) / logits.length);
    expect(sd).toBeGreaterThan(0.1);
    const results = evaluateNonces('tiny', new Uint8Array(32), new Uint8Array(32), [0, 1, 2, 3]);
    for (const r of results) expect(r.distance > 0 && r.distance < 2).toBe(true);
    expect(new Set(results.map((r) => r.distance)).size).toBe(4);
  });

  it('the layer range API composes: layers [0,1) then [1,2) equal [0,2)', () => {
    const model = new ReferenceModel(CONFIGS.tiny, new Uint8Array(32).fill(4), true);
    const x = model.embed(Uint32Array.of(5, 6, 7));
    const [whole] = model.runLayers([x], 0, 2);
    const [split] = model.runLayers(model.runLayers([x], 0, 1), 1, 2);
    expect(split).toEqual(whole);
  });
});

describe('typed errors on bad input', () => {
  const seed = new Uint8Array(32);
  const key = new Uint8Array(32);
  const cases: Array<[string, () => unknown, string]> = [
    ['short seed', () => evaluateNonce('tiny', new Uint8Array(31), key, 0), 'BAD_SEED'],
    ['long key', () => evaluateNonce('tiny', seed, new Uint8Array(33), 0), 'BAD_PUBLIC_KEY'],
    ['negative nonce', () => evaluateNonce('tiny', seed, key, -1), 'BAD_NONCE'],
    ['fractional nonce', () => evaluateNonce('tiny', seed, key, 1.5), 'BAD_NONCE'],
    ['nonce above 2^53-1', () => evaluateNonce('tiny', seed, key, 2 ** 53), 'BAD_NONCE'],
    ['NaN nonce', () => evaluateNonce('tiny', seed, key, NaN), 'BAD_NONCE'],
    ['unknown config', () => evaluateNonce('huge', seed, key, 0), 'UNKNOWN_CONFIG'],
  ];
  it.each(cases)('%s', (_name, fn, code) => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SprintInputError);
    expect((caught as SprintInputError).code).toBe(code);
    expect((caught as Error).message.length).toBeGreaterThan(10);
  });
});

describe('task version 2: inputs and keys depend on the whole nonce and its own output', () => {
  const c = CONFIGS.tiny;
  const model = new ReferenceModel(c, new Uint8Array(32).fill(3), true);

  it('equal tokens with different noise keys give different inputs at every position', () => {
    const tokens = Uint32Array.of(1, 2, 3, 4);
    const a = model.embed(tokens, [1, 2]);
    const b = model.embed(tokens, [1, 3]);
    for (let t = 0; t < c.seqLen; t++) {
      const rowA = a.subarray(t * c.dModel, (t + 1) * c.dModel);
      const rowB = b.subarray(t * c.dModel, (t + 1) * c.dModel);
      expect(rowA.some((v, i) => v !== rowB[i])).toBe(true);
    }
  });

  it('one flipped fingerprint bit changes every permutation key', () => {
    const fp = Uint32Array.of(0x12345678, 0x9abcdef0, 0x0f0f0f0f, 0xf0f0f0f0);
    const keys = outputPermutationKeys(fp, [7, 9]);
    for (let bit = 0; bit < FINGERPRINT_BITS; bit += 17) {
      const flipped = fp.slice();
      flipped[bit >>> 5] = at(flipped, bit >>> 5, 'fingerprint word') ^ (1 << (bit & 31));
      const other = outputPermutationKeys(flipped, [7, 9]);
      for (let r = 0; r < keys.length; r++) expect(other[r]).not.toBe(keys[r]);
    }
  });

  it('the fingerprint reads the sign of z_j − mean for j < 128', () => {
    const z = new Float64Array(512).map((_, j) => (j % 3 === 0 ? 1 : -0.25));
    const fp = fingerprint(z, 0.1);
    for (let j = 0; j < FINGERPRINT_BITS; j++) expect(((fp[j >>> 5]! >>> (j & 31)) & 1) === 1).toBe(j % 3 === 0);
  });
});
