/**
 * `sprintnet infer --model DIR --prompt TEXT [--max-tokens N] [--temperature T --top-p P --seed S]
 *   [--raw] [--system TEXT] [--json]`: runs a Llama-family model folder (config.json,
 * tokenizer.json, *.safetensors) on this machine's GPU through WebGPU (Dawn in Node) or on the CPU
 * backend (`--backend auto|webgpu|cpu`; auto takes the CPU where WebGPU is missing or SwiftShader),
 * streaming the text to stdout. The prompt goes through the model's chat
 * template unless --raw or the model has none.
 */
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, parseNumber, requireOption, parseThreads, THREADS_OPTION } from './args.ts';
import { BACKEND_CHOICES } from '../cpu/backend.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { loadLanguageModel, whereItRuns } from '../llm/cpu-select.ts';
import { generate } from '../llm/generate.ts';
import type { CausalLM } from '../llm/model-types.ts';
import { DirectorySource } from '../llm/node-source.ts';
import type { ChatMessage } from '../llm/tokenizer.ts';

export const options = defineOptions({
  model: { type: 'string', value: 'DIR', help: 'a model folder: config.json, tokenizer.json, *.safetensors (required)' },
  prompt: { type: 'string', value: 'TEXT', help: 'what to ask (required)' },
  'max-tokens': { type: 'string', value: 'N', default: '64', help: 'most tokens to generate' },
  temperature: { type: 'string', value: 'T', default: '0', help: 'sampling temperature; 0 always takes the likeliest token' },
  'top-p': { type: 'string', value: 'P', default: '1', help: 'nucleus sampling: keep the likeliest tokens up to this total probability' },
  seed: { type: 'string', value: 'S', default: '0', help: 'seed of the sampler (a whole number)' },
  system: { type: 'string', value: 'TEXT', help: 'a system message before the prompt' },
  raw: { type: 'boolean', help: "send the prompt as it is, without the model's chat template" },
  json: { type: 'boolean', help: 'print one JSON record with the text and the timings instead of streaming' },
  backend: {
    type: 'string',
    value: 'NAME',
    default: 'auto',
    help: 'auto, webgpu or cpu (auto: the CPU backend where WebGPU is missing or a software adapter)',
  },
  threads: THREADS_OPTION,
  split: {
    type: 'string',
    value: 'K',
    help: 'private split inference: layers [0, K) here, the rest on a volunteer (--peer, found through --relay, or in-process) (docs/split-inference.md)',
  },
  precision: { type: 'string', value: 'P', default: 'f32', help: 'with --split: f32 or f16 for h_k and logits on the wire' },
  noise: { type: 'string', value: 'A', default: '0', help: 'with --split: Gaussian noise of A × RMS on each h_k row (privacy mitigation)' },
  tau: { type: 'string', value: 'T', help: 'with --split: the C_t threshold τ (default: measured on this model first)' },
  'max-entropy': { type: 'string', value: 'H', help: 'with --split: the entropy threshold θ_H in nats (default: measured)' },
  peer: {
    type: 'string',
    value: 'ADDR',
    help: 'with --split: the volunteer, a host running --serve-model: its multiaddr with /p2p/<id>, or its peer id (reached through --relay)',
  },
  relay: {
    type: 'string',
    value: 'ADDR',
    multiple: true,
    help: 'with --split: a relay multiaddr to join through; without --peer, the volunteers announcing the model are found, pinged and ranked',
  },
  network: { type: 'string', value: 'ID', help: "with --relay: the volunteers' network id (default: sprintnet-local, or the genesis's)" },
  wait: { type: 'string', value: 'S', default: '20', help: 'with --relay and no --peer: seconds to listen for volunteers' },
  genesis: {
    type: 'string',
    value: 'PATH',
    help: "with --relay and no --peer: follow this genesis's ledger while listening and rank by its certified weights (else its initial weights)",
  },
  data: {
    type: 'string',
    value: 'DIR',
    help: "with --genesis: where the followed ledger's certified states are kept (default: ~/.sprintnet/<network>/<genesis>/ledger-follower)",
  },
});

