/**
 * `sprintnet make-test-model --out DIR [--layers N --hidden D --heads H --kv-heads G --vocab V
 *   --intermediate F --dtype bf16|f16|f32 --shards S --type llama|qwen2 --untied --rope-scaling none|llama3|linear --seed N]`
 * writes the random test model (src/llm/test-model.ts) as a model folder (src/llm/test-model-files.ts).
 */
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, requireOption } from './args.ts';
import { writeTestModel } from '../llm/test-model-files.ts';
import type { FloatDType } from '../llm/dtype.ts';

export const options = defineOptions({
  out: { type: 'string', value: 'DIR', help: 'the folder to write (required)' },
  layers: { type: 'string', value: 'N', help: 'transformer layers' },
  hidden: { type: 'string', value: 'D', help: 'hidden size' },
  heads: { type: 'string', value: 'H', help: 'attention heads' },
  'kv-heads': { type: 'string', value: 'G', help: 'key/value heads (grouped-query attention)' },
  vocab: { type: 'string', value: 'V', help: 'vocabulary size' },
  intermediate: { type: 'string', value: 'F', help: 'feed-forward size' },
  dtype: { type: 'string', value: 'TYPE', default: 'bf16', help: 'weight type: bf16, f16 or f32' },
  shards: { type: 'string', value: 'S', help: 'split the weights over this many safetensors files' },
  type: { type: 'string', value: 'ARCH', default: 'llama', help: 'architecture: llama or qwen2' },
  untied: { type: 'boolean', help: 'give the output head its own weights instead of the embedding' },
  'rope-scaling': { type: 'string', value: 'KIND', default: 'none', help: 'RoPE scaling: none, llama3 or linear' },
  seed: { type: 'string', value: 'N', help: 'seed of the random weights (a whole number)' },
});

const DTYPES = { bf16: 'BF16', f16: 'F16', f32: 'F32' } as const satisfies Record<string, FloatDType>;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, options);
  const out = requireOption(a.out, '--out', 'DIR');
  const size = (text: string | undefined, flag: string) => (text === undefined ? undefined : parseInteger(text, flag, { min: 1 }));
  const dtype = DTYPES[parseChoice(a.dtype.toLowerCase(), '--dtype', ['bf16', 'f16', 'f32'])];
  const modelType = parseChoice(a.type, '--type', ['llama', 'qwen2']);
  const scaling = parseChoice(a['rope-scaling'], '--rope-scaling', ['none', 'llama3', 'linear']);
  const written = writeTestModel(out, {
    layers: size(a.layers, '--layers'),
    hidden: size(a.hidden, '--hidden'),
    heads: size(a.heads, '--heads'),
    kvHeads: size(a['kv-heads'], '--kv-heads'),
    vocab: size(a.vocab, '--vocab'),
    intermediate: size(a.intermediate, '--intermediate'),
    dtype,
    shards: size(a.shards, '--shards'),
    modelType,
    tieEmbeddings: !a.untied,
    ropeScaling: scaling,
    seed: a.seed === undefined ? undefined : parseInteger(a.seed, '--seed', { min: 0 }),
  });
  process.stdout.write(`wrote the random test model (nonsense output) to ${out}: ${written.join(', ')}\n`);
  return 0;
}
