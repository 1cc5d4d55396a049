import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `bin/sprintnet host` until `until` matches its output, then sends SIGINT. */
function runHost(args: string[], until: RegExp, timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['bin/sprintnet', 'host', '--network-json', '/nonexistent.json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`host did not print ${until} in time:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (!signalled && until.test(out)) {
        signalled = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

// --backend auto (the default): the CPU backend wherever WebGPU is missing or a software adapter
// (SwiftShader in CI), so this exercises the host's Sprint loop, not WebGPU (src/gpu's tests do).
describe('bin/sprintnet host with the Sprint engine that --backend auto picks', () => {
  it('builds the engine, runs consecutive Sprints with fresh seeds, and stops cleanly on SIGINT', async () => {
    const { code, out } = await runHost(['--seed', '11'.repeat(32), '--engine', 'tiny', '--sprint-ms', '1500'], /Practice Sprint 2 finished/);
    expect(code).toBe(0);
    // The app's words: build phases, tries, finds, tries per second.
    expect(out).toMatch(/Practice Sprint 1: Generating model weights — 100%/);
    expect(out).toMatch(/Practice Sprint 1: ready on .+, [\d,]+ tries per batch, [\d.]+ MiB of model weights/);
    const done = [
      ...out.matchAll(/Practice Sprint \d finished: ([\d,]+) tries? in [\d.]+ s, [\d,]+ finds?, [\d.,]+ tries per second \(the Sprint’s time is up\)/g),
    ];
    expect(done.length).toBeGreaterThanOrEqual(2);
    for (const m of done) expect(Number(m[1]?.replaceAll(',', ''))).toBeGreaterThan(0);
    const seeds = [...out.matchAll(/Practice Sprint \d on model tiny, seed ([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(new Set(seeds.slice(0, 2)).size).toBe(2);
    expect(out).not.toMatch(/nonces\/s|appropriate/);
    expect(out).toMatch(/SIGINT: stopping the host/);
  }, 180_000);

  it('--threads sets the CPU backend threads; a bad count is refused before the host joins', async () => {
    const { code, out } = await runHost(['--seed', '13'.repeat(32), '--engine', 'tiny', '--backend', 'cpu', '--threads', '1'], /ready on/);
    expect(code).toBe(0);
    expect(out).toMatch(/Practice Sprint 1: ready on CPU \(WebAssembly [^,]+, 1 thread\)/);
    const bad = await runHost(['--seed', '13'.repeat(32), '--threads', '0'], /never/);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--threads must be a whole number from 1 to 256, but was given '0'/);
    expect(bad.out).not.toMatch(/Host started/);
  }, 120_000);

  it('a bad engine config is reported and the host stays up as a peer', async () => {
    const { code, out } = await runHost(
      ['--seed', '12'.repeat(32), '--engine', 'huge'],
      /The Sprint engine stopped: unknown config 'huge'.*The host stays connected to the network\./,
    );
    expect(code).toBe(0);
    expect(out).not.toMatch(/\w+Error: /);
    expect(out).toMatch(/SIGINT: stopping the host/);
  }, 60_000);
});
