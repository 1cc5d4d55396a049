/** `sprintnet vectors`: regenerates docs/sprint-vectors.json from the CPU reference. */
import { writeFileSync } from 'node:fs';
import { defineOptions, parseCommandArgs } from './args.ts';
import { buildVectors, VECTOR_NONCES } from '../sprint/vectors.ts';

export const options = defineOptions({
  out: { type: 'string', value: 'PATH', default: 'docs/sprint-vectors.json', help: 'where to write the vectors' },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const started = Date.now();
  const vectors = {
    spec: 'docs/sprint-spec.md, version 2',
    generatedBy: 'bin/sprintnet vectors',
    configs: [buildVectors('tiny', VECTOR_NONCES.tiny), buildVectors('canonical', VECTOR_NONCES.canonical)],
  };
  writeFileSync(args.out, JSON.stringify(vectors, null, 2) + '\n');
  process.stdout.write(`wrote ${args.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}