/** Where the volunteers are: `--peer`, or found through `--relay`; neither runs the in-process demo volunteer. */
async function splitRemote(a: ReturnType<typeof parseCommandArgs<typeof options>>) {
  if (a.peer === undefined && (a.relay ?? []).length === 0) return undefined;
  const genesis = a.genesis === undefined ? undefined : await (await import('./host-protocol.ts')).readGenesis(a.genesis);
  return {
    peer: a.peer,
    relays: a.relay ?? [],
    networkId: a.network ?? genesis?.networkId ?? 'sprintnet-local',
    waitMs: parseNumber(a.wait, '--wait', { min: 0, aboveMin: true, max: 3600 }) * 1000,
    genesis,
    ledgerDir: a.data,
  };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, options);
  const modelDir = requireOption(a.model, '--model', 'DIR');
  const promptText = requireOption(a.prompt, '--prompt', 'TEXT');
  const maxTokens = parseInteger(a['max-tokens'], '--max-tokens', { min: 1 });
  const temperature = parseNumber(a.temperature, '--temperature', { min: 0 });
  const topP = parseNumber(a['top-p'], '--top-p', { min: 0, aboveMin: true, max: 1 });
  const seed = parseInteger(a.seed, '--seed', { min: 0 });
  const backend = parseChoice(a.backend, '--backend', BACKEND_CHOICES);
  const threads = parseThreads(a.threads);
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  const started = performance.now();
  const source = new DirectorySource(modelDir);
  let lastShown = 0;
  const { model, decision } = await loadLanguageModel(source, {
    backend,
    gpu: backend === 'cpu' ? null : await getGpu().catch(() => null),
    spawner: nodeSpawner,
    threads,
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
    log(
      `\r${manifest.isTestModel ? 'random TEST model (its output is nonsense)' : 'model'} ${source.label}: ${manifest.config.numLayers} layers, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights, on ${whereItRuns(model)}: ${decision.reason}\n`,
    );
    const messages: ChatMessage[] = [...(a.system ? [{ role: 'system', content: a.system }] : []), { role: 'user', content: promptText }];
    const useTemplate = !a.raw && tokenizer.hasChatTemplate;
    const prompt = useTemplate ? tokenizer.encodeChat(messages) : tokenizer.encode(promptText);
    if (a.split !== undefined) {
      const { runSplitInference } = await import('./infer-split.ts');
      return await runSplitInference({
        model: model as CausalLM,
        source,
        manifest,
        tokenizer,
        prompt,
        maxTokens,
        temperature,
        topP,
        seed,
        json: a.json,
        k: parseInteger(a.split, '--split', { min: 1, max: manifest.config.numLayers - 1 }),
        precision: parseChoice(a.precision, '--precision', ['f32', 'f16'] as const),
        noise: parseNumber(a.noise, '--noise', { min: 0 }),
        remote: await splitRemote(a),
        thresholds: {
          tau: a.tau === undefined ? undefined : parseNumber(a.tau, '--tau', { min: 0 }),
          maxEntropy: a['max-entropy'] === undefined ? undefined : parseNumber(a['max-entropy'], '--max-entropy', { min: 0 }),
        },
      });
    }
    const result = await generate(model as CausalLM, prompt, {
      maxTokens,
      temperature,
      topP,
      seed,
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
          adapter: whereItRuns(model),
          backend: decision.backend,
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
      log(
        `${result.tokens.length} tokens (${result.stoppedBy}); prompt ${result.promptTokens} tokens; TTFT ${result.timeToFirstTokenMs.toFixed(0)} ms; prefill ${result.prefillTokensPerSecond.toFixed(1)} tok/s; decode ${result.decodeTokensPerSecond.toFixed(1)} tok/s\n`,
      );
    }
    return 0;
  } finally {
    model.destroy();
  }
}
