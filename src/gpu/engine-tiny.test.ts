import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { ReferenceModel, evaluateNonces } from '../sprint/reference.ts';
import { at } from '../sprint/indexing.ts';
import { PUBLIC_KEY, SPEC_TOLERANCE, SPRINT_SEED, nodeEngine } from './test-support.ts';
import type { SprintEngine } from './transformer.ts';

const tiny = CONFIGS.tiny;
const NONCES = Array.from({ length: 512 }, (_, i) => i * 3 + 1000);
let engine: SprintEngine;
let reference: ReturnType<typeof evaluateNonces>;
let model: ReferenceModel;

beforeAll(async () => {
  const phases: string[] = [];
  engine = await nodeEngine({ onProgress: (phase) => phases.at(-1) !== phase && phases.push(phase) });
  expect(phases).toEqual(['autotune', 'weights', 'compile']);
  model = new ReferenceModel(tiny, SPRINT_SEED, true);
  reference = evaluateNonces(tiny, SPRINT_SEED, PUBLIC_KEY, NONCES, model);
});
afterAll(() => engine?.destroy());

describe('SprintEngine on tiny', () => {
  it('distances of 512 nonces match the CPU reference within the spec tolerance', async () => {
    const gpu = await engine.evaluateNonces(PUBLIC_KEY, NONCES);
    const r = rTarget(tiny);
    let worst = 0;
    reference.forEach((ref, i) => {
      const distance = at(gpu, i, 'distance');
      worst = Math.max(worst, Math.abs(distance - ref.distance));
      if (Math.abs(ref.distance - r) > SPEC_TOLERANCE) expect(distance < r).toBe(ref.appropriate);
    });
    expect(worst).toBeLessThanOrEqual(SPEC_TOLERANCE);
  });

  it('remembers the tuning per adapter: a second engine takes it from the cache', async () => {
    expect(engine.tuning?.fromCache).toBe(false);
    expect(engine.tuning?.measured.length).toBeGreaterThan(1);
    const again = await nodeEngine({ batch: 8 });
    try {
      expect(again.tuning).toMatchObject({ fromCache: true, variant: engine.variant });
    } finally {
      again.destroy();
    }
  });

  it('gives the same distances with tensors split across small bindings, and with f16 weights', async () => {
    const nonces = NONCES.slice(0, 64);
    const base = await engine.evaluateNonces(PUBLIC_KEY, nonces);
    const split = await nodeEngine({ maxBindingBytes: 2048, autotune: false, batch: 16 });
    const f16 = await nodeEngine({ variant: { tileM: 2, tileN: 4, useWorkgroupMemory: false, workgroupSize: 64, weightFormat: 'f16' }, batch: 32 });
    // What a GPU runs: workgroup-memory matmul and the workgroup-reduction output stage.
    const tiled = await nodeEngine({
      variant: { tileM: 4, tileN: 4, useWorkgroupMemory: true, workgroupSize: 64, weightFormat: 'u8' },
      outputMode: 'workgroup',
      batch: 8,
    });
    try {
      for (const other of [split, f16, tiled]) {
        const d = await other.evaluateNonces(PUBLIC_KEY, nonces);
        d.forEach((x, i) => expect(Math.abs(x - at(reference, i, 'reference nonce').distance)).toBeLessThanOrEqual(SPEC_TOLERANCE));
        d.forEach((x, i) => expect(Math.abs(x - at(base, i, 'distance'))).toBeLessThan(1e-4));
      }
    } finally {
      [split, f16, tiled].forEach((e) => e.destroy());
    }
  });

  it('forward: hidden states after any layer, layer ranges from a hidden state, and logits', async () => {
    const tokens = [Uint32Array.of(1, 2, 3, 4), Uint32Array.of(511, 0, 7, 300), Uint32Array.of(5, 5, 5, 5)];
    const full = await engine.forward({ tokens, capture: [0], logits: true });
    const refStates = tokens.map((t) => model.embed(t));
    const afterLayer0 = model.runLayers(refStates, 0, 1);
    const final = model.runLayers(afterLayer0, 1, tiny.layers);
    const d = tiny.dModel;
    const close = (got: Float32Array, want: ArrayLike<number>, eps: number) => {
      expect(got.length).toBeGreaterThanOrEqual(want.length);
      let worst = 0;
      // The length check above covers both indices.
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThan(eps);
    };
    tokens.forEach((_, s) => {
      const finalState = at(final, s, 'final state');
      close(full.captured.get(0)!.subarray(s * 4 * d, (s + 1) * 4 * d), at(afterLayer0, s, 'state after layer 0'), 1e-4);
      close(full.hidden.subarray(s * 4 * d, (s + 1) * 4 * d), finalState, 1e-4);
      close(full.logits!.subarray(s * tiny.vocab, (s + 1) * tiny.vocab), model.logits(finalState), 1e-4);
    });
    // Split inference: layer 0 alone, then layers [1, L) from its hidden state.
    const first = await engine.forward({ tokens, toLayer: 1 });
    const rest = await engine.forward({ hidden: { data: first.hidden, sequences: 3, seqLen: 4 }, fromLayer: 1 });
    close(rest.hidden, full.hidden, 1e-6);
    // Shorter sequences (n = 2) agree with the reference as well.
    const short = await engine.forward({ tokens: [Uint32Array.of(9, 8)], logits: true });
    const refShort = at(model.runLayers([model.embed(Uint32Array.of(9, 8))], 0, tiny.layers), 0, 'final state');
    close(short.hidden, refShort, 1e-4);
    close(short.logits!, model.logits(refShort), 1e-4);
    // Hidden states of any length (here 7 > seqLen positions): attention is generic over length.
    const long = Float64Array.from({ length: 7 * d }, (_, i) => Math.sin(i * 0.37));
    const gotLong = await engine.forward({ hidden: { data: Float32Array.from(long), sequences: 1, seqLen: 7 }, logits: true });
    const refLong = at(model.runLayers([long], 0, tiny.layers), 0, 'final state');
    close(gotLong.hidden, refLong, 1e-4);
    close(gotLong.logits!, model.logits(refLong), 1e-4);
  });

  it('runs a Sprint: appropriate nonces with their distances, progress, abort', async () => {
    const progress: number[] = [];
    const result = await engine.runSprint({
      publicKey: PUBLIC_KEY,
      startNonce: 1000,
      maxNonces: 300,
      hitRate: 0.05,
      onProgress: (p) => progress.push(p.noncesTried),
    });
    expect(result.noncesTried).toBe(300);
    expect(result.nextNonce).toBe(1300);
    expect(result.stoppedBy).toBe('maxNonces');
    expect(progress.at(-1)).toBe(result.noncesTried);
    const r = rTarget(tiny, 0.05);
    const expected = evaluateNonces(
      tiny,
      SPRINT_SEED,
      PUBLIC_KEY,
      Array.from({ length: result.noncesTried }, (_, i) => 1000 + i),
      model,
    ).filter((e) => e.distance < r - SPEC_TOLERANCE);
    expect(result.found.length).toBeGreaterThan(0);
    for (const e of expected) expect(result.found.map((f) => f.nonce)).toContain(e.nonce);
    const controller = new AbortController();
    controller.abort();
    const aborted = await engine.runSprint({ publicKey: PUBLIC_KEY, durationMs: 60_000, signal: controller.signal });
    expect(aborted).toMatchObject({ stoppedBy: 'abort', noncesTried: 0 });
    // Abort mid-Sprint: returns without waiting for the batches in flight; the engine stays usable.
    const stop = new AbortController();
    const midway = await engine.runSprint({ publicKey: PUBLIC_KEY, durationMs: 60_000, signal: stop.signal, onProgress: () => stop.abort() });
    expect(midway.stoppedBy).toBe('abort');
    expect(midway.noncesTried).toBe(engine.batch);
    expect(midway.nextNonce).toBe(engine.batch);
    const after = await engine.evaluateNonces(PUBLIC_KEY, NONCES.slice(0, 8));
    after.forEach((d, i) => expect(Math.abs(d - at(reference, i, 'reference nonce').distance)).toBeLessThanOrEqual(SPEC_TOLERANCE));
    expect(engine.device.uncapturedErrors).toEqual([]);
  });
});
