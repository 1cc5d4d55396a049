/** Minimal typed wrapper over node:util parseArgs, shared by the subcommands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
}
