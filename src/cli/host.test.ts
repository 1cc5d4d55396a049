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

describe('bin/sprintnet host with the GPU engine (webgpu package)', () => {
  it('builds the engine, runs consecutive Sprints with fresh seeds, and stops cleanly on SIGINT', async () => {
    const { code, out } = await runHost(['--seed', '11'.repeat(32), '--engine', 'tiny', '--sprint-ms', '1500'], /sprint 2 done/);
    expect(code).toBe(0);
    expect(out).toMatch(/sprint 1: weights 100%/);
    expect(out).toMatch(/sprint 1: engine ready on .+, batch \d+/);
    const done = [...out.matchAll(/sprint \d done: (\d+) nonces, (\d+) appropriate .*stopped by duration/g)];
    expect(done.length).toBeGreaterThanOrEqual(2);
    for (const m of done) expect(Number(m[1])).toBeGreaterThan(0);
    const seeds = [...out.matchAll(/sprint \d: seed ([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(new Set(seeds.slice(0, 2)).size).toBe(2);
    expect(out).toMatch(/SIGINT: stopping host/);
  }, 180_000);

  it('a bad engine config is reported and the host stays up as a peer', async () => {
    const { code, out } = await runHost(['--seed', '12'.repeat(32), '--engine', 'huge'], /engine stopped: SprintInputError: unknown config 'huge'/);
    expect(code).toBe(0);
    expect(out).toMatch(/SIGINT: stopping host/);
  }, 60_000);
});
