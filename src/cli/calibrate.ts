/** `sprintnet calibrate`: measured hit rate against p with its 99.9% binomial interval (spec §11). */
import { parseCommandArgs } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { calibrate } from '../sprint/calibrate.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    config: { type: 'string', default: 'tiny' },
    outputs: { type: 'string' },
    permutations: { type: 'string' },
  });
  const config = getConfig(args.config!);
  const big = config.layers > 8;
  const outputs = Number(args.outputs ?? (big ? 50 : 400));
  const permutationsPerOutput = Number(args.permutations ?? (big ? 4000 : 500));
  const started = Date.now();
  const result = calibrate(config, {
    outputs,
    permutationsPerOutput,
    onProgress: (phase, done, total) => process.stderr.write(`\r${phase}: ${done}/${total}   `),
  });
  process.stderr.write('\n');
  process.stdout.write(JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000 }) + '\n');
  return result.withinInterval ? 0 : 1;
}
