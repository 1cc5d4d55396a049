/**
 * `sprintnet make-test-model --out DIR [--layers N --hidden D --heads H --kv-heads G --vocab V
 *   --intermediate F --dtype bf16|f16|f32 --shards S --type llama|qwen2 --untied --rope-scaling none|llama3|linear --seed N]`
 * writes the random test model (src/llm/test-model.ts) as a model folder (src/llm/test-model-files.ts).
 */
import { parseCommandArgs } from './args.ts';
import { writeTestModel } from '../llm/test-model-files.ts';
import type { FloatDType } from '../llm/dtype.ts';

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, {
    out: { type: 'string' },
    layers: { type: 'string' },
    hidden: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    vocab: { type: 'string' },
    intermediate: { type: 'string' },
    dtype: { type: 'string', default: 'bf16' },
    shards: { type: 'string' },
    type: { type: 'string', default: 'llama' },
    untied: { type: 'boolean', default: false },
    'rope-scaling': { type: 'string', default: 'none' },
    seed: { type: 'string' },
  });
  if (!a.out) {
    process.stderr.write('usage: sprintnet make-test-model --out DIR [--layers N --hidden D --heads H --kv-heads G --vocab V --intermediate F --dtype bf16|f16|f32 --shards S --type llama|qwen2 --untied --rope-scaling none|llama3|linear --seed N]\n');
    return 2;
  }
  const dtype = a.dtype!.toUpperCase();
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new Error(`--dtype must be bf16, f16 or f32, got ${a.dtype}`);
  if (a.type !== 'llama' && a.type !== 'qwen2') throw new Error(`--type must be llama or qwen2, got ${a.type}`);
  const scaling = a['rope-scaling'];
  if (scaling !== 'none' && scaling !== 'llama3' && scaling !== 'linear') throw new Error(`--rope-scaling must be none, llama3 or linear, got ${scaling}`);
  const written = writeTestModel(a.out, {
    layers: int(a.layers, 'layers'),
    hidden: int(a.hidden, 'hidden'),
    heads: int(a.heads, 'heads'),
    kvHeads: int(a['kv-heads'], 'kv-heads'),
    vocab: int(a.vocab, 'vocab'),
    intermediate: int(a.intermediate, 'intermediate'),
    dtype: dtype as FloatDType,
    shards: int(a.shards, 'shards'),
    modelType: a.type,
    tieEmbeddings: !a.untied,
    ropeScaling: scaling,
    seed: a.seed === undefined ? undefined : Number(a.seed),
  });
  process.stdout.write(`wrote the random test model (nonsense output) to ${a.out}: ${written.join(', ')}\n`);
  return 0;
}
