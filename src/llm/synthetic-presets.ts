/**
 * Shapes of public Llama-family models for synthetic benchmarks (`bench:llm --synthetic NAME`):
 * the fields of each model's published config.json on the Hugging Face Hub that the engine reads
 * (repositories named in `source`), written down here because this machine cannot download them.
 * Only shapes matter to the benchmark; the weights are random (synthetic-weights.ts). `tiny` is no
 * published model: the one small shape the synthetic-model tests and the device kit's smoke run share.
 */
export interface SyntheticPreset {
  /** The Hub repository whose config.json these values are from; none for `tiny`. */
  readonly source?: string;
  readonly config: Readonly<Record<string, unknown>>;
}

const llama3Rope = (factor: number) => ({
  factor,
  high_freq_factor: 4.0,
  low_freq_factor: 1.0,
  original_max_position_embeddings: 8192,
  rope_type: 'llama3',
});

export const SYNTHETIC_PRESETS: Readonly<Record<string, SyntheticPreset>> = {
  /** 2 layers, D 64, 4 heads of 16, 2 KV heads, F 128, V 256, untied head: 90,112 weight values a token, seconds on SwiftShader. */
  tiny: {
    config: {
      model_type: 'llama',
      hidden_size: 64,
      intermediate_size: 128,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      num_hidden_layers: 2,
      vocab_size: 256,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
    },
  },
  'smollm2-135m': {
    source: 'HuggingFaceTB/SmolLM2-135M',
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_act: 'silu',
      hidden_size: 576,
      intermediate_size: 1536,
      num_attention_heads: 9,
      num_hidden_layers: 30,
      num_key_value_heads: 3,
      max_position_embeddings: 8192,
      rms_norm_eps: 1e-5,
      rope_scaling: null,
      rope_theta: 100000,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      vocab_size: 49152,
      bos_token_id: 0,
      eos_token_id: 0,
    },
  },
  'qwen2.5-0.5b': {
    source: 'Qwen/Qwen2.5-0.5B',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      hidden_act: 'silu',
      hidden_size: 896,
      intermediate_size: 4864,
      num_attention_heads: 14,
      num_hidden_layers: 24,
      num_key_value_heads: 2,
      max_position_embeddings: 32768,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      use_sliding_window: false,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      vocab_size: 151936,
      bos_token_id: 151643,
      eos_token_id: 151643,
    },
  },
  'llama-3.2-1b': {
    source: 'meta-llama/Llama-3.2-1B',
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_act: 'silu',
      hidden_size: 2048,
      intermediate_size: 8192,
      num_attention_heads: 32,
      num_hidden_layers: 16,
      num_key_value_heads: 8,
      head_dim: 64,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-5,
      rope_scaling: llama3Rope(32.0),
      rope_theta: 500000.0,
      attention_bias: false,
      mlp_bias: false,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      vocab_size: 128256,
      bos_token_id: 128000,
      eos_token_id: 128001,
    },
  },
  'qwen2.5-1.5b': {
    source: 'Qwen/Qwen2.5-1.5B',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      hidden_act: 'silu',
      hidden_size: 1536,
      intermediate_size: 8960,
      num_attention_heads: 12,
      num_hidden_layers: 28,
      num_key_value_heads: 2,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 131072,
      use_sliding_window: false,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      vocab_size: 151936,
      bos_token_id: 151643,
      eos_token_id: 151643,
    },
  },
  'llama-3.1-8b': {
    source: 'meta-llama/Llama-3.1-8B',
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_act: 'silu',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-5,
      rope_scaling: llama3Rope(8.0),
      rope_theta: 500000.0,
      attention_bias: false,
      mlp_bias: false,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      vocab_size: 128256,
      bos_token_id: 128000,
      eos_token_id: 128001,
    },
  },
};
