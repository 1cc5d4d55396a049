/** `sprintnet calibrate`: hit rate of real nonces against p with its 99.9% binomial interval (spec §11). */
import { defineOptions, parseCommandArgs, parseInteger } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { calibrate } from '../sprint/calibrate.ts';

export const options = defineOptions({
  config: { type: 'string', value: 'NAME', default: 'tiny', help: 'the model: tiny or canonical' },
  nonces: { type: 'string', value: 'N', help: 'nonces to evaluate (default: 200000 on tiny, 200 on canonical)' },
  start: { type: 'string', value: 'N', default: '0', help: 'first nonce (runs over disjoint ranges add up)' },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const config = getConfig(args.config);
  const nonces = args.nonces === undefined ? (config.layers > 8 ? 200 : 200_000) : parseInteger(args.nonces, '--nonces', { min: 1 });
  const start = parseInteger(args.start, '--start', { min: 0 });
  const started = Date.now();
  const result = calibrate(config, { nonces, start, onProgress: (done, total) => process.stderr.write(`\rnonces: ${done}/${total}   `) });
  process.stderr.write('\n');
  process.stdout.write(JSON.stringify({ ...result, start, seconds: (Date.now() - started) / 1000 }) + '\n');
  return result.withinInterval ? 0 : 1;
}
