/**
 * config.json of a Llama-family decoder (Llama 2/3, SmolLM/SmolLM2, Mistral without sliding
 * window, Qwen2/Qwen2.5) → the numbers the engine needs, checked. Field names are Hugging Face's.
 */
import { LlmError } from './errors.ts';

export type RopeScaling =
  | { readonly type: 'default' }
  | { readonly type: 'linear'; readonly factor: number }
  | { readonly type: 'llama3'; readonly factor: number; readonly lowFreqFactor: number; readonly highFreqFactor: number; readonly originalMaxPositions: number }
  | {
      readonly type: 'yarn';
      readonly factor: number;
      readonly originalMaxPositions: number;
      readonly betaFast: number;
      readonly betaSlow: number;
      readonly attentionFactor: number | null;
    };

export interface LlamaConfig {
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  /** Biases on q_proj, k_proj, v_proj (Qwen2 always; Llama when `attention_bias`). */
  readonly qkvBias: boolean;
  /** Bias on o_proj (Llama `attention_bias`; Qwen2 has none). */
  readonly oBias: boolean;
  /** Bias on the MLP projections (Llama `mlp_bias`). */
  readonly mlpBias: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  /** The dtype the checkpoint says it was saved in (informational). */
  readonly torchDtype: string | null;
}

export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'mistral', 'smollm', 'smollm2'] as const;

const bad = (why: string): LlmError => new LlmError('BAD_CONFIG', `config.json: ${why}`);

function int(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw bad(`${key} must be a positive integer, got ${JSON.stringify(raw[key])}`);
  return v;
}

function num(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`${key} must be a positive number, got ${JSON.stringify(raw[key])}`);
  return v;
}

const ids = (v: unknown): number[] =>
  v === null || v === undefined ? [] : Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : Number.isInteger(v) ? [v as number] : [];

function parseRopeScaling(raw: Record<string, unknown>, maxPositions: number): RopeScaling {
  // transformers ≥ 4.5x may put everything under rope_parameters; older configs use rope_scaling.
  const params = (raw.rope_parameters ?? raw.rope_scaling) as Record<string, unknown> | null | undefined;
  if (params === null || params === undefined) return { type: 'default' };
  if (typeof params !== 'object') throw bad('rope_scaling must be an object or null');
  const type = String(params.rope_type ?? params.type ?? 'default');
  const factor = (): number => num(params, 'factor');
  switch (type) {
    case 'default':
      return { type: 'default' };
    case 'linear':
      return { type: 'linear', factor: factor() };
    case 'llama3':
      return {
        type: 'llama3',
        factor: factor(),
        lowFreqFactor: num(params, 'low_freq_factor'),
        highFreqFactor: num(params, 'high_freq_factor'),
        originalMaxPositions: int(params, 'original_max_position_embeddings'),
      };
    case 'yarn':
      return {
        type: 'yarn',
        factor: factor(),
        originalMaxPositions: int(params, 'original_max_position_embeddings', maxPositions),
        betaFast: num(params, 'beta_fast', 32),
        betaSlow: num(params, 'beta_slow', 1),
        attentionFactor: typeof params.attention_factor === 'number' ? params.attention_factor : null,
      };
    default:
      throw new LlmError('UNSUPPORTED_MODEL', `config.json: rope_scaling type '${type}' is not implemented (default, linear, llama3 and yarn are)`);
  }
}

