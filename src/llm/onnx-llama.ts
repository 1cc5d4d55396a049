/**
 * A Llama-family decoder written as an ONNX graph, protobuf wire format by hand (no protobuf or
 * onnx library): the peer benchmark runs it on onnxruntime-web's WebGPU execution provider, the
 * runtime @huggingface/transformers uses for WebGPU. The graph uses the fused operators that
 * onnxruntime-genai's model builder emits for WebGPU and that the WebGPU EP implements natively:
 * SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization (RMSNorm, residual add fused),
 * com.microsoft GroupQueryAttention with rotary embedding inside and a BNSH KV cache in and out,
 * MatMul with [in, out] weights, Sigmoid·Mul SwiGLU, and logits of the last position only (as our
 * engine computes while generating). Weights are the model's own, cast to float32 or float16.
 */
import { tensorNames, type LlamaConfig } from './config.ts';
import { decodeFloats, encodeFloats } from './dtype.ts';
import { LlmError } from './errors.ts';
import { ropeTable } from './rope.ts';
import type { LoadedTensor } from './safetensors.ts';
import { ProtoWriter } from '../codec/protobuf.ts';

/** ONNX TensorProto.DataType values. */
const ONNX_TYPE = { float32: 1, int32: 6, int64: 7, float16: 10 } as const;
type OnnxType = keyof typeof ONNX_TYPE;
export type OnnxFloat = 'float32' | 'float16';

type Attr = { name: string } & ({ i: number } | { f: number } | { ints: number[] });
type Dim = number | string;

class GraphBuilder {
  private readonly nodes: ProtoWriter[] = [];
  private readonly inits: ProtoWriter[] = [];
  private readonly inputs: ProtoWriter[] = [];
  private readonly outputs: ProtoWriter[] = [];
  private counter = 0;

  node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = [], domain = ''): void {
    const w = new ProtoWriter();
    for (const i of inputs) w.str(1, i);
    for (const o of outputs) w.str(2, o);
    w.str(3, `${op}_${this.counter++}`).str(4, op);
    for (const a of attrs) {
      w.msg(5, (m) => {
        m.str(1, a.name);
        if ('i' in a) m.int(3, a.i).int(20, 2);
        else if ('f' in a) m.float(2, a.f).int(20, 1);
        else {
          for (const v of a.ints) m.int(8, v);
          m.int(20, 7);
        }
      });
    }
    if (domain) w.str(7, domain);
    this.nodes.push(w);
  }

  initializer(name: string, type: OnnxType, dims: number[], raw: Uint8Array): string {
    const w = new ProtoWriter();
    for (const d of dims) w.int(1, d);
    w.int(2, ONNX_TYPE[type]).str(8, name).len(9, raw);
    this.inits.push(w);
    return name;
  }

  private valueInfo(name: string, type: OnnxType, dims: Dim[]): ProtoWriter {
    return new ProtoWriter().str(1, name).msg(2, (t) =>
      t.msg(1, (tt) => {
        tt.int(1, ONNX_TYPE[type]);
        tt.msg(2, (shape) => dims.forEach((d) => shape.msg(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.str(2, d)))));
      }),
    );
  }

  input(name: string, type: OnnxType, dims: Dim[]): void {
    this.inputs.push(this.valueInfo(name, type, dims));
  }

  output(name: string, type: OnnxType, dims: Dim[]): void {
    this.outputs.push(this.valueInfo(name, type, dims));
  }

  model(): Uint8Array {
    const root = new ProtoWriter();
    root.int(1, 8).str(2, 'sprintnet-llm-peer');
    root.msg(8, (o) => o.str(1, '').int(2, 17));
    root.msg(8, (o) => o.str(1, 'com.microsoft').int(2, 1));
    root.msg(7, (g) => {
      for (const n of this.nodes) g.len(1, n.finish());
      g.str(2, 'llama');
      for (const t of this.inits) g.len(5, t.finish());
      for (const i of this.inputs) g.len(11, i.finish());
      for (const o of this.outputs) g.len(12, o.finish());
    });
    return root.finish();
  }
}

export interface OnnxLlamaOptions {
  readonly dtype: OnnxFloat;
  /** Rows of the rotary cos/sin cache: the longest context a session may reach. */
  readonly maxPositions: number;
}

