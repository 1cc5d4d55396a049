/**
 * Hit-rate calibration (spec §11) end to end on the CPU backend, and the same count as the float64
 * reference where both run. The full 200,000-nonce run is `bin/sprintnet calibrate --config tiny`.
 */
import { describe, expect, it, vi } from 'vitest';
import { calibrate } from '../sprint/calibrate.ts';
import { CONFIGS } from '../sprint/config.ts';
import { calibrateOn, run } from './calibrate.ts';

describe('sprintnet calibrate', () => {
  it('30,000 real nonces on the CPU backend: hits inside the 99.9% binomial interval around p = 1/900', async () => {
    let out = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await run(['--config', 'tiny', '--nonces', '30000', '--backend', 'cpu']);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    const result = JSON.parse(out);
    expect(code).toBe(0);
    expect(result.nonces).toBe(30_000);
    expect(result.engine).toMatch(/^CPU \(WebAssembly/);
    expect(result.interval[0]).toBeGreaterThan(0);
    expect(result.hits).toBeGreaterThanOrEqual(result.interval[0]);
    expect(result.hits).toBeLessThanOrEqual(result.interval[1]);
  });

  it('counts the same hits as the float64 reference on a slice that holds some', async () => {
    // At p = 1/32 (a larger r_target), 800 nonces hold about 25 hits: enough to see a disagreement.
    const options = { nonces: 800, hitRate: 1 / 32 };
    const reference = calibrate(CONFIGS.tiny, options);
    const cpu = await calibrateOn(CONFIGS.tiny, options, 'cpu', 2);
    expect(reference.hits).toBeGreaterThan(10);
    expect(cpu.result).toEqual(reference);
  });

  it('rejects bad arguments with a clear message', async () => {
    await expect(run(['--nonces=-3'])).rejects.toThrow(/--nonces must be a whole number of at least 1/);
    await expect(run(['--backend', 'gpu'])).rejects.toThrow(/--backend must be auto, webgpu, cpu or reference/);
    await expect(run(['--threads', '0'])).rejects.toThrow(/--threads must be a whole number from 1 to 256/);
  });
});
