/**
 * A small byte-level BPE trainer that writes a real Hugging Face `tokenizer.json` (model BPE,
 * ByteLevel pre-tokenizer / decoder, GPT-2 split regex, added special tokens): what the random
 * test model ships so that tokenization, chat templates and decoding run through the same
 * @huggingface/tokenizers code as a downloaded model.
 */

/** GPT-2's reversible map from bytes to printable characters (`bytes_to_unicode`). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = keep.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return out;
}

/** The GPT-2 pre-tokenization pattern (what ByteLevel with use_regex applies). */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeTrainResult {
  /** token → id; specials first, then the 256 byte symbols, then one per merge. */
  readonly vocab: Map<string, number>;
  readonly merges: [string, string][];
  readonly specials: readonly string[];
}

/** Trains merges on `corpus` until the vocabulary has `vocabSize` entries or no pair occurs twice. */
export function trainBpe(corpus: string, vocabSize: number, specials: readonly string[]): BpeTrainResult {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  const vocab = new Map<string, number>();
  for (const s of specials) vocab.set(s, vocab.size);
  for (const symbol of byteChars) vocab.set(symbol, vocab.size);
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(GPT2_SPLIT)) {
    const word = Array.from(encoder.encode(m[0]), (b) => byteChars[b]).join('');
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  // Each distinct word as its current symbol sequence.
  const words = [...counts.entries()].map(([w, n]) => ({ symbols: Array.from(w), n }));
  const merges: [string, string][] = [];
  while (vocab.size < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [key, n] of pairs) {
      if (n > bestCount || (n === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = n;
      }
    }
    if (best === null) break;
    const [a, b] = best.split('\u0000') as [string, string];
    const merged = a + b;
    merges.push([a, b]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const w of words) {
      const s = w.symbols;
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        const symbol = s[i]!;
        if (symbol === a && s[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(symbol);
      }
      w.symbols = next;
    }
  }
  return { vocab, merges, specials };
}

/** tokenizer.json in the layout the `tokenizers` library writes for byte-level BPE models (GPT-2, SmolLM2, Qwen2). */
export function tokenizerJson(result: BpeTrainResult): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: result.specials.map((content) => ({
      id: result.vocab.get(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(result.vocab),
      merges: result.merges,
    },
  };
}