/** Names of the graph's inputs and outputs (onnxruntime-genai's conventions). */
export const onnxNames = {
  inputIds: 'input_ids',
  seqlensK: 'seqlens_k',
  totalLength: 'total_sequence_length',
  logits: 'logits',
  pastKey: (i: number) => `past_key_values.${i}.key`,
  pastValue: (i: number) => `past_key_values.${i}.value`,
  presentKey: (i: number) => `present.${i}.key`,
  presentValue: (i: number) => `present.${i}.value`,
};

/**
 * Builds the ONNX model. Inputs: input_ids int64 [1, T], seqlens_k int32 [1] (= past + T − 1),
 * total_sequence_length int32 [] (= past + T), past_key_values.i.{key,value} [1, G, past, hd].
 * Outputs: logits [1, 1, V] (last position), present.i.{key,value} [1, G, past + T, hd].
 */
export function llamaOnnxModel(c: LlamaConfig, tensors: ReadonlyMap<string, LoadedTensor>, options: OnnxLlamaOptions): Uint8Array {
  const { dtype } = options;
  const D = c.hiddenSize;
  const hd = c.headDim;
  const G = c.numKvHeads;
  const g = new GraphBuilder();
  const tensor = (name: string): LoadedTensor => {
    const t = tensors.get(name);
    if (!t) throw new LlmError('MISSING_TENSOR', `ONNX export: no ${name}`);
    return t;
  };
  const values = (name: string): Float64Array => {
    const t = tensor(name);
    return decodeFloats(t.info.dtype, t.bytes, name);
  };
  const raw = (v: ArrayLike<number>): Uint8Array => encodeFloats(dtype === 'float16' ? 'F16' : 'F32', v);
  const constant = (name: string, shape: number[]): string => g.initializer(name, dtype, shape, raw(values(name)));
  /** HF stores [out, in]; MatMul wants [in, out]. */
  const transposed = (name: string): string => {
    const { shape } = tensor(name).info;
    const [rows, cols, ...rest] = shape;
    const v = values(name);
    if (rows === undefined || cols === undefined || rest.length > 0 || v.length !== rows * cols) {
      throw new LlmError('SHAPE_MISMATCH', `ONNX export: ${name} has shape [${shape.join(', ')}] and ${v.length} values, a matrix was expected`);
    }
    const out = new Float64Array(v.length);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = v[r * cols + k]!;
    return g.initializer(`${name}.T`, dtype, [cols, rows], raw(out));
  };
  const linear = (x: string, weight: string, bias: string | null, out: string): string => {
    if (!bias) {
      g.node('MatMul', [x, transposed(weight)], [out]);
      return out;
    }
    g.node('MatMul', [x, transposed(weight)], [`${out}.nobias`]);
    const length = values(bias).length;
    g.node('Add', [`${out}.nobias`, constant(bias, [length])], [out]);
    return out;
  };

  // Rotary tables [maxPositions, hd/2]: cos and sin of the same frequencies (and yarn factor) as the engine.
  const table = ropeTable(c, options.maxPositions);
  const half = hd / 2;
  const cos = new Float64Array(options.maxPositions * half);
  const sin = new Float64Array(options.maxPositions * half);
  // ropeTable holds maxPositions rows of hd = 2·half values.
  for (let p = 0; p < options.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = table[p * hd + i]!;
      sin[p * half + i] = table[p * hd + half + i]!;
    }
  }
  g.initializer('cos_cache', dtype, [options.maxPositions, half], raw(cos));
  g.initializer('sin_cache', dtype, [options.maxPositions, half], raw(sin));

  g.input(onnxNames.inputIds, 'int64', [1, 'sequence_length']);
  g.input(onnxNames.seqlensK, 'int32', [1]);
  g.input(onnxNames.totalLength, 'int32', []);
  const eps = { name: 'epsilon', f: c.rmsNormEps };
  const lastAxis = { name: 'axis', i: -1 };
  const embed = constant(tensorNames.embed, [c.vocabSize, D]);
  g.node('Gather', [embed, onnxNames.inputIds], ['embedded']);

  let residual = 'embedded';
  let pending: string | null = null; // the last block output not yet added to the residual
  const rmsnorm = (weight: string, out: string): string => {
    const w = constant(weight, [D]);
    if (pending === null) g.node('SimplifiedLayerNormalization', [residual, w], [out], [lastAxis, eps]);
    else {
      const sum = `${out}.residual`;
      g.node('SkipSimplifiedLayerNormalization', [pending, residual, w], [out, '', '', sum], [eps], 'com.microsoft');
      residual = sum;
      pending = null;
    }
    return out;
  };

  for (let i = 0; i < c.numLayers; i++) {
    const n = tensorNames.layer(i);
    const p = `l${i}`;
    g.input(onnxNames.pastKey(i), dtype, [1, G, 'past_sequence_length', hd]);
    g.input(onnxNames.pastValue(i), dtype, [1, G, 'past_sequence_length', hd]);
    g.output(onnxNames.presentKey(i), dtype, [1, G, 'total_sequence_length', hd]);
    g.output(onnxNames.presentValue(i), dtype, [1, G, 'total_sequence_length', hd]);
    const x = rmsnorm(n.inputNorm, `${p}.attn_in`);
    const q = linear(x, n.q, c.qkvBias ? n.qBias : null, `${p}.q`);
    const k = linear(x, n.k, c.qkvBias ? n.kBias : null, `${p}.k`);
    const v = linear(x, n.v, c.qkvBias ? n.vBias : null, `${p}.v`);
    g.node(
      'GroupQueryAttention',
      [q, k, v, onnxNames.pastKey(i), onnxNames.pastValue(i), onnxNames.seqlensK, onnxNames.totalLength, 'cos_cache', 'sin_cache'],
      [`${p}.attn`, onnxNames.presentKey(i), onnxNames.presentValue(i)],
      [
        { name: 'num_heads', i: c.numHeads },
        { name: 'kv_num_heads', i: G },
        { name: 'do_rotary', i: 1 },
        { name: 'rotary_interleaved', i: 0 },
        { name: 'scale', f: 1 / Math.sqrt(hd) },
      ],
      'com.microsoft',
    );
    pending = linear(`${p}.attn`, n.o, c.oBias ? n.oBias : null, `${p}.o`);
    const h = rmsnorm(n.postNorm, `${p}.mlp_in`);
    const gate = linear(h, n.gate, c.mlpBias ? n.gateBias : null, `${p}.gate`);
    const up = linear(h, n.up, c.mlpBias ? n.upBias : null, `${p}.up`);
    g.node('Sigmoid', [gate], [`${p}.sig`]);
    g.node('Mul', [gate, `${p}.sig`], [`${p}.silu`]);
    g.node('Mul', [`${p}.silu`, up], [`${p}.act`]);
    pending = linear(`${p}.act`, n.down, c.mlpBias ? n.downBias : null, `${p}.down`);
  }
  const normed = rmsnorm(tensorNames.norm, 'final_norm');
  // Last position only: Slice(start −1) on the sequence axis, then [1, D] for Gemm.
  g.initializer('slice_start', 'int64', [1], new Uint8Array(new BigInt64Array([-1n]).buffer));
  g.initializer('slice_end', 'int64', [1], new Uint8Array(new BigInt64Array([BigInt(Number.MAX_SAFE_INTEGER)]).buffer));
  g.initializer('slice_axis', 'int64', [1], new Uint8Array(new BigInt64Array([1n]).buffer));
  g.initializer('flat_shape', 'int64', [2], new Uint8Array(new BigInt64Array([1n, BigInt(D)]).buffer));
  g.initializer('logits_shape', 'int64', [3], new Uint8Array(new BigInt64Array([1n, 1n, BigInt(c.vocabSize)]).buffer));
  g.node('Slice', [normed, 'slice_start', 'slice_end', 'slice_axis'], ['last']);
  g.node('Reshape', ['last', 'flat_shape'], ['last_flat']);
  // A tied head reads the embedding itself (Gemm transB): the same bytes per token as the engine.
  const head = c.tieWordEmbeddings ? embed : constant(tensorNames.lmHead, [c.vocabSize, D]);
  g.node('Gemm', ['last_flat', head], ['logits_flat'], [{ name: 'transB', i: 1 }]);
  g.node('Reshape', ['logits_flat', 'logits_shape'], [onnxNames.logits]);
  g.output(onnxNames.logits, dtype, [1, 1, c.vocabSize]);
  return g.model();
}
