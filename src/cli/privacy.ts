/**
 * `sprintnet privacy --model DIR [--k K,…] [--noise A,…] [--prompts N] [--candidates C] [--json]`:
 * the privacy meter of split inference (docs/split-inference.md §Privacy). For each k (default 1,
 * 2, L/4, L/2) and noise level, it computes h_k of everyday prompts, runs two inversion attacks a
 * volunteer who knows the weights could run (nearest embedding; greedy token-by-token search), and
 * reports the share of prompt tokens recovered, with the output-quality cost of the noise (logit KL
 * against the unsplit model, greedy agreement).
 */
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, parseList, parseNumber, requireOption } from './args.ts';
import { BACKEND_CHOICES } from '../cpu/backend.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { loadLanguageModel, whereItRuns } from '../llm/cpu-select.ts';
import type { CausalLM } from '../llm/model-types.ts';
import { DirectorySource } from '../llm/node-source.ts';
import { DEFAULT_CALIBRATION_PROMPTS } from '../split/calibrate.ts';
import { loadEmbedding } from '../split/engines.ts';
import { defaultPrivacyKs, privacyMeter } from '../split/privacy.ts';

export const options = defineOptions({
  model: { type: 'string', value: 'DIR', help: 'a model folder (required)' },
  k: { type: 'string', value: 'K,…', help: 'split layers to attack (default 1, 2, L/4, L/2)' },
  noise: { type: 'string', value: 'A,…', default: '0,0.3,1', help: 'Gaussian noise levels on h_k, as multiples of each row’s RMS' },
  prompts: { type: 'string', value: 'N', default: '4', help: `how many of the ${DEFAULT_CALIBRATION_PROMPTS.length} built-in prompts to attack` },
  candidates: { type: 'string', value: 'C', help: 'greedy search tries only the C best tokens of the embedding attack (default: the whole vocabulary)' },
  backend: { type: 'string', value: 'NAME', default: 'auto', help: 'auto, webgpu or cpu' },
  json: { type: 'boolean', help: 'print one JSON record' },
});

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, options);
  const source = new DirectorySource(requireOption(a.model, '--model', 'DIR'));
  const noise = parseList(a.noise, '--noise', (p) => parseNumber(p, 'each level in --noise', { min: 0 }));
  const promptCount = parseInteger(a.prompts, '--prompts', { min: 1, max: DEFAULT_CALIBRATION_PROMPTS.length });
  const candidates = a.candidates === undefined ? undefined : parseInteger(a.candidates, '--candidates', { min: 1 });
  const backend = parseChoice(a.backend, '--backend', BACKEND_CHOICES);
  const { model } = await loadLanguageModel(source, {
    backend,
    gpu: backend === 'cpu' ? null : await getGpu().catch(() => null),
    spawner: nodeSpawner,
    maxContext: 512,
  });
  try {
    const { manifest } = model;
    const L = manifest.config.numLayers;
    const ks = a.k === undefined ? defaultPrivacyKs(L) : parseList(a.k, '--k', (p) => parseInteger(p, 'each layer in --k', { min: 1, max: L - 1 }));
    const tokenizer = manifest.tokenizer;
    if (!tokenizer) throw new Error(`${source.label} has no tokenizer.json`);
    const prompts = DEFAULT_CALIBRATION_PROMPTS.slice(0, promptCount).map((p) => tokenizer.encode(p));
    const embedding = await loadEmbedding(source, manifest);
    if (!a.json) {
      process.stderr.write(
        `${manifest.isTestModel ? 'random TEST model' : 'model'} ${source.label}, ${L} layers, on ${whereItRuns(model)}; ${prompts.reduce((n, p) => n + p.length, 0)} prompt tokens\n`,
      );
      process.stdout.write('   k  noise  embedding-attack  greedy-search  mean KL (nats)  greedy agreement\n');
    }
    const rows = await privacyMeter(model as CausalLM, embedding, prompts, {
      ks,
      noise,
      candidates,
      onRow: (r) => {
        if (a.json) return;
        const pct = (x: number) => `${(100 * x).toFixed(1)} %`.padStart(16);
        process.stdout.write(
          `${String(r.k).padStart(4)}  ${r.noise.toFixed(2).padStart(5)}  ${pct(r.embeddingRecovery)}  ${pct(r.searchRecovery).slice(3)}  ${r.meanKl.toFixed(4).padStart(14)}  ${pct(r.greedyAgreement)}\n`,
        );
      },
    });
    if (a.json) process.stdout.write(JSON.stringify({ model: source.label, test_model: manifest.isTestModel, layers: L, rows }) + '\n');
    return 0;
  } finally {
    model.destroy();
  }
}