/** Parses and checks config.json (an object or its text). `generation` (generation_config.json) may add EOS ids. */
export function parseConfig(input: string | object, generation?: object | null): LlamaConfig {
  let raw: Record<string, unknown>;
  try {
    raw = (typeof input === 'string' ? JSON.parse(input) : input) as Record<string, unknown>;
  } catch (cause) {
    throw new LlmError('BAD_CONFIG', `config.json is not JSON: ${String(cause)}`, { cause });
  }
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  const modelType = String(raw.model_type ?? '');
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new LlmError(
      'UNSUPPORTED_MODEL',
      `config.json: model_type '${modelType}' is not a supported Llama-family decoder (${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  }
  const act = String(raw.hidden_act ?? raw.hidden_activation ?? 'silu');
  if (act !== 'silu' && act !== 'swish') throw new LlmError('UNSUPPORTED_MODEL', `config.json: hidden_act '${act}' is not implemented (SwiGLU with silu is)`);
  if (typeof raw.sliding_window === 'number' && raw.use_sliding_window === true) {
    throw new LlmError('UNSUPPORTED_MODEL', 'config.json: sliding-window attention is not implemented');
  }
  if (raw.partial_rotary_factor !== undefined && raw.partial_rotary_factor !== 1) {
    throw new LlmError('UNSUPPORTED_MODEL', `config.json: partial_rotary_factor ${String(raw.partial_rotary_factor)} is not implemented`);
  }
  const hiddenSize = int(raw, 'hidden_size');
  const numHeads = int(raw, 'num_attention_heads');
  const numKvHeads = int(raw, 'num_key_value_heads', numHeads);
  const headDim = raw.head_dim === undefined || raw.head_dim === null ? hiddenSize / numHeads : int(raw, 'head_dim');
  if (!Number.isInteger(headDim)) throw bad(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  if (numHeads % numKvHeads !== 0) throw bad(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 4 !== 0) throw new LlmError('UNSUPPORTED_MODEL', `config.json: head_dim ${headDim} is not a multiple of 4`);
  const intermediateSize = int(raw, 'intermediate_size');
  if (hiddenSize % 4 !== 0 || intermediateSize % 4 !== 0)
    throw new LlmError('UNSUPPORTED_MODEL', 'config.json: hidden_size and intermediate_size must be multiples of 4');
  const maxPositions = int(raw, 'max_position_embeddings', 2048);
  const rope = (raw.rope_parameters as Record<string, unknown> | undefined) ?? {};
  const isQwen2 = modelType === 'qwen2';
  const attentionBias = raw.attention_bias === true;
  const gen = (generation ?? {}) as Record<string, unknown>;
  const eos = [...new Set([...ids(raw.eos_token_id), ...ids(gen.eos_token_id)])];
  const bos = ids(raw.bos_token_id)[0] ?? ids(gen.bos_token_id)[0] ?? null;
  return {
    modelType,
    vocabSize: int(raw, 'vocab_size'),
    hiddenSize,
    intermediateSize,
    numLayers: int(raw, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: num(rope, 'rope_theta', typeof raw.rope_theta === 'number' ? raw.rope_theta : 10000),
    ropeScaling: parseRopeScaling(raw, maxPositions),
    maxPositions,
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    qkvBias: isQwen2 || attentionBias,
    oBias: !isQwen2 && attentionBias,
    mlpBias: raw.mlp_bias === true,
    bosTokenId: bos,
    eosTokenIds: eos,
    torchDtype: typeof raw.torch_dtype === 'string' ? raw.torch_dtype : typeof raw.dtype === 'string' ? raw.dtype : null,
  };
}

/** Weight names as Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM save them. */
export const tensorNames = {
  embed: 'model.embed_tokens.weight',
  norm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  layer: (i: number) => ({
    inputNorm: `model.layers.${i}.input_layernorm.weight`,
    postNorm: `model.layers.${i}.post_attention_layernorm.weight`,
    q: `model.layers.${i}.self_attn.q_proj.weight`,
    k: `model.layers.${i}.self_attn.k_proj.weight`,
    v: `model.layers.${i}.self_attn.v_proj.weight`,
    o: `model.layers.${i}.self_attn.o_proj.weight`,
    qBias: `model.layers.${i}.self_attn.q_proj.bias`,
    kBias: `model.layers.${i}.self_attn.k_proj.bias`,
    vBias: `model.layers.${i}.self_attn.v_proj.bias`,
    oBias: `model.layers.${i}.self_attn.o_proj.bias`,
    gate: `model.layers.${i}.mlp.gate_proj.weight`,
    up: `model.layers.${i}.mlp.up_proj.weight`,
    down: `model.layers.${i}.mlp.down_proj.weight`,
    gateBias: `model.layers.${i}.mlp.gate_proj.bias`,
    upBias: `model.layers.${i}.mlp.up_proj.bias`,
    downBias: `model.layers.${i}.mlp.down_proj.bias`,
  }),
};

/** A weight's shape: [rows, cols] for a matrix, [length] for a vector (norms, biases). */
export type TensorShape = readonly [number] | readonly [number, number];

/** Every tensor the model needs with its shape, for layers [fromLayer, toLayer) (+ embedding / head at the ends). */
export function expectedTensors(c: LlamaConfig, fromLayer = 0, toLayer = c.numLayers): Map<string, TensorShape> {
  const out = new Map<string, TensorShape>();
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  if (fromLayer === 0 || (toLayer === c.numLayers && c.tieWordEmbeddings)) out.set(tensorNames.embed, [c.vocabSize, D]);
  for (let i = fromLayer; i < toLayer; i++) {
    const n = tensorNames.layer(i);
    out.set(n.inputNorm, [D]);
    out.set(n.q, [qDim, D]);
    out.set(n.k, [kvDim, D]);
    out.set(n.v, [kvDim, D]);
    out.set(n.o, [D, qDim]);
    out.set(n.postNorm, [D]);
    out.set(n.gate, [F, D]);
    out.set(n.up, [F, D]);
    out.set(n.down, [D, F]);
    if (c.qkvBias) {
      out.set(n.qBias, [qDim]);
      out.set(n.kBias, [kvDim]);
      out.set(n.vBias, [kvDim]);
    }
    if (c.oBias) out.set(n.oBias, [D]);
    if (c.mlpBias) {
      out.set(n.gateBias, [F]);
      out.set(n.upBias, [F]);
      out.set(n.downBias, [D]);
    }
  }
  if (toLayer === c.numLayers) {
    out.set(tensorNames.norm, [D]);
    if (!c.tieWordEmbeddings) out.set(tensorNames.lmHead, [c.vocabSize, D]);
  }
  return out;
}

export function checkLayerRange(c: LlamaConfig, fromLayer: number, toLayer: number): void {
  if (!Number.isInteger(fromLayer) || !Number.isInteger(toLayer) || fromLayer < 0 || toLayer > c.numLayers || fromLayer >= toLayer) {
    throw new LlmError('BAD_ARGUMENT', `layer range [${fromLayer}, ${toLayer}) is not within [0, ${c.numLayers}) or is empty`);
  }
}
