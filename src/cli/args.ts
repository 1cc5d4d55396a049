/**
 * Each command declares its options once, in a table: type, placeholder, default and a line of
 * help. `sprintnet <command> --help` is printed from that table, and every mistake on the command
 * line is a CliUsageError that names the option and echoes what was typed.
 */
import { parseArgs } from 'node:util';

export interface StringOption {
  readonly type: 'string';
  /** Placeholder shown in the help: `--port N`. */
  readonly value: string;
  readonly help: string;
  readonly default?: string;
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
}

export interface FlagOption {
  readonly type: 'boolean';
  readonly help: string;
}

export type OptionSpec = StringOption | FlagOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ValueOf<O extends OptionSpec> = O extends FlagOption
  ? boolean
  : O extends { readonly multiple: true }
    ? string[] | undefined
    : O extends { readonly default: string }
      ? string
      : string | undefined;

export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** Keeps the literal types of a table (`multiple: true`, defaults) so parsed values are typed exactly. */
export const defineOptions = <const T extends OptionTable>(table: T): T => table;

export type CliUsageCode = 'UNKNOWN_OPTION' | 'MISSING_VALUE' | 'UNEXPECTED_VALUE' | 'REPEATED_OPTION' | 'UNEXPECTED_ARGUMENT' | 'MISSING_OPTION' | 'BAD_VALUE';

/** A mistake on the command line. `option` is the flag as typed; `value` what was given for it. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  constructor(
    readonly code: CliUsageCode,
    message: string,
    readonly option?: string,
    readonly value?: string,
  ) {
    super(message);
  }
}

const HELP_FLAGS = new Set(['--help', '-h']);

/** True when `--help` or `-h` comes before any `--` that ends the options. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (HELP_FLAGS.has(arg)) return true;
  }
  return false;
}

/**
 * Parses `argv` against `table`. Unknown options, a missing or unexpected value, a repeated
 * single-valued option and stray arguments are CliUsageErrors; values are left as typed, for the
 * parse* helpers below to check.
 */
export function parseCommandArgs<const T extends OptionTable>(argv: readonly string[], table: T): OptionValues<T> {
  // Non-strict: node's own errors name neither the command nor the fix, so the tokens are checked here.
  const { tokens } = parseArgs({ args: [...argv], options: nodeOptions(table), strict: false, allowPositionals: true, tokens: true });
  const given = new Map<string, string[]>();
  const flags = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new CliUsageError('UNEXPECTED_ARGUMENT', `'${token.value}' is not an option of this command (options start with --)`, undefined, token.value);
    }
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    if (!spec) throw new CliUsageError('UNKNOWN_OPTION', `there is no option '${token.rawName}'`, token.rawName);
    const flag = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) {
        throw new CliUsageError('UNEXPECTED_VALUE', `${flag} takes no value, but was given '${token.value}'`, flag, token.value);
      }
      flags.add(token.name);
      continue;
    }
    if (token.value === undefined) throw new CliUsageError('MISSING_VALUE', `${flag} needs a value: ${flag} ${spec.value}`, flag);
    const values = given.get(token.name) ?? [];
    if (values.length > 0 && !spec.multiple) {
      throw new CliUsageError('REPEATED_OPTION', `${flag} was given twice ('${values.join("', '")}' and '${token.value}'); give it once`, flag, token.value);
    }
    given.set(token.name, [...values, token.value]);
  }
  const out: Record<string, boolean | string | string[] | undefined> = {};
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type === 'boolean') out[name] = flags.has(name);
    else if (spec.multiple) out[name] = given.get(name);
    else out[name] = given.get(name)?.[0] ?? spec.default;
  }
  return out as OptionValues<T>;
}

function nodeOptions(table: OptionTable) {
  return Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [name, { type: spec.type, multiple: spec.type === 'string' && spec.multiple === true }]),
  );
}

