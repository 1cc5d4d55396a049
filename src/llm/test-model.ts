/**
 * The random test model: a Llama-family decoder with weights drawn from a seeded generator, written
 * in exactly the files a downloaded model has (config.json, generation_config.json, tokenizer.json
 * with a byte-level BPE trained on a small corpus, tokenizer_config.json with a ChatML template,
 * safetensors in F32/F16/BF16, optionally sharded with model.safetensors.index.json). It generates
 * nonsense: it exists so that every code path of loading, tokenizing and running a real model is
 * exercised offline. `config.json` carries `sprintnet_test_model` so tools can say so.
 */
import { trainBpe, tokenizerJson } from './bpe.ts';
import { encodeFloats, type FloatDType } from './dtype.ts';
import { encodeSafetensors, type TensorToWrite } from './safetensors.ts';
import { LlmError } from './errors.ts';
import { SeededRandom } from './sampling.ts';

export interface TestModelOptions {
  readonly layers?: number;
  readonly hidden?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly vocab?: number;
  readonly intermediate?: number;
  readonly dtype?: FloatDType;
  readonly shards?: number;
  /** 'llama' (SmolLM2-like: no biases) or 'qwen2' (QKV biases). */
  readonly modelType?: 'llama' | 'qwen2';
  readonly tieEmbeddings?: boolean;
  readonly ropeTheta?: number;
  /** A Llama 3 style rope_scaling block (or none). */
  readonly ropeScaling?: 'none' | 'llama3' | 'linear';
  readonly maxPositions?: number;
  readonly seed?: number;
}

export const TEST_MODEL_MARKER = 'sprintnet_test_model';

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** ChatML, as SmolLM2-Instruct and Qwen2.5-Instruct use it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a random test model. Your words mean nothing.<|im_end|>\\n' }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The text the test tokenizer's merges are learnt from (a few paragraphs of plain English). */
export const TEST_CORPUS = `Sprintnet lets anyone give their GPU to a decentralized network by opening a web page.
The network runs Sprints: every host runs the same freshly randomized transformer over many nonces.
Between Sprints the GPU serves inference for users and earns compute units.
A user who wants to keep a prompt private runs the first layers of the model on their own device
and sends only the hidden state; the volunteer runs the remaining layers and returns the logits.
The model is a decoder: it reads the tokens of the prompt, one position after another, and predicts
the next token. Attention lets each position look at the positions before it. The keys and values
of earlier positions are kept in a cache, so that each new token costs one step and not a whole pass.
Hello! How are you today? I am fine, thank you. What is the weather like where you are?
It is sunny and warm, with a light wind from the sea. The children are playing in the garden,
the cat is sleeping on the chair, and the bread is baking in the oven. We will eat at seven o'clock.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 2024 3.14159. Punctuation: , . ; : ! ? ( ) [ ] { } " ' - + = / *.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Once upon a time there was a small model that lived in a web page. It had random weights, so it
spoke only nonsense, but it loaded, tokenized and ran exactly like the big models it stood in for.
`;

/** Output projections (o_proj, down_proj) drawn this much larger, so that layers outweigh the input embedding and a tied head does not just repeat the last token. */
const OUT_GAIN = 3;

const TORCH_DTYPE: Record<FloatDType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export interface TestModelFiles {
  /** File name → bytes, as they would sit in a downloaded model folder. */
  readonly files: Map<string, Uint8Array>;
  readonly config: Record<string, unknown>;
}

