import { describe, expect, it, vi } from 'vitest';
import { startRelay } from '../node/relay-server.ts';
import { writeTestModel } from '../llm/test-model-files.ts';
import { tempDir } from '../llm/test-support.ts';
import { main } from './main.ts';
import { spawnSprintnet, waitForOutput } from './test-support.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    return { code: await main(argv), out: out.join('') };
  } finally {
    write.mockRestore();
  }
}

describe('bin/sprintnet infer --split and privacy', () => {
  const dir = tempDir('sprintnet-split-');
  writeTestModel(dir, { layers: 4, seed: 3 });

  it('infer --split runs the user side against an in-process volunteer and verifies the proof', async () => {
    const { code, out } = await capture([
      'infer',
      '--model',
      dir,
      '--prompt',
      'Hello',
      '--split',
      '2',
      '--max-tokens',
      '6',
      '--backend',
      'cpu',
      '--precision',
      'f16',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ split: 2, layers: 4, precision: 'f16', stopped_by: expect.stringMatching(/max-tokens|eos/) });
    expect(r.thresholds.tau).toBeCloseTo(r.calibration.tau, 12); // measured, not given
    expect(r.steps[0].phase).toBe('prefill');
    expect(r.steps.filter((s: { phase: string }) => s.phase === 'decode')).toHaveLength(r.tokens);
    expect(r.verification).toMatchObject({ verified: true, consistency: 'the re-run from h_k agrees' });
    expect(r.verification.genesis).toBeNull(); // the in-process volunteer runs no ledger: no genesis credits the proof
    expect(r.verification.cu).toBeCloseTo(Number(r.verification.flops) / 1e15, 20);
    expect(r.proof).toMatch(/^[0-9a-f]+$/);
    // f16 h_k: 64 values × 2 bytes plus the step header.
    expect(r.request_bytes_per_token).toBe(64 * 2 + 70);
  });

  it('refuses a split layer outside [1, L)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect((await capture(['infer', '--model', dir, '--prompt', 'Hi', '--split', '4', '--backend', 'cpu'])).code).toBe(2);
    } finally {
      err.mockRestore();
    }
  });

  it('privacy reports token recovery per k and noise level', async () => {
    const { code, out } = await capture(['privacy', '--model', dir, '--k', '1', '--noise', '0', '--prompts', '1', '--backend', 'cpu', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ k: 1, noise: 0, searchRecovery: 1, meanKl: 0 });
  });

  it('infer --split --relay without --peer finds the headless host by its announcement, ranks it and splits with it', async () => {
    const relay = await startRelay({ port: 0 });
    const host = spawnSprintnet([
      'host',
      '--seed',
      '41'.repeat(32),
      '--relay',
      relay.multiaddr,
      '--engine',
      'off',
      '--backend',
      'cpu',
      '--serve-model',
      dir,
      '--model-tau',
      '2',
    ]);
    try {
      await waitForOutput(host, /answering pings/, 90_000);
      const log = host.output.join('');
      const peerId = log.match(/Host started, peer id (\S+);/)![1]!;
      const rate = Number(log.match(/measured ([\d.]+) tok\/s for the whole model/)![1]);
      expect(rate).toBeGreaterThan(0);
      const { code, out } = await capture(
        ['infer', '--model', dir, '--prompt', 'Hello', '--split', '2', '--max-tokens', '4', '--backend', 'cpu'].concat([
          '--tau',
          '2',
          '--max-entropy',
          '10',
          '--relay',
          relay.multiaddr,
          '--wait',
          '30',
          '--json',
        ]),
      );
      const r = JSON.parse(out);
      expect(r.ranking).toHaveLength(1);
      expect(r.ranking[0]).toMatchObject({ peer_id: peerId, tier: 'unweighted', open_sessions: 0, session_limit: 16, problem: null });
      // The host announces the rate it measured (shown, rounded in its log line).
      expect(r.ranking[0].announced_tokens_per_second).toBeCloseTo(rate, 0);
      expect(r.ranking[0].rtt_ms).toBeGreaterThan(0);
      expect(r.volunteer).toBe(`volunteer ${peerId.slice(-8)}`);
      expect(r).toMatchObject({ switches: 0, verification: { verified: true } });
      expect(code).toBe(0);
    } finally {
      host.child.kill('SIGINT');
      await relay.stop();
    }
  }, 180_000);
});
