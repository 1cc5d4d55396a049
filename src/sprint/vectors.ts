/** Builds the spec's test vectors (docs/sprint-vectors.json) from the CPU reference. */
import { sha256 } from '@noble/hashes/sha2.js';
import { CONFIGS, type ConfigName } from './config.ts';
import { toHex, utf8 } from './bytes.ts';
import { cosineThreshold, rTarget } from './difficulty.ts';
import { evaluateNonces, ReferenceModel } from './reference.ts';
import { inputSeed, nodeSeed, weightKey } from './seeds.ts';
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
  nonces: Array<{ nonce: number; nodeSeed: string; inputSeed: string; tokens: number[]; distance: number; appropriate: boolean }>;
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
  return {
    config: name,
    sprintSeed: toHex(VECTOR_SPRINT_SEED),
    publicKey: toHex(VECTOR_PUBLIC_KEY),
    weightKey: key,
    rTarget: rTarget(c),
    cosineThreshold: cosineThreshold(c),
    tensors,
    targetFirst: Array.from(model.target.codes.subarray(0, 8)),
    nonces: evaluateNonces(c, VECTOR_SPRINT_SEED, VECTOR_PUBLIC_KEY, nonces, model).map((r) => ({
      ...r,
      nodeSeed: toHex(ns),
      inputSeed: toHex(inputSeed(VECTOR_SPRINT_SEED, ns, r.nonce)),
    })),
  };
}

export const VECTOR_NONCES: Record<ConfigName, number[]> = {
  tiny: [0, 1, 2, 3, 900, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER],
  canonical: [0, 1],
};
