/**
 * `bin/sprintnet host --genesis … --serve-model DIR` as a separate process behind a local relay, and
 * `infer --split K --peer <peer id> --relay <relay>` against it: the session runs through the
 * relay's circuit, the user verifies the proof and submits it, and the host publishes it to its ledger.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeTestModel } from '../llm/test-model-files.ts';
import { tempDir } from '../llm/test-support.ts';
import { fastTimings, genesisToJson, makeGenesis } from '../protocol/genesis.ts';
import { main } from './main.ts';

const children: ChildProcess[] = [];
const dir = tempDir('sprintnet-serve-model-');

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

function start(args: string[]) {
  const child = spawn('node', ['bin/sprintnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const waitFor = async (re: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = out.match(re);
      if (m) return m;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${re} within ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, waitFor, output: () => out };
}

describe('bin/sprintnet host --serve-model and infer --peer', () => {
  it('runs a split session through the relay and the host publishes the proof to its ledger', async () => {
    const model = join(dir, 'model');
    writeTestModel(model, { layers: 4, seed: 3 });
    const relay = start(['relay', '--port', '0', '--write', join(dir, 'network.json')]);
    const relayAddr = (await relay.waitFor(/listening on (\S+)/, 60_000))[1]!;
    // Epoch 0 starts now; its Sprint starts about a minute later, so the test's session lies in [start, proof deadline).
    const genesis = makeGenesis({
      networkId: 'sprintnet-local',
      config: 'tiny',
      hitRateDenominator: 16,
      startMs: Date.now(),
      skewMs: 300,
      timings: fastTimings(60_000, 300),
    });
    await writeFile(join(dir, 'genesis.json'), JSON.stringify(genesisToJson(genesis)));
    const host = start([
      'host',
      '--seed',
      '31'.repeat(32),
      '--relay',
      relayAddr,
      '--genesis',
      join(dir, 'genesis.json'),
      '--engine',
      'reference',
      '--backend',
      'cpu',
      '--data',
      join(dir, 'host'),
      '--serve-model',
      model,
      '--model-tau',
      '2',
    ]);
    const peerId = (await host.waitFor(/Host started, peer id (\S+);/, 60_000))[1]!;
    await host.waitFor(/serving split inference: model [0-9a-f]{16}…, layers \[1, 4\), τ = 2\.0000/, 60_000);
    await host.waitFor(/Relay: /, 30_000);

    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    let code: number;
    try {
      code = await main([
        'infer',
        '--model',
        model,
        '--prompt',
        'Hello',
        '--split',
        '2',
        '--max-tokens',
        '6',
        '--backend',
        'cpu',
        '--tau',
        '2',
        '--max-entropy',
        '10',
        '--peer',
        peerId,
        '--relay',
        relayAddr,
        '--json',
      ]);
    } finally {
      write.mockRestore();
    }
    const r = JSON.parse(out.join(''));
    expect(code).toBe(0);
    expect(r.volunteer).toBe(`volunteer ${peerId.slice(-8)}`);
    expect(r.verification).toMatchObject({ verified: true, consistency: 'the re-run from h_k agrees', submitted: 'published for epoch 0' });
    await host.waitFor(/published an inference proof of \d+ FLOPs for epoch 0/, 10_000);
    host.child.kill('SIGINT');
    relay.child.kill('SIGINT');
  }, 180_000);
});
