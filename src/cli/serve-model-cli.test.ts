/**
 * `bin/sprintnet host --genesis … --serve-model DIR` as a separate process behind a local relay, and
 * `infer --split K --peer <peer id> --relay <relay>` against it: the session runs through the
 * relay's circuit, the user verifies the proof and submits it, and the host publishes it to its ledger.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeTestModel } from '../llm/test-model-files.ts';
import { tempDir } from '../llm/test-support.ts';
import { fastTimings, genesisHash, genesisToJson, makeGenesis } from '../protocol/genesis.ts';
import { toHex } from '../sprint/bytes.ts';
import { main } from './main.ts';
import { modelHostArgs, spawnSprintnet, waitForOutput, type Proc } from './test-support.ts';

const procs: Proc[] = [];
const dir = tempDir('sprintnet-serve-model-');

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

function start(args: string[]): Proc {
  const proc = spawnSprintnet(args);
  procs.push(proc);
  return proc;
}

describe('bin/sprintnet host --serve-model and infer --peer', () => {
  it('runs a split session through the relay and the host publishes the proof to its ledger', async () => {
    const model = join(dir, 'model');
    writeTestModel(model, { layers: 4, seed: 3 });
    const relay = start(['relay', '--port', '0', '--write', join(dir, 'network.json')]);
    const relayAddr = (await waitForOutput(relay, /listening on (\S+)/, 60_000))[1]!;
    // Epoch 0 starts now; its Sprint starts about a minute later, so the test's session lies in [start, proof deadline).
    const genesis = makeGenesis({
      networkId: 'sprintnet-local',
      config: 'tiny',
      hitRateDenominator: 16,
      startMs: Date.now(),
      skewMs: 300,
      timings: fastTimings(60_000, 300),
    });
    const genesisPath = join(dir, 'genesis.json');
    await writeFile(genesisPath, JSON.stringify(genesisToJson(genesis)));
    const host = start(modelHostArgs({ seed: '31'.repeat(32), relay: relayAddr, genesisPath, dataDir: join(dir, 'host'), modelDir: model }));
    const peerId = (await waitForOutput(host, /Host started, peer id (\S+);/, 60_000))[1]!;
    await waitForOutput(host, /serving split inference: model [0-9a-f]{16}…, layers \[1, 4\), τ = 2\.0000/, 60_000);
    await waitForOutput(host, /Relay: /, 30_000);

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
    // The host's receipt named its genesis: the proof counts in that ledger only.
    expect(r.verification.genesis).toBe(toHex(genesisHash(genesis)));
    await waitForOutput(host, /published an inference proof of \d+ FLOPs for epoch 0/, 10_000);
    host.child.kill('SIGINT');
    relay.child.kill('SIGINT');
  }, 180_000);
});
