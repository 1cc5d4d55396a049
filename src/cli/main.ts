/** `bin/sprintnet` dispatcher: each subcommand lives in its own module and is loaded lazily. */
type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  eval: { summary: 'evaluate one nonce with the CPU reference', load: () => import('./eval.ts') },
  vectors: { summary: 'regenerate docs/sprint-vectors.json', load: () => import('./vectors.ts') },
  calibrate: { summary: 'measure the appropriate-nonce hit rate', load: () => import('./calibrate.ts') },
  audit: { summary: 'run the attack suite against the task (screens, caches, low precision)', load: () => import('./audit.ts') },
  start: { summary: 'start the local relay and the web app', load: () => import('./start.ts') },
  relay: { summary: 'run the relay/bootstrap node (websockets + circuit relay v2)', load: () => import('./relay.ts') },
  host: { summary: 'run a headless peer (wallet from keystore or SPRINTNET_MNEMONIC)', load: () => import('./host.ts') },
  simulate: { summary: 'run the Sprint protocol over an in-memory network (honest hosts, cheaters, scale)', load: () => import('./simulate.ts') },
  infer: { summary: 'run a language model folder (safetensors) on this GPU', load: () => import('./infer.ts') },
  'make-test-model': { summary: 'write a small random Llama-family model in the real file formats', load: () => import('./make-test-model.ts') },
};

export function registerCommand(name: string, command: Command): void {
  commands[name] = command;
}

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: sprintnet <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`sprintnet: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`sprintnet ${name}: ${e.name}: ${e.message}\n`);
    return 1;
  }
}
