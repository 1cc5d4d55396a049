/** `sprintnet eval`: one nonce through the CPU reference. */
import { defineOptions, parseCommandArgs, parseInteger, requireOption } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { fromHex } from '../sprint/bytes.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { evaluateNonce } from '../sprint/reference.ts';

export const options = defineOptions({
  config: { type: 'string', value: 'NAME', default: 'tiny', help: 'the model: tiny or canonical' },
  'sprint-seed': { type: 'string', value: 'HEX', help: "the Sprint's seed, 64 hex digits (required)" },
  'public-key': { type: 'string', value: 'HEX', help: "the host's Ed25519 public key, 64 hex digits (required)" },
  nonce: { type: 'string', value: 'N', help: 'the nonce, a whole number from 0 to 2^53 - 1 (required)' },
  json: { type: 'boolean', help: 'print one JSON record {tokens, distance, appropriate}' },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const config = getConfig(args.config);
  const sprintSeed = fromHex(requireOption(args['sprint-seed'], '--sprint-seed', 'HEX'), 32, 'BAD_SEED', 'sprint seed');
  const publicKey = fromHex(requireOption(args['public-key'], '--public-key', 'HEX'), 32, 'BAD_PUBLIC_KEY', 'public key');
  const nonce = parseInteger(requireOption(args.nonce, '--nonce', 'N'), '--nonce', { min: 0 });
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
