/** Tensor definitions and element generation of spec §4. */
import type { SprintConfig } from './config.ts';
import { philox4x32 } from './philox.ts';

export const TensorId = {
  tokEmb: 0,
  posEmb: 1,
  wq: 2,
  wk: 3,
  wv: 4,
  wo: 5,
  w1: 6,
  w2: 7,
  lmHead: 8,
  target: 9,
  /** Version 2: the nonce's input noise G, generated with the nonce's own Philox key (spec §5). */
  inputNoise: 10,
} as const;
export type TensorId = (typeof TensorId)[keyof typeof TensorId];
export type TensorName = keyof typeof TensorId;

/** Layer field of the Philox counter for tensors outside the layers. */
export const GLOBAL_LAYER = 0xffffffff;
/** Scale exponent of the embeddings. */
const EMBEDDING_SCALE = 8;

export interface TensorShape {
  rows: number;
  cols: number;
}

export function tensorShape(c: SprintConfig, id: TensorId): TensorShape {
  switch (id) {
    case TensorId.tokEmb:
      return { rows: c.vocab, cols: c.dModel };
    case TensorId.posEmb:
      return { rows: c.seqLen, cols: c.dModel };
    case TensorId.wq:
    case TensorId.wk:
    case TensorId.wv:
    case TensorId.wo:
      return { rows: c.dModel, cols: c.dModel };
    case TensorId.w1:
      return { rows: c.ffnHidden, cols: c.dModel };
    case TensorId.w2:
      return { rows: c.dModel, cols: c.ffnHidden };
    case TensorId.lmHead:
      return { rows: c.vocab, cols: c.dModel };
    case TensorId.target:
      return { rows: 1, cols: c.vocab };
    case TensorId.inputNoise:
      return { rows: c.seqLen, cols: c.dModel };
  }
}

/** s(n) = 7 + ceil(log2(n) / 2): keeps a linear layer's gain near 0.8 to 1.2 for any width. */
export const linearScaleExponent = (inputWidth: number): number => 7 + Math.ceil(Math.log2(inputWidth) / 2);

/** Exponent s with value = code · 2^-s; 0 for the target, whose values are the integer codes. */
export function scaleExponent(c: SprintConfig, id: TensorId): number {
  if (id === TensorId.target) return 0;
  if (id === TensorId.tokEmb || id === TensorId.posEmb || id === TensorId.inputNoise) return EMBEDDING_SCALE;
  return linearScaleExponent(tensorShape(c, id).cols);
}

const isLittleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The bytes q of elements [0, count): element e is byte (e & 3) of word ((e >> 2) & 3) of
 * Philox block (e >> 4), which is exactly the little-endian byte order of the output words.
 */
export function generateTensorCodes(key: readonly [number, number], id: TensorId, layer: number, count: number): Uint8Array {
  const blocks = Math.ceil(count / 16);
  const words = new Uint32Array(blocks * 4);
  const out = new Uint32Array(4);
  for (let j = 0; j < blocks; j++) {
    philox4x32(j, id, layer >>> 0, 0, key[0], key[1], out);
    words.set(out, 4 * j);
  }
  if (!isLittleEndian) byteSwapWords(words);
  return new Uint8Array(words.buffer, 0, count);
}

function byteSwapWords(words: Uint32Array): void {
  for (const [i, w] of words.entries()) {
    words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
  }
}

/** Element values code · 2^-s as f32 (exact: each value fits f16, let alone f32). */
export function generateTensor(c: SprintConfig, key: readonly [number, number], id: TensorId, layer: number): Float32Array {
  const { rows, cols } = tensorShape(c, id);
  return codesToValues(generateTensorCodes(key, id, layer, rows * cols), scaleExponent(c, id));
}

/** value = (2q − 255) · 2^−s for each code byte q. */
export function codesToValues(codes: Uint8Array, scaleExponentS: number): Float32Array {
  const scale = 2 ** -scaleExponentS;
  const values = new Float32Array(codes.length);
  for (let e = 0; e < codes.length; e++) values[e] = (2 * codes[e]! - 255) * scale;
  return values;
}

export interface LayerWeights {
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
}

export function generateLayer(c: SprintConfig, key: readonly [number, number], layer: number): LayerWeights {
  return {
    wq: generateTensor(c, key, TensorId.wq, layer),
    wk: generateTensor(c, key, TensorId.wk, layer),
    wv: generateTensor(c, key, TensorId.wv, layer),
    wo: generateTensor(c, key, TensorId.wo, layer),
    w1: generateTensor(c, key, TensorId.w1, layer),
    w2: generateTensor(c, key, TensorId.w2, layer),
  };
}
