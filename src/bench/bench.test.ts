/**
 * The bench CLI's output contract on tiny: one JSON object on stdout with every field. Speed is
 * never asserted here (CI machines are shared and slow); only types and sanity.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { flopsPerNonce, CONFIGS } from '../sprint/config.ts';

const run = promisify(execFile);

describe('npm run bench -- --config tiny --json', () => {
  it('prints one JSON object with every field, sane types', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/bench/bench.ts', '--config', 'tiny', '--batch', '32', '--seconds', '0.5', '--json'],
      { timeout: 90_000 },
    );
    const r = JSON.parse(stdout.trim());
    const positive = [
      'nonces_per_s',
      'gflops',
      'ready_ms',
      'weight_bytes',
      'matmul_gflops',
      'efficiency',
      'peer_gflops',
      'peer_ratio',
      'pass_ms',
      'outside_layers_ms',
      'outside_layers_share',
    ];
    for (const field of positive) {
      expect(typeof r[field], field).toBe('number');
      expect(r[field], field).toBeGreaterThan(0);
    }
    expect(typeof r.adapter).toBe('string');
    expect(r.config).toBe('tiny');
    expect(r.batch).toBe(32);
    expect(r.gflops).toBeCloseTo((r.nonces_per_s * flopsPerNonce(CONFIGS.tiny)) / 1e9, 9);
    expect(r.efficiency).toBeCloseTo(r.gflops / r.matmul_gflops, 9);
    expect(r.outside_layers_share).toBeCloseTo(r.outside_layers_ms / r.pass_ms, 9);
    expect(r.matmul_shape).toEqual({ M: 32 * 4, K: 64, N: 256 });
  }, 120_000);
});
