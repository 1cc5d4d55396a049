/** `sprintnet eval`: one nonce through the CPU reference. */
import { parseCommandArgs } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { fromHex } from '../sprint/bytes.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { SprintInputError } from '../sprint/errors.ts';
import { evaluateNonce } from '../sprint/reference.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    config: { type: 'string', default: 'tiny' },
    'sprint-seed': { type: 'string' },
    'public-key': { type: 'string' },
    nonce: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = getConfig(args.config!);
  const sprintSeed = fromHex(required(args['sprint-seed'], '--sprint-seed'), 32, 'BAD_SEED', 'sprint seed');
  const publicKey = fromHex(required(args['public-key'], '--public-key'), 32, 'BAD_PUBLIC_KEY', 'public key');
  const nonceText = required(args.nonce, '--nonce');
  const nonce = /^\d+$/.test(nonceText) ? Number(nonceText) : NaN;
  const result = evaluateNonce(config, sprintSeed, publicKey, nonce);
  if (args.json) {
    process.stdout.write(JSON.stringify({ tokens: result.tokens, distance: result.distance, appropriate: result.appropriate }) + '\n');
  } else {
    process.stdout.write(
      `config      ${config.name}\nnonce       ${nonce}\ntokens      ${result.tokens.join(' ')}\n` +
        `distance    ${result.distance}\nr_target    ${rTarget(config)}\nappropriate ${result.appropriate}\n`,
    );
  }
  return 0;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new SprintInputError('BAD_ARGUMENT', `${flag} is required`);
  return value;
}