/** Builds every file of the test model in memory. Same options → same bytes. */
export function makeTestModel(options: TestModelOptions = {}): TestModelFiles {
  const layers = options.layers ?? 2;
  const hidden = options.hidden ?? 64;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const vocab = options.vocab ?? 384;
  const intermediate = options.intermediate ?? Math.round((hidden * 8) / 3 / 4) * 4;
  const dtype = options.dtype ?? 'BF16';
  const shards = options.shards ?? 1;
  const modelType = options.modelType ?? 'llama';
  const tie = options.tieEmbeddings ?? true;
  const seed = options.seed ?? 1;
  const headDim = hidden / heads;
  for (const [k, v] of Object.entries({ layers, hidden, heads, kvHeads, vocab, intermediate, shards })) {
    if (!Number.isInteger(v) || v <= 0) throw new LlmError('BAD_ARGUMENT', `${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(headDim) || headDim % 4 !== 0) throw new LlmError('BAD_ARGUMENT', `hidden ${hidden} / heads ${heads} must be a whole multiple of 4`);
  if (heads % kvHeads !== 0) throw new LlmError('BAD_ARGUMENT', `heads ${heads} must be a multiple of kv-heads ${kvHeads}`);
  if (hidden % 4 !== 0 || intermediate % 4 !== 0) throw new LlmError('BAD_ARGUMENT', 'hidden and intermediate sizes must be multiples of 4');
  if (vocab < SPECIAL_TOKENS.length + 256) throw new LlmError('BAD_ARGUMENT', `vocab must be at least ${SPECIAL_TOKENS.length + 256} (specials + 256 bytes)`);

  const bpe = trainBpe(TEST_CORPUS, vocab, SPECIAL_TOKENS);
  const id = (t: string): number => bpe.vocab.get(t)!;
  const ropeScaling =
    options.ropeScaling === 'llama3'
      ? { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 }
      : options.ropeScaling === 'linear'
        ? { type: 'linear', factor: 2 }
        : null;
  const config: Record<string, unknown> = {
    architectures: [modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: id('<|im_start|>'),
    eos_token_id: id('<|im_end|>'),
    hidden_act: 'silu',
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: intermediate,
    max_position_embeddings: options.maxPositions ?? 2048,
    mlp_bias: false,
    model_type: modelType,
    num_attention_heads: heads,
    num_hidden_layers: layers,
    num_key_value_heads: kvHeads,
    rms_norm_eps: 1e-5,
    rope_scaling: ropeScaling,
    rope_theta: options.ropeTheta ?? 100000,
    tie_word_embeddings: tie,
    torch_dtype: TORCH_DTYPE[dtype],
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: vocab,
    [TEST_MODEL_MARKER]: { seed, note: 'random weights from a seed: this model generates nonsense' },
  };
  if (modelType === 'qwen2') Object.assign(config, { use_sliding_window: false, sliding_window: null });

  // Weights: projections ~ N(0, 1/fan_in) so activations keep their size; embeddings ~ N(0, 0.5²)
  // so logits spread over a few units and greedy choices have clear margins.
  const rng = new SeededRandom(seed);
  const tensors: TensorToWrite[] = [];
  const add = (name: string, shape: number[], draw: () => number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = draw();
    tensors.push({ name, dtype, shape, bytes: encodeFloats(dtype, values) });
  };
  const proj = (fanIn: number) => () => rng.normal() / Math.sqrt(fanIn);
  const norm = () => 1 + 0.1 * rng.normal();
  const bias = () => 0.1 * rng.normal();
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  add('model.embed_tokens.weight', [vocab, hidden], () => 0.5 * rng.normal());
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    add(`${p}input_layernorm.weight`, [hidden], norm);
    add(`${p}self_attn.q_proj.weight`, [qDim, hidden], proj(hidden));
    add(`${p}self_attn.k_proj.weight`, [kvDim, hidden], proj(hidden));
    add(`${p}self_attn.v_proj.weight`, [kvDim, hidden], proj(hidden));
    if (modelType === 'qwen2') {
      add(`${p}self_attn.q_proj.bias`, [qDim], bias);
      add(`${p}self_attn.k_proj.bias`, [kvDim], bias);
      add(`${p}self_attn.v_proj.bias`, [kvDim], bias);
    }
    add(`${p}self_attn.o_proj.weight`, [hidden, qDim], () => OUT_GAIN * proj(qDim)());
    add(`${p}post_attention_layernorm.weight`, [hidden], norm);
    add(`${p}mlp.gate_proj.weight`, [intermediate, hidden], proj(hidden));
    add(`${p}mlp.up_proj.weight`, [intermediate, hidden], proj(hidden));
    add(`${p}mlp.down_proj.weight`, [hidden, intermediate], () => OUT_GAIN * proj(intermediate)());
  }
  add('model.norm.weight', [hidden], norm);
  if (!tie) add('lm_head.weight', [vocab, hidden], () => 0.5 * rng.normal());

  const files = new Map<string, Uint8Array>();
  const json = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o, null, 2) + '\n');
  files.set('config.json', json(config));
  files.set(
    'generation_config.json',
    json({ bos_token_id: id('<|im_start|>'), eos_token_id: [id('<|im_end|>'), id('<|endoftext|>')], transformers_version: '4.46.0' }),
  );
  files.set('tokenizer.json', json(tokenizerJson(bpe)));
  files.set(
    'tokenizer_config.json',
    json({
      add_bos_token: false,
      add_prefix_space: false,
      added_tokens_decoder: Object.fromEntries(
        SPECIAL_TOKENS.map((t) => [String(id(t)), { content: t, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
      ),
      bos_token: '<|im_start|>',
      eos_token: '<|im_end|>',
      pad_token: '<|im_end|>',
      unk_token: '<|endoftext|>',
      chat_template: CHATML_TEMPLATE,
      clean_up_tokenization_spaces: false,
      model_max_length: options.maxPositions ?? 2048,
      tokenizer_class: 'GPT2Tokenizer',
      vocab_size: vocab,
    }),
  );
  if (shards === 1) {
    files.set('model.safetensors', encodeSafetensors(tensors));
  } else {
    const per = Math.ceil(tensors.length / shards);
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let s = 0; s < shards; s++) {
      const part = tensors.slice(s * per, (s + 1) * per);
      const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      for (const t of part) {
        weightMap[t.name] = name;
        total += t.bytes.byteLength;
      }
      files.set(name, encodeSafetensors(part));
    }
    files.set('model.safetensors.index.json', json({ metadata: { total_size: total }, weight_map: weightMap }));
  }
  return { files, config };
}
