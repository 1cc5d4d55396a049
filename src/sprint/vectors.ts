/** Builds the spec's test vectors (docs/sprint-vectors.json) from the CPU reference. */
import { sha256 } from '@noble/hashes/sha2.js';
import { CONFIGS, type ConfigName } from './config.ts';
import { toHex, utf8 } from './bytes.ts';
import { cosineThreshold, rTarget } from './difficulty.ts';
import { fingerprint } from './fingerprint.ts';
import { logitMean, mapReferenceNonces, ReferenceModel } from './reference.ts';
import { inputNoiseKey, nodeSeed, outputKey, weightKey } from './seeds.ts';
import { codesToValues, generateTensorCodes, GLOBAL_LAYER, scaleExponent, TensorId, tensorShape, type TensorName } from './weights.ts';

export interface TensorVector {
  tensor: TensorName;
  layer: number;
  first: number[];
  /** SHA-256 of the tensor's code bytes q (one byte per element, element order). */
  codesSha256: string;
}

export interface ConfigVectors {
  config: ConfigName;
  sprintSeed: string;
  publicKey: string;
  weightKey: [number, number];
  rTarget: number;
  cosineThreshold: number;
  tensors: TensorVector[];
  targetFirst: number[];
  nonces: NonceVector[];
}

export interface NonceVector {
  nonce: number;
  tokens: number[];
  distance: number;
  appropriate: boolean;
  nodeSeed: string;
  inputSeed: string;
  /** (a0, a1): Philox key of the input noise G. */
  noiseKey: [number, number];
  /** G[0][0 … 7]. */
  noiseFirst: number[];
  /** (b0, b1): key of the output-dependent permutation keys. */
  outputKey: [number, number];
  /** z_0 … z_7 of the float64 reference (informative: another implementation's floats differ in the last bits). */
  logitsFirst: number[];
  /** f0 … f3. */
  fingerprint: number[];
  /** key_0 … key_7 of the Feistel permutation. */
  permutationKeys: number[];
}

export const VECTOR_SPRINT_SEED = sha256(utf8('sprintnet/test-vector/sprint'));
export const VECTOR_PUBLIC_KEY = sha256(utf8('sprintnet/test-vector/public-key'));

const NAMED_TENSORS: Array<[TensorName, (layers: number) => number]> = [
  ['tokEmb', () => GLOBAL_LAYER],
  ['posEmb', () => GLOBAL_LAYER],
  ['wq', () => 0],
  ['wo', () => 0],
  ['w1', () => 0],
  ['w2', (layers) => layers - 1],
  ['lmHead', () => GLOBAL_LAYER],
];

export function buildVectors(name: ConfigName, nonces: number[]): ConfigVectors {
  const c = CONFIGS[name];
  const key = weightKey(VECTOR_SPRINT_SEED);
  const model = new ReferenceModel(c, VECTOR_SPRINT_SEED);
  const tensors = NAMED_TENSORS.map(([tensor, layerOf]): TensorVector => {
    const layer = layerOf(c.layers);
    const id = TensorId[tensor];
    const { rows, cols } = tensorShape(c, id);
    const codes = generateTensorCodes(key, id, layer, rows * cols);
    const first = codesToValues(codes.subarray(0, 8), scaleExponent(c, id));
    return { tensor, layer, first: Array.from(first), codesSha256: toHex(sha256(codes)) };
  });
  const ns = nodeSeed(VECTOR_PUBLIC_KEY);
  const entries = mapReferenceNonces(
    model,
    VECTOR_SPRINT_SEED,
    VECTOR_PUBLIC_KEY,
    nonces,
    ({ nonce, seed, tokens, logits, keys, distance, appropriate }): NonceVector => {
      const noise = generateTensorCodes(inputNoiseKey(seed), TensorId.inputNoise, GLOBAL_LAYER, 8);
      return {
        nonce,
        tokens: Array.from(tokens),
        distance,
        appropriate,
        nodeSeed: toHex(ns),
        inputSeed: toHex(seed),
        noiseKey: inputNoiseKey(seed),
        noiseFirst: Array.from(codesToValues(noise, scaleExponent(c, TensorId.inputNoise))),
        outputKey: outputKey(seed),
        logitsFirst: Array.from(logits.subarray(0, 8)),
        fingerprint: Array.from(fingerprint(logits, logitMean(logits))),
        permutationKeys: Array.from(keys),
      };
    },
  );
  return {
    config: name,
    sprintSeed: toHex(VECTOR_SPRINT_SEED),
    publicKey: toHex(VECTOR_PUBLIC_KEY),
    weightKey: key,
    rTarget: rTarget(c),
    cosineThreshold: cosineThreshold(c),
    tensors,
    targetFirst: Array.from(model.target.codes.subarray(0, 8)),
    nonces: entries,
  };
}

export const VECTOR_NONCES: Record<ConfigName, number[]> = {
  // 1338 is the first appropriate nonce of the test-vector host (task version 2).
  tiny: [0, 1, 2, 3, 900, 1338, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER],
  canonical: [0, 1],
};
