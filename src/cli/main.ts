/**
 * `bin/sprintnet` dispatcher: each subcommand lives in its own module, loaded lazily, and exports
 * its option table; `--help` is answered here from that table without running anything.
 */
import { CliUsageError, helpText, wantsHelp, type OptionTable } from './args.ts';
import { describeError } from './describe-error.ts';

export interface CommandModule {
  options: OptionTable;
  /** Extra paragraphs for `--help` (modes, environment variables). */
  notes?: readonly string[];
  run(argv: string[]): Promise<number>;
}

export interface Command {
  summary: string;
  load: () => Promise<CommandModule>;
}

export const commands: Record<string, Command> = {
  eval: { summary: 'evaluate one nonce with the CPU reference', load: () => import('./eval.ts') },
  vectors: { summary: 'regenerate docs/sprint-vectors.json', load: () => import('./vectors.ts') },
  calibrate: { summary: 'measure the appropriate-nonce hit rate of real nonces', load: () => import('./calibrate.ts') },
  audit: { summary: 'run the attack suite against the task (screens, caches, low precision)', load: () => import('./audit.ts') },
  start: { summary: 'start the local relay and the web app', load: () => import('./start.ts') },
  relay: { summary: 'run the relay/bootstrap node (websockets + circuit relay v2)', load: () => import('./relay.ts') },
  host: { summary: 'run a headless peer (wallet from a keystore or SPRINTNET_MNEMONIC)', load: () => import('./host.ts') },
  simulate: { summary: 'run the Sprint protocol over an in-memory network (honest hosts, cheaters, scale)', load: () => import('./simulate.ts') },
  infer: { summary: 'run a language model folder (safetensors) on this GPU', load: () => import('./infer.ts') },
  privacy: { summary: 'measure how much of a prompt h_k gives away (split inference inversion attacks)', load: () => import('./privacy.ts') },
  'make-test-model': { summary: 'write a small random Llama-family model in the real file formats', load: () => import('./make-test-model.ts') },
};

export function registerCommand(name: string, command: Command): void {
  commands[name] = command;
}

/** Where main writes its own messages (help, errors); tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: sprintnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'sprintnet <command> --help' for the options of one command.\n`;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(usage());
    return 2;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    io.out(usage());
    return 0;
  }
  // `sprintnet help eval` is `sprintnet eval --help`.
  const [name, args] = first === 'help' ? [rest[0] ?? '', ['--help']] : [first, rest];
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`sprintnet: there is no command '${name}'.\n\n${usage()}`);
    return 2;
  }
  try {
    const module = await command.load();
    if (wantsHelp(args)) {
      io.out(helpText(name, command.summary, module.options, module.notes));
      return 0;
    }
    return await module.run(args);
  } catch (err) {
    io.err(`sprintnet ${name}: ${describeError(err)}\n`);
    if (err instanceof CliUsageError) {
      io.err(`Run 'sprintnet ${name} --help' to see its options.\n`);
      return 2;
    }
    return 1;
  }
}
