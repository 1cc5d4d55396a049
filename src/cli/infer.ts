/**
 * `sprintnet infer --model DIR --prompt TEXT [--max-tokens N] [--temperature T --top-p P --seed S]
 *   [--raw] [--system TEXT] [--json]`: runs a Llama-family model folder (config.json,
 * tokenizer.json, *.safetensors) on this machine's GPU through WebGPU (Dawn in Node; SwiftShader
 * when there is no GPU), streaming the text to stdout. The prompt goes through the model's chat
 * template unless --raw or the model has none.
 */
import { parseCommandArgs } from './args.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { adapterLabel } from '../gpu/device.ts';
import { generate } from '../llm/generate.ts';
import { GpuModel } from '../llm/gpu-model.ts';
import { DirectorySource } from '../llm/node-source.ts';
import type { ChatMessage } from '../llm/tokenizer.ts';

const num = (v: string | undefined, name: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
  return n;
};

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, {
    model: { type: 'string' },
    prompt: { type: 'string' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    system: { type: 'string' },
    raw: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (!a.model || a.prompt === undefined) {
    process.stderr.write('usage: sprintnet infer --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--top-p P] [--seed S] [--system TEXT] [--raw] [--json]\n');
    return 2;
  }
  const maxTokens = num(a['max-tokens'], 'max-tokens', 64);
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  const started = performance.now();
  const source = new DirectorySource(a.model);
  let lastShown = 0;
  const model = await GpuModel.load(source, {
    gpu: await getGpu(),
    maxContext: 4096,
    onProgress: (p) => {
      if (p.elapsedMs - lastShown < 500 && p.loadedBytes !== p.totalBytes) return;
      lastShown = p.elapsedMs;
      const pct = p.totalBytes ? ` ${((100 * p.loadedBytes) / p.totalBytes).toFixed(0)}%` : '';
      log(`\rloading ${(p.loadedBytes / 2 ** 20).toFixed(1)} MiB${pct}${p.etaMs !== null ? `, ETA ${(p.etaMs / 1000).toFixed(1)} s` : ''}   `);
    },
  });
  const loadMs = performance.now() - started;
  try {
    const { manifest } = model;
    const tokenizer = manifest.tokenizer;
    if (!tokenizer) throw new Error(`${source.label} has no tokenizer.json`);
    log(`\r${manifest.isTestModel ? 'random TEST model (its output is nonsense)' : 'model'} ${source.label}: ${manifest.config.numLayers} layers, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights, on ${adapterLabel(model.adapter)}\n`);
    const messages: ChatMessage[] = [...(a.system ? [{ role: 'system', content: a.system }] : []), { role: 'user', content: a.prompt }];
    const useTemplate = !a.raw && tokenizer.hasChatTemplate;
    const prompt = useTemplate ? tokenizer.encodeChat(messages) : tokenizer.encode(a.prompt);
    const result = await generate(model, prompt, {
      maxTokens,
      temperature: num(a.temperature, 'temperature', 0),
      topP: num(a['top-p'], 'top-p', 1),
      seed: num(a.seed, 'seed', 0),
      tokenizer,
      onToken: (t) => {
        if (!a.json) process.stdout.write(t.text);
      },
    });
    if (a.json) {
      process.stdout.write(
        JSON.stringify({
          model: source.label,
          test_model: manifest.isTestModel,
          adapter: adapterLabel(model.adapter),
          chat_template: useTemplate,
          prompt_tokens: result.promptTokens,
          tokens: result.tokens,
          text: result.text,
          stopped_by: result.stoppedBy,
          load_ms: loadMs,
          ttft_ms: result.timeToFirstTokenMs,
          prefill_tokens_per_s: result.prefillTokensPerSecond,
          decode_tokens_per_s: result.decodeTokensPerSecond,
        }) + '\n',
      );
    } else {
      process.stdout.write('\n');
      log(`${result.tokens.length} tokens (${result.stoppedBy}); prompt ${result.promptTokens} tokens; TTFT ${result.timeToFirstTokenMs.toFixed(0)} ms; prefill ${result.prefillTokensPerSecond.toFixed(1)} tok/s; decode ${result.decodeTokensPerSecond.toFixed(1)} tok/s\n`);
    }
    return 0;
  } finally {
    model.destroy();
  }
}
