/** `sprintnet calibrate`: hit rate of real nonces against p with its 99.9% binomial interval (spec §11). */
import { parseCommandArgs } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { calibrate } from '../sprint/calibrate.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    config: { type: 'string', default: 'tiny' },
    nonces: { type: 'string' },
    start: { type: 'string', default: '0' },
  });
  const config = getConfig(args.config!);
  const nonces = Number(args.nonces ?? (config.layers > 8 ? 200 : 200_000));
  const start = Number(args.start);
  if (!Number.isSafeInteger(nonces) || nonces <= 0 || !Number.isSafeInteger(start) || start < 0) {
    throw new RangeError('--nonces must be a positive integer and --start a non-negative one');
  }
  const started = Date.now();
  const result = calibrate(config, { nonces, start, onProgress: (done, total) => process.stderr.write(`\rnonces: ${done}/${total}   `) });
  process.stderr.write('\n');
  process.stdout.write(JSON.stringify({ ...result, start, seconds: (Date.now() - started) / 1000 }) + '\n');
  return result.withinInterval ? 0 : 1;
}
