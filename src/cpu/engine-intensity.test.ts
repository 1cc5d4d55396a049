/**
 * Intensity on the real CPU engine (tiny, 2 threads): at d = 1, 0.5 and 0.25 a Sprint's busy
 * fraction is measured from wall time (the loop's batch time over the wall time this test measures
 * around the Sprint), and checked independently with the process's CPU time (`process.cpuUsage`
 * counts the compute threads too): the same nonces cost the same CPU at any d, so a rest is a real
 * rest, with no spinning thread and no batch behind the loop's back. All figures are ratios.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SprintResult } from '../gpu/engine-types.ts';
import { IntensityControl } from '../gpu/sprint-loop.ts';
import type { CpuSprintEngine } from './engine.ts';
import { PUBLIC_KEY, cpuEngine } from './test-support.ts';

// Tens of ms a batch here: well above timer granularity, so rests are what the loop asked for.
const BATCH = 512;
const BATCHES = 16;

let engine: CpuSprintEngine;
beforeAll(async () => {
  engine = await cpuEngine({ batch: BATCH, threads: 2 });
  await engine.evaluateNonces(
    PUBLIC_KEY,
    Array.from({ length: BATCH }, (_, i) => i),
  ); // warm up
}, 120_000);
afterAll(() => engine?.destroy());

interface Measured {
  readonly result: SprintResult;
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function measure(intensity: number | IntensityControl, startNonce: number): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const result = await engine.runSprint({ publicKey: PUBLIC_KEY, startNonce, maxNonces: BATCH * BATCHES, intensity });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

describe('CpuSprintEngine intensity (tiny)', () => {
  it('is busy a fraction d of the time at d = 1, 0.5 and 0.25, by wall time and by CPU time', async () => {
    const full = await measure(1, 0);
    const fullUse = full.cpuMs / full.wallMs;
    const rows: string[] = [];
    for (const [i, d] of [1, 0.5, 0.25].entries()) {
      const m = i === 0 ? full : await measure(d, i * BATCH * BATCHES);
      expect(m.result.noncesTried).toBe(BATCH * BATCHES);
      expect(m.result.elapsedMs).toBeLessThanOrEqual(m.wallMs);
      const byWall = m.result.busyMs / m.wallMs;
      const byCpu = m.cpuMs / m.wallMs / fullUse;
      // No rest after the last batch: the exact expectation is a little above d.
      const expected = 1 / (1 + ((BATCHES - 1) / BATCHES) * ((1 - d) / d));
      rows.push(
        `d = ${d} (expected ${expected.toFixed(3)}): busy fraction ${byWall.toFixed(3)} by wall time, ${byCpu.toFixed(3)} by CPU time (${m.cpuMs.toFixed(0)} ms CPU in ${m.wallMs.toFixed(0)} ms)`,
      );
      console.log(rows.at(-1));
      expect(Math.abs(byWall - expected)).toBeLessThan(0.03);
      // A rest costs no CPU: the same nonces take about the same CPU time at any d. Two threads
      // spinning, or a hidden batch, through rests of 1× (d = 0.5) or 3× (d = 0.25) the busy time
      // would at least double it. CPU use over wall time relative to d = 1 is printed, not held:
      // it follows the load other processes put on these cores (measured 0.51–0.86 at d = 0.5).
      expect(m.cpuMs / full.cpuMs).toBeGreaterThan(0.5);
      expect(m.cpuMs / full.cpuMs).toBeLessThan(1.5);
    }
  }, 300_000);

  it('follows an IntensityControl lowered during the Sprint, and stops at once on abort during a rest', async () => {
    const control = new IntensityControl(1);
    const controller = new AbortController();
    let abortedAt = 0;
    const result = await engine.runSprint({
      publicKey: PUBLIC_KEY,
      startNonce: 100_000,
      intensity: control,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.noncesTried !== 4 * BATCH) return;
        control.set(0.1);
        // The pipeline still finishes batches 5 and 6 (about 2 batch times), then rests 9 batch
        // times: an abort 5 batch times from now falls inside that rest.
        setTimeout(
          () => {
            abortedAt = performance.now();
            controller.abort();
          },
          (p.elapsedMs / 4) * 5,
        );
      },
    });
    const stopMs = performance.now() - abortedAt;
    expect(result.stoppedBy).toBe('abort');
    expect(result.noncesTried).toBe(6 * BATCH);
    expect(result.elapsedMs - result.busyMs).toBeGreaterThan(result.busyMs / 6);
    console.log(`abort during a rest: runSprint returned ${stopMs.toFixed(1)} ms after abort()`);
    expect(stopMs).toBeLessThan(result.busyMs / 6);
  }, 120_000);
});
