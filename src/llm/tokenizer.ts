/**
 * Tokenizer glue: tokenizer.json + tokenizer_config.json through @huggingface/tokenizers, and the
 * chat template through @huggingface/jinja, as transformers' `apply_chat_template` renders it.
 */
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { LlmError } from './errors.ts';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | string;
  readonly content: string;
}

const tokenText = (t: unknown): string | null =>
  typeof t === 'string'
    ? t
    : t && typeof t === 'object' && typeof (t as { content?: unknown }).content === 'string'
      ? (t as { content: string }).content
      : null;

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;

  constructor(
    tokenizerJson: object,
    readonly tokenizerConfig: Record<string, unknown> = {},
  ) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (cause) {
      throw new LlmError('BAD_CONFIG', `tokenizer.json could not be loaded: ${String(cause)}`, { cause });
    }
    this.bosToken = tokenText(tokenizerConfig.bos_token);
    this.eosToken = tokenText(tokenizerConfig.eos_token);
    let source = tokenizerConfig.chat_template as unknown;
    if (Array.isArray(source)) source = (source.find((t) => t?.name === 'default') ?? source[0])?.template;
    try {
      this.template = typeof source === 'string' ? new Template(source) : null;
    } catch (cause) {
      throw new LlmError('BAD_CONFIG', `tokenizer_config.json: chat_template does not parse: ${String(cause)}`, { cause });
    }
  }

  /** Parses the two JSON texts (tokenizer_config.json may be missing). */
  static fromText(tokenizerJson: string, tokenizerConfig?: string | null): TextTokenizer {
    const parse = (text: string, file: string): Record<string, unknown> => {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch (cause) {
        throw new LlmError('BAD_CONFIG', `${file} is not JSON: ${String(cause)}`, { cause });
      }
    };
    return new TextTokenizer(parse(tokenizerJson, 'tokenizer.json'), tokenizerConfig ? parse(tokenizerConfig, 'tokenizer_config.json') : {});
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /** Token ids of `text` (special tokens written in the text are recognised; the model's post-processor adds BOS where it says so). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: readonly number[], skipSpecialTokens = false): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** Renders the chat template (jinja) with transformers' variables. */
  renderChat(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (!this.template) throw new LlmError('BAD_CONFIG', 'tokenizer_config.json has no chat_template: use a plain prompt');
    try {
      return this.template.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        bos_token: this.bosToken ?? '',
        eos_token: this.eosToken ?? '',
        pad_token: tokenText(this.tokenizerConfig.pad_token) ?? '',
        unk_token: tokenText(this.tokenizerConfig.unk_token) ?? '',
      });
    } catch (cause) {
      throw new LlmError('BAD_CONFIG', `chat_template failed to render: ${String(cause)}`, { cause });
    }
  }

  /** Ids of a chat prompt: the rendered template, tokenized without adding specials again (as apply_chat_template(tokenize=True)). */
  encodeChat(messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
    return this.encode(this.renderChat(messages, addGenerationPrompt), false);
  }
}

/**
 * Streams text out of generated ids: returns only what is new and complete. Byte-level BPE splits
 * multi-byte characters across tokens, so text is held back while it ends in U+FFFD.
 */
export class StreamingDecoder {
  private ids: number[] = [];
  private emitted = 0;
  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, this.skipSpecialTokens);
    if (text.endsWith('\uFFFD')) return '';
    const fresh = text.slice(this.emitted);
    this.emitted = text.length;
    return fresh;
  }

  /** Whatever is left, including an incomplete character. */
  flush(): string {
    const text = this.tokenizer.decode(this.ids, this.skipSpecialTokens);
    const fresh = text.slice(this.emitted);
    this.emitted = text.length;
    return fresh;
  }
}
