import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { isLlmError } from './errors.ts';
import { ropeFrequencies } from './rope.ts';
import { argmax, sampleToken, SeededRandom } from './sampling.ts';
import { makeTestModel, SPECIAL_TOKENS } from './test-model.ts';
import { StreamingDecoder, TextTokenizer } from './tokenizer.ts';

const model = makeTestModel({ vocab: 400 });
const text = (name: string) => new TextDecoder().decode(model.files.get(name)!);
const tokenizer = TextTokenizer.fromText(text('tokenizer.json'), text('tokenizer_config.json'));

/** Fixture: ASCII, corpus words, digits, whitespace runs, accents, CJK, emoji, and special tokens. */
const FIXTURE = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello!  How are you today?\n\tIndented line, trailing spaces   ',
  "Numbers 3.14159 and 2024; it's 7 o'clock.",
  'Ünïcödé, 日本語のテキスト, emoji 🙂👍🏽 and a zero-width joiner 👩‍💻',
  '<|im_start|>user\nhi<|im_end|>',
];

describe('tokenizer (byte-level BPE through @huggingface/tokenizers)', () => {
  it('round-trips the fixture exactly', () => {
    for (const s of FIXTURE) {
      const ids = tokenizer.encode(s);
      expect(tokenizer.decode(ids)).toBe(s);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 400)).toBe(true);
    }
  });

  it('uses the trained merges (fewer tokens than bytes on corpus-like text) and maps specials to their ids', () => {
    const s = 'The model reads the tokens of the prompt and predicts the next token.';
    expect(tokenizer.encode(s).length).toBeLessThan(new TextEncoder().encode(s).length / 2);
    SPECIAL_TOKENS.forEach((t, i) => expect(tokenizer.tokenToId(t)).toBe(i));
    expect(tokenizer.encode('<|im_end|>')).toEqual([2]);
    expect(tokenizer.decode([1, ...tokenizer.encode('hi'), 2], true)).toBe('hi');
  });

  it('renders the ChatML chat template (system prompt added when absent) and tokenizes it', () => {
    const rendered = tokenizer.renderChat([{ role: 'user', content: 'What is 2+2?' }]);
    expect(rendered).toBe(
      '<|im_start|>system\nYou are a random test model. Your words mean nothing.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    );
    const withSystem = tokenizer.renderChat(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
      false,
    );
    expect(withSystem).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n');
    const ids = tokenizer.encodeChat([{ role: 'user', content: 'What is 2+2?' }]);
    expect(ids[0]).toBe(1);
    expect(ids.filter((id) => id === 2).length).toBe(2);
    expect(tokenizer.decode(ids)).toBe(rendered);
  });

  it('streams text without splitting multi-byte characters', () => {
    const s = 'naïve 日本 🙂 done';
    const ids = tokenizer.encode(s);
    const stream = new StreamingDecoder(tokenizer);
    const parts = ids.map((id) => stream.push(id));
    parts.push(stream.flush());
    expect(parts.join('')).toBe(s);
    expect(parts.some((p) => p.includes('\uFFFD'))).toBe(false);
  });

  it('refuses a broken chat template with BAD_CONFIG', () => {
    expect(() => new TextTokenizer(JSON.parse(text('tokenizer.json')), { chat_template: '{% for x in %}' })).toThrow(/chat_template/);
  });
});

