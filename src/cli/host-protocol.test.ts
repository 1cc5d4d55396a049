/**
 * `bin/sprintnet host --genesis`: a local relay and two headless hosts (CPU reference engine, tiny,
 * a 2 s Sprint) run epoch 0 of the Sprint protocol as separate processes and both certify the same
 * state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fastTimings, genesisToJson, makeGenesis } from '../protocol/genesis.ts';

const children: ChildProcess[] = [];
let dir = '';

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

function start(args: string[]): { child: ChildProcess; output: () => string; waitFor: (re: RegExp, ms: number) => Promise<RegExpMatchArray> } {
  const child = spawn('node', ['bin/sprintnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    waiters.forEach((w) => w());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${out}`)), ms);
        const check = () => {
          const m = out.match(re);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

describe('bin/sprintnet host --genesis', () => {
  it('two hosts and a relay run epoch 0 and certify the same state', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sprintnet-host-protocol-'));
    const relay = start(['relay', '--port', '0', '--write', join(dir, 'network.json')]);
    const addr = (await relay.waitFor(/listening on (\S+)/, 60_000))[1]!;
    const genesis = makeGenesis({
      networkId: 'sprintnet-local',
      config: 'tiny',
      hitRateDenominator: 16,
      startMs: Date.now() + 10_000,
      skewMs: 300,
      timings: fastTimings(2000, 300),
    });
    const genesisPath = join(dir, 'genesis.json');
    await writeFile(genesisPath, JSON.stringify(genesisToJson(genesis)));
    const hosts = ['21', '22'].map((b, i) =>
      start(['host', '--seed', b.repeat(32), '--relay', addr, '--genesis', genesisPath, '--engine', 'reference', '--data', join(dir, `host${i}`)]),
    );
    const certified = await Promise.all(hosts.map((h) => h.waitFor(/ledger epoch 0: certified state ([0-9a-f]{16})…, 2 hosts/, 60_000)));
    expect(certified[0]![1]).toBe(certified[1]![1]);
    for (const h of hosts) {
      expect(h.output()).toMatch(/protocol: network sprintnet-local, config tiny, p = 1\/16/);
      h.child.kill('SIGINT');
    }
    await Promise.all(hosts.map((h) => h.waitFor(/SIGINT: stopping the host/, 20_000)));
    relay.child.kill('SIGINT');
  }, 120_000);
});