/** The help of one command, from its table. */
export function helpText(command: string, summary: string, table: OptionTable, notes: readonly string[] = []): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const left = spec.type === 'string' ? `--${name} ${spec.value}` : `--${name}`;
    const extras = [
      spec.type === 'string' && spec.default !== undefined && spec.default !== '' ? `default: ${spec.default}` : '',
      spec.type === 'string' && spec.multiple ? 'can be given more than once' : '',
    ].filter(Boolean);
    return [left, extras.length ? `${spec.help} (${extras.join('; ')})` : spec.help] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = [
    `usage: sprintnet ${command}${Object.keys(table).length ? ' [options]' : ''}`,
    '',
    `${summary[0]?.toUpperCase() ?? ''}${summary.slice(1)}.`,
    '',
  ];
  if (notes.length) lines.push(...notes, '');
  lines.push('options:', ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`));
  return lines.join('\n') + '\n';
}

/** The value of an option the command cannot run without. */
export function requireOption(value: string | undefined, flag: string, placeholder: string): string {
  if (value === undefined) throw new CliUsageError('MISSING_OPTION', `${flag} is required: ${flag} ${placeholder}`, flag);
  return value;
}

export interface IntegerRange {
  min?: number;
  max?: number;
}

/** A whole number in [min, max], written in decimal digits (no 1e3, no 0x10, no 1.0). */
export function parseInteger(text: string, flag: string, { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER }: IntegerRange = {}): number {
  const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliUsageError('BAD_VALUE', `${flag} must be ${describeRange('a whole number', min, max)}, but was given '${text}'`, flag, text);
  }
  return n;
}

/** `--threads`: the CPU backend's threads, in every command that builds a CPU engine (calibrate, host, infer). */
export const THREADS_OPTION = { type: 'string', value: 'N', help: 'CPU backend threads (default: every core)' } as const satisfies StringOption;

/** A thread count as typed after `flag`, 1 to 256; undefined when none was given (every core). */
export const parseThreads = (text: string | undefined, flag = '--threads'): number | undefined =>
  text === undefined ? undefined : parseInteger(text, flag, { min: 1, max: 256 });

export interface NumberRange {
  /** Smallest allowed value, included unless `aboveMin`. */
  min?: number;
  aboveMin?: boolean;
  max?: number;
}

/** A finite decimal number in range. */
export function parseNumber(text: string, flag: string, { min = -Infinity, aboveMin = false, max = Infinity }: NumberRange = {}): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || n < min || (aboveMin && n === min) || n > max) {
    const range =
      aboveMin && Number.isFinite(min) ? `a number above ${min}${Number.isFinite(max) ? ` and at most ${max}` : ''}` : describeRange('a number', min, max);
    throw new CliUsageError('BAD_VALUE', `${flag} must be ${range}, but was given '${text}'`, flag, text);
  }
  return n;
}

/** One of a fixed set of words. */
export function parseChoice<const C extends readonly string[]>(text: string, flag: string, choices: C): C[number] {
  if (!isChoice(text, choices)) {
    throw new CliUsageError('BAD_VALUE', `${flag} must be ${listWords(choices)}, but was given '${text}'`, flag, text);
  }
  return text;
}

function isChoice<const C extends readonly string[]>(text: string, choices: C): text is C[number] {
  return (choices as readonly string[]).includes(text);
}

/** A comma-separated list; `item` checks each part (name the list in its flag, e.g. "each size in --scale"). */
export function parseList<T>(text: string, flag: string, item: (part: string) => T): T[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) {
    throw new CliUsageError('BAD_VALUE', `${flag} must be a comma-separated list with no empty items, but was given '${text}'`, flag, text);
  }
  return parts.map(item);
}

function describeRange(what: string, min: number, max: number): string {
  const low = min > Number.MIN_SAFE_INTEGER && Number.isFinite(min);
  const high = max < Number.MAX_SAFE_INTEGER && Number.isFinite(max);
  if (low && high) return `${what} from ${min} to ${max}`;
  if (low) return `${what} of at least ${min}`;
  if (high) return `${what} of at most ${max}`;
  return what;
}

/** "a", "a or b", "a, b or c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
