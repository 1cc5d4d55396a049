/**
 * The parts both Sprint engines share, without an engine: forward argument checks, the pass
 * pipeline's order, depth and abort, and the profile's interleaving of timed passes.
 */
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { isGpuError } from './errors.ts';
import { assertSameSprint, CallQueue, measurePasses, planForward, runPipeline } from './engine-shared.ts';

const tiny = CONFIGS.tiny;

const badArgument = (run: () => unknown): string => {
  try {
    run();
  } catch (e) {
    if (isGpuError(e, 'BAD_ARGUMENT')) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('planForward', () => {
  it('gives the layer range, shape and sorted unique captures', () => {
    const plan = planForward(tiny, {
      tokens: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      fromLayer: 0,
      toLayer: 2,
      capture: [1, 0, 1],
    });
    expect(plan).toEqual({ from: 0, to: 2, sequences: 2, seqLen: 3, capture: [0, 1] });
  });

  it('refuses bad ranges, ragged or over-long tokens, both inputs, short hidden data and captures outside the range', () => {
    const hidden = { data: new Float32Array(tiny.dModel * 4), sequences: 1, seqLen: 4 };
    expect(badArgument(() => planForward(tiny, { tokens: [[1]], fromLayer: 1, toLayer: 0 }))).toMatch(/layer range/);
    expect(badArgument(() => planForward(tiny, { tokens: [[1]], toLayer: 0.5 }))).toMatch(/layer range/);
    expect(badArgument(() => planForward(tiny, { tokens: [[1, 2], [3]] }))).toMatch(/common length/);
    expect(badArgument(() => planForward(tiny, { tokens: [[1, 2, 3, 4, 5]] }))).toMatch(/common length in 1..4/);
    expect(badArgument(() => planForward(tiny, { tokens: [[1]], hidden }))).toMatch(/not both/);
    expect(badArgument(() => planForward(tiny, { hidden: { ...hidden, seqLen: 5 } }))).toMatch(/hidden/);
    expect(badArgument(() => planForward(tiny, { tokens: [[1]], fromLayer: 1, capture: [0] }))).toMatch(/captured layers/);
  });

  it('takes hidden states longer than seqLen only up to the limit the engine gives', () => {
    const long = { data: new Float32Array(tiny.dModel * 7), sequences: 1, seqLen: 7 };
    expect(planForward(tiny, { hidden: long }).seqLen).toBe(7);
    expect(badArgument(() => planForward(tiny, { hidden: long }, tiny.seqLen))).toMatch(/seqLen ≤ 4/);
  });
});

describe('assertSameSprint', () => {
  it('accepts no seed or the held one, refuses another', () => {
    const held = Uint8Array.of(1, 2, 3);
    expect(() => assertSameSprint(held, undefined)).not.toThrow();
    expect(() => assertSameSprint(held, Uint8Array.of(1, 2, 3))).not.toThrow();
    expect(badArgument(() => assertSameSprint(held, Uint8Array.of(1, 2, 4)))).toMatch(/another Sprint/);
  });
});

describe('runPipeline', () => {
  /** Passes that finish when the test says, in any order. */
  const manual = () => {
    const pending: { nonces: readonly number[]; index: number; finish: () => void }[] = [];
    const submit = (nonces: readonly number[], index: number) =>
      new Promise<string>((resolve) => pending.push({ nonces, index, finish: () => resolve(`pass ${index}`) }));
    return { pending, submit };
  };
  const batches = (n: number) => {
    let i = 0;
    return () => (i < n ? [2 * i, 2 * i++ + 1] : null);
  };

  it('keeps `depth` passes in flight and reports them in submission order, whatever order they finish in', async () => {
    const { pending, submit } = manual();
    const seen: string[] = [];
    const done = runPipeline({ depth: 2, next: batches(3), submit, settle: (p) => p, onBatch: (n, r) => seen.push(`${r}: ${n.join(',')}`), signal: undefined });
    await Promise.resolve();
    expect(pending.map((p) => p.index)).toEqual([0, 1]);
    pending[1]!.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([]);
    pending[0]!.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(pending.map((p) => p.index)).toEqual([0, 1, 2]);
    pending[2]!.finish();
    await done;
    expect(seen).toEqual(['pass 0: 0,1', 'pass 1: 2,3', 'pass 2: 4,5']);
  });

  it('stops on abort: starts nothing more and hands the passes still in flight to `left`', async () => {
    const { pending, submit } = manual();
    const abort = new AbortController();
    const seen: number[] = [];
    let left: Promise<string>[] = [];
    const done = runPipeline({
      depth: 2,
      next: batches(10),
      submit,
      settle: async (p) => {
        const r = await p;
        return abort.signal.aborted ? null : r;
      },
      onBatch: (n) => seen.push(...n),
      signal: abort.signal,
      left: (passes) => (left = passes),
    });
    await Promise.resolve();
    pending[0]!.finish();
    await new Promise((r) => setTimeout(r, 0));
    abort.abort();
    pending[1]!.finish();
    await done;
    expect(seen).toEqual([0, 1]);
    expect(pending).toHaveLength(3);
    expect(left).toHaveLength(2);
  });
});

describe('measurePasses', () => {
  it('warms up once, interleaves full and outside passes, and reports their medians', async () => {
    const calls: boolean[] = [];
    // Fake passes of known cost: the full ones take ~4 ms, the ones without layers ~1 ms.
    const profile = await measurePasses(16, { passes: 3, outsidePasses: 5 }, async (skipLayers) => {
      calls.push(skipLayers);
      const until = performance.now() + (skipLayers ? 1 : 4);
      while (performance.now() < until);
    });
    expect(calls).toEqual([true, false, true, false, true, false, true, true, true]);
    expect(profile).toMatchObject({ batch: 16, passes: 3, outsidePasses: 5 });
    expect(profile.passMs).toBeGreaterThanOrEqual(4);
    expect(profile.outsideLayersMs).toBeGreaterThanOrEqual(1);
    expect(profile.outsideLayersShare).toBeCloseTo(profile.outsideLayersMs / profile.passMs, 12);
  });
});

describe('CallQueue', () => {
  it('runs calls one after another, a failed one included, each after the leftover work of the one before', async () => {
    const log: string[] = [];
    let leftover: Promise<unknown> = Promise.resolve();
    const queue = new CallQueue(() => leftover);
    let finishLeftover = () => {};
    const first = queue.run(async () => {
      log.push('first');
      leftover = new Promise<void>((resolve) => (finishLeftover = resolve)).then(() => log.push('leftover done'));
      throw new Error('first failed');
    });
    const second = queue.run(async () => log.push('second'));
    await expect(first).rejects.toThrow('first failed');
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['first']);
    finishLeftover();
    await second;
    expect(log).toEqual(['first', 'leftover done', 'second']);
  });
});
