/**
 * `npm run bench -- --backend cpu --config tiny --json`: the JSON contract of the CPU backend's
 * benchmark (speed is never asserted in CI; docs/benchmarks.md has the measured numbers).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONFIGS, flopsPerNonce } from '../sprint/config.ts';

const run = promisify(execFile);

describe('npm run bench -- --backend cpu --config tiny --json', () => {
  it('prints one JSON object with the backend, the onnxruntime-web wasm peer and the ratios', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/bench/bench.ts', '--backend', 'cpu', '--threads', '2', '--config', 'tiny', '--batch', '32', '--seconds', '0.5', '--json'],
      { timeout: 90_000 },
    );
    const r = JSON.parse(stdout.trim());
    expect(r).toMatchObject({ backend: 'cpu', threads: 2, config: 'tiny', batch: 32, weight_format: 'u8', peer_gflops: null, peer_ratio: null });
    for (const field of [
      'nonces_per_s',
      'gflops',
      'ready_ms',
      'weight_bytes',
      'matmul_gflops',
      'efficiency',
      'pass_ms',
      'outside_layers_ms',
      'cpu_peer_gflops',
      'cpu_peer_ratio',
    ]) {
      expect(typeof r[field], field).toBe('number');
      expect(r[field], field).toBeGreaterThan(0);
    }
    expect(r.cpu_peer_op).toMatch(/onnxruntime-web .* wasm (MatMul|Gemm)/);
    expect(r.gflops).toBeCloseTo((r.nonces_per_s * flopsPerNonce(CONFIGS.tiny)) / 1e9, 9);
    expect(r.efficiency).toBeCloseTo(r.gflops / r.matmul_gflops, 9);
    expect(r.cpu_peer_ratio).toBeCloseTo(r.matmul_gflops / r.cpu_peer_gflops, 9);
    expect(r.matmul_shape).toEqual({ M: 32 * 4, K: 64, N: 256 });
    expect(r.weight_bytes).toBe(164_096);
  }, 120_000);
});
