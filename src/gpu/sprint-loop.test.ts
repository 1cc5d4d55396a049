/**
 * The Sprint loop's duty cycle on a virtual clock: a fake batch runner "works" by advancing the
 * clock by each batch's cost, the loop rests by advancing it too, so busy fractions are exact
 * ratios of virtual time, not timings of this machine.
 */
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { at } from '../sprint/indexing.ts';
import { GpuError } from './errors.ts';
import { IntensityControl, runSprintLoop, type BatchRunner, type LoopTiming } from './sprint-loop.ts';
import type { SprintOptions } from './engine-types.ts';

const PUBLIC_KEY = new Uint8Array(32);
const BATCH = 8;

/** A clock that moves only when the runner works or the loop rests. */
function virtualMachine(costOf: (batchIndex: number) => number) {
  let t = 0;
  let busy = 0;
  let batches = 0;
  const timing: LoopTiming = {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
  // Like the engines' pipelines: keeps asking for batches until `next` says the segment is over.
  const run: BatchRunner = async (next, onBatch) => {
    for (let nonces = next(); nonces; nonces = next()) {
      const cost = costOf(batches++);
      t += cost;
      busy += cost;
      onBatch(nonces, new Float32Array(nonces.length).fill(2));
      await Promise.resolve();
    }
  };
  return { timing, run, busy: () => busy, now: () => t, batches: () => batches };
}

const fail = (e: unknown) => e;
const sprint = (vm: ReturnType<typeof virtualMachine>, options: Partial<SprintOptions>) =>
  runSprintLoop(CONFIGS.tiny, BATCH, { publicKey: PUBLIC_KEY, ...options }, vm.run, fail, vm.timing);

// Costs from 20 to 80 ms in a fixed pattern: the rest must follow each batch's own time.
const uneven = (i: number) => 20 + ((i * 37) % 61);

describe('runSprintLoop intensity (virtual clock)', () => {
  it.each([1, 0.5, 0.25])('d = %s: busy fraction of a 10 s Sprint is d', async (d) => {
    const vm = virtualMachine(uneven);
    const result = await sprint(vm, { durationMs: 10_000, intensity: d });
    const fraction = vm.busy() / vm.now();
    // The last batch may run past the duration by one batch and have no rest: at most 80 ms of 10 s.
    expect(Math.abs(fraction - d)).toBeLessThan(0.01);
    expect(result.busyMs).toBe(vm.busy());
    expect(result.elapsedMs).toBe(vm.now());
    expect(result.stoppedBy).toBe('duration');
    expect(result.noncesTried).toBe(vm.batches() * BATCH);
    console.log(`virtual clock, d = ${d}: busy fraction ${fraction.toFixed(4)} over ${vm.batches()} batches`);
  });

  it('rests busy·(1−d)/d after each batch, measured on that batch', async () => {
    const vm = virtualMachine(uneven);
    const ends: number[] = [];
    await sprint(vm, { maxNonces: 10 * BATCH, intensity: 0.25, onProgress: () => ends.push(vm.now()) });
    // Batch i starts 3 × (batch i−1's time) after batch i−1 ended: (1 − 0.25) / 0.25 = 3.
    const gaps = ends.slice(1).map((end, j) => end - uneven(j + 1) - at(ends, j, 'batch end') - 3 * uneven(j));
    expect(gaps).toEqual(new Array(9).fill(0));
  });

  it('keeps the busy fraction at d when every timer fires late (the overrun comes off the next rest)', async () => {
    const vm = virtualMachine(uneven);
    const late: LoopTiming = { now: vm.timing.now, sleep: (ms) => vm.timing.sleep(ms + 7) };
    await runSprintLoop(CONFIGS.tiny, BATCH, { publicKey: PUBLIC_KEY, durationMs: 10_000, intensity: 0.5 }, vm.run, fail, late);
    // Without the carry-over: 7 ms over per rest of ~50 ms, a busy fraction of 0.47.
    expect(Math.abs(vm.busy() / vm.now() - 0.5)).toBeLessThan(0.01);
  });

  it('does not rest after the last batch of maxNonces', async () => {
    const vm = virtualMachine(() => 50);
    const result = await sprint(vm, { maxNonces: 4 * BATCH, intensity: 0.5 });
    expect(result.stoppedBy).toBe('maxNonces');
    expect(vm.now()).toBe(4 * 50 + 3 * 50);
  });

  it('follows an IntensityControl changed while the Sprint runs', async () => {
    const vm = virtualMachine(() => 40);
    const control = new IntensityControl(1);
    let atSwitch = { t: 0, busy: 0 };
    const result = await sprint(vm, {
      durationMs: 20_000,
      intensity: control,
      onProgress: (p) => {
        if (p.noncesTried === 50 * BATCH) {
          control.set(0.25);
          atSwitch = { t: vm.now(), busy: vm.busy() };
        }
      },
    });
    expect(atSwitch.busy).toBe(atSwitch.t); // flat out before the change
    const after = (vm.busy() - atSwitch.busy) / (vm.now() - atSwitch.t);
    expect(Math.abs(after - 0.25)).toBeLessThan(0.01);
    expect(result.busyMs).toBe(vm.busy());
  });

  it('ends a rest early when the intensity rises', async () => {
    const control = new IntensityControl(0.1);
    const vm = virtualMachine(() => 100);
    let slices = 0;
    const timing: LoopTiming = {
      now: vm.timing.now,
      sleep: async (ms) => {
        if (++slices === 2) control.set(1); // during the second slice of the first 900 ms rest
        await vm.timing.sleep(ms);
      },
    };
    const starts: number[] = [];
    await runSprintLoop(
      CONFIGS.tiny,
      BATCH,
      { publicKey: PUBLIC_KEY, maxNonces: 3 * BATCH, intensity: control, onProgress: () => starts.push(vm.now() - 100) },
      vm.run,
      fail,
      timing,
    );
    // Two 100 ms slices of rest, then back to back at d = 1.
    expect(starts).toEqual([0, 300, 400]);
  });

  it('stops at once when aborted during a rest', async () => {
    const controller = new AbortController();
    const vm = virtualMachine(() => 100);
    let slices = 0;
    const timing: LoopTiming = {
      now: vm.timing.now,
      sleep: async (ms, signal) => {
        if (++slices === 3) controller.abort();
        if (!signal?.aborted) await vm.timing.sleep(ms);
      },
    };
    const result = await runSprintLoop(CONFIGS.tiny, BATCH, { publicKey: PUBLIC_KEY, intensity: 0.1, signal: controller.signal }, vm.run, fail, timing);
    expect(result.stoppedBy).toBe('abort');
    expect(vm.batches()).toBe(1);
    expect(result.elapsedMs).toBe(100 + 2 * 100);
  });

  it('rejects an intensity outside [0.1, 1] with BAD_ARGUMENT', async () => {
    for (const bad of [0, 0.05, 1.5, Number.NaN]) {
      const vm = virtualMachine(() => 1);
      await expect(sprint(vm, { maxNonces: 8, intensity: bad })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      expect(vm.batches()).toBe(0);
    }
    expect(() => new IntensityControl(1).set(2)).toThrow(GpuError);
  });
});
