/** Shared by the CLI tests and the e2e specs (Node only): `bin/sprintnet` as a child process and the waits on its output. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved in arrival order. */
  output: string[];
}

export function spawnSprintnet(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['bin/sprintnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  return { child, output };
}

/** The first match of `pattern` in the output; throws with the output when the process exits or `timeoutMs` passes first. */
export async function waitForOutput(proc: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const start = Date.now();
  for (;;) {
    const match = proc.output.join('').match(pattern);
    if (match) return match;
    if (proc.child.exitCode !== null) throw new Error(`process exited: ${proc.output.join('')}`);
    if (Date.now() - start > timeoutMs) throw new Error(`no ${pattern} in: ${proc.output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once it exited (at once when it already has). */
export async function stopProc(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * `host` arguments for a headless host in a Sprint network (CPU reference engine) that also serves
 * split inference of `modelDir` with τ = 2.
 */
export function modelHostArgs(o: { seed: string; relay: string; genesisPath: string; dataDir: string; modelDir: string }): string[] {
  return [
    'host',
    '--seed',
    o.seed,
    '--relay',
    o.relay,
    '--genesis',
    o.genesisPath,
    '--engine',
    'reference',
    '--backend',
    'cpu',
    '--data',
    o.dataDir,
    '--serve-model',
    o.modelDir,
    '--model-tau',
    '2',
  ];
}