describe('config.json', () => {
  const smol = {
    architectures: ['LlamaForCausalLM'],
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: 576,
    intermediate_size: 1536,
    max_position_embeddings: 8192,
    model_type: 'llama',
    num_attention_heads: 9,
    num_hidden_layers: 30,
    num_key_value_heads: 3,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    vocab_size: 49152,
  };
  const qwen = {
    architectures: ['Qwen2ForCausalLM'],
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_act: 'silu',
    hidden_size: 896,
    intermediate_size: 4864,
    max_position_embeddings: 32768,
    model_type: 'qwen2',
    num_attention_heads: 14,
    num_hidden_layers: 24,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_sliding_window: false,
    vocab_size: 151936,
  };
  const llama32 = {
    architectures: ['LlamaForCausalLM'],
    bos_token_id: 128000,
    eos_token_id: [128001, 128008, 128009],
    head_dim: 64,
    hidden_act: 'silu',
    hidden_size: 2048,
    intermediate_size: 8192,
    max_position_embeddings: 131072,
    model_type: 'llama',
    num_attention_heads: 32,
    num_hidden_layers: 16,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    rope_theta: 500000.0,
    tie_word_embeddings: true,
    vocab_size: 128256,
  };

  it('reads SmolLM2-135M, Qwen2.5-0.5B and Llama 3.2-1B configs', () => {
    const s = parseConfig(smol);
    expect([s.headDim, s.numKvHeads, s.ropeTheta, s.tieWordEmbeddings, s.qkvBias, s.eosTokenIds]).toEqual([64, 3, 100000, true, false, [2]]);
    const q = parseConfig(qwen, { eos_token_id: [151645, 151643] });
    expect([q.headDim, q.qkvBias, q.oBias, q.ropeTheta, q.eosTokenIds]).toEqual([64, true, false, 1e6, [151645, 151643]]);
    const l = parseConfig(llama32);
    expect(l.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    expect(l.eosTokenIds).toEqual([128001, 128008, 128009]);
  });

  it('applies llama3 RoPE scaling as transformers does', () => {
    const c = parseConfig(llama32);
    const { invFreq } = ropeFrequencies(c);
    const base = (i: number) => 1 / 500000 ** ((2 * i) / 64);
    // High frequencies (wavelength < 8192/4) are kept, low ones (wavelength > 8192) divided by 32, the band between blended.
    expect(invFreq[0]).toBe(base(0));
    expect(invFreq[31]).toBeCloseTo(base(31) / 32, 20);
    for (let i = 0; i < 32; i++) {
      const w = (2 * Math.PI) / base(i);
      if (w < 2048) expect(invFreq[i]).toBe(base(i));
      else if (w > 8192) expect(invFreq[i]).toBe(base(i) / 32);
      else {
        const smooth = (8192 / w - 1) / 3;
        expect(invFreq[i]).toBeCloseTo((1 - smooth) * (base(i) / 32) + smooth * base(i), 18);
      }
    }
    const linear = ropeFrequencies(parseConfig({ ...smol, rope_scaling: { type: 'linear', factor: 4 } })).invFreq;
    expect(linear[3]).toBeCloseTo(1 / 100000 ** (6 / 64) / 4, 18);
  });

  it('refuses what it does not implement with typed errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isLlmError(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => parseConfig({ ...smol, model_type: 'gpt2' }))).toBe('UNSUPPORTED_MODEL');
    expect(code(() => parseConfig({ ...smol, hidden_act: 'gelu' }))).toBe('UNSUPPORTED_MODEL');
    expect(code(() => parseConfig({ ...smol, rope_scaling: { rope_type: 'dynamic', factor: 2 } }))).toBe('UNSUPPORTED_MODEL');
    expect(code(() => parseConfig({ ...qwen, use_sliding_window: true }))).toBe('UNSUPPORTED_MODEL');
    expect(code(() => parseConfig({ ...smol, num_key_value_heads: 4 }))).toBe('BAD_CONFIG');
    expect(code(() => parseConfig({ ...smol, hidden_size: -1 }))).toBe('BAD_CONFIG');
    expect(code(() => parseConfig('{not json'))).toBe('BAD_CONFIG');
  });
});

describe('sampling', () => {
  it('is greedy at temperature 0, reproducible from a seed, and respects top-p / top-k', () => {
    const logits = Float32Array.from([0, 3, 1, 2.9, -5]);
    expect(sampleToken(logits, {}, new SeededRandom(1))).toBe(1);
    expect(argmax([1, 5, 5])).toBe(1);
    const draw = (o: object, seed: number, n = 400) => {
      const rng = new SeededRandom(seed);
      return Array.from({ length: n }, () => sampleToken(logits, { temperature: 1, ...o }, rng));
    };
    expect(draw({}, 7)).toEqual(draw({}, 7));
    expect(new Set(draw({}, 7)).size).toBeGreaterThan(2);
    // p(1) ≈ 0.49, p(3) ≈ 0.44: top-p 0.5 keeps both, top-p 0.3 only the best, top-k 1 only the best.
    expect(new Set(draw({ topP: 0.5 }, 3))).toEqual(new Set([1, 3]));
    expect(new Set(draw({ topP: 0.3 }, 3))).toEqual(new Set([1]));
    expect(new Set(draw({ topK: 1 }, 3))).toEqual(new Set([1]));
    const counts = draw({}, 11, 4000).reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<number, number>());
    const p1 = Math.exp(3) / [0, 3, 1, 2.9, -5].reduce((a, v) => a + Math.exp(v), 0);
    expect(Math.abs(counts.get(1)! / 4000 - p1)).toBeLessThan(0.03);
  });
});
