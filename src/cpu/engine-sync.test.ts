/**
 * CpuSprintEngine.createSync: the kernels on the calling thread. Same bits as the threaded engine
 * (one summation order per output element, whatever the thread count), synchronous answers, and
 * no turn of the event loop between a call and its answer (the simulation's virtual clock needs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { ReferenceModel } from '../sprint/reference.ts';
import { TensorId } from '../sprint/weights.ts';
import { CpuSprintEngine } from './engine.ts';
import { PUBLIC_KEY, SPEC_TOLERANCE, SPRINT_SEED, cpuEngine } from './test-support.ts';

const tiny = CONFIGS.tiny;
const NONCES = Array.from({ length: 700 }, (_, i) => 2900 + i);
let threaded: CpuSprintEngine;
let inline: CpuSprintEngine;

beforeAll(async () => {
  threaded = await cpuEngine({ batch: 64, kernels: 'simd' });
  inline = CpuSprintEngine.createSync({ config: 'tiny', sprintSeed: SPRINT_SEED, batch: 64, kernels: 'simd' });
});
afterAll(() => {
  threaded?.destroy();
  inline?.destroy();
});

describe('CpuSprintEngine.createSync', () => {
  it('gives the threaded engine’s distances, fingerprints and keys bit for bit, synchronously', async () => {
    const want = await threaded.inspectNonces(PUBLIC_KEY, NONCES);
    const got = inline.inspectNoncesSync(PUBLIC_KEY, NONCES);
    expect(inline.threads).toBe(1);
    expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
    expect(Array.from(got.fingerprints)).toEqual(Array.from(want.fingerprints));
    expect(Array.from(got.keys)).toEqual(Array.from(want.keys));
    expect(await inline.readWeights(TensorId.w1, 1)).toEqual(await threaded.readWeights(TensorId.w1, 1));
  });

  it('answers its async methods before the event loop turns', async () => {
    let turned = false;
    setImmediate(() => (turned = true));
    const d = await inline.evaluateNonces(PUBLIC_KEY, NONCES.slice(0, 100));
    const f = await inline.forward({ tokens: [[1, 2, 3, 4]], logits: true });
    expect(turned).toBe(false);
    expect(d.length).toBe(100);
    expect(f.logits!.length).toBe(tiny.vocab);
  });

  it('forwardSync: layer ranges and captures equal the threaded forward, and hidden states match the reference', async () => {
    const tokens = [
      [5, 9, 200, 7],
      [0, 511, 3, 3],
      [17, 17, 17, 17],
    ];
    const want = await threaded.forward({ tokens, capture: [0], logits: true });
    const whole = inline.forwardSync({ tokens, capture: [0], logits: true });
    expect(Array.from(whole.hidden)).toEqual(Array.from(want.hidden));
    expect(Array.from(whole.captured.get(0)!)).toEqual(Array.from(want.captured.get(0)!));
    expect(Array.from(whole.logits!)).toEqual(Array.from(want.logits!));
    const first = inline.forwardSync({ tokens, toLayer: 1 });
    const second = inline.forwardSync({ hidden: { data: first.hidden, sequences: 3, seqLen: 4 }, fromLayer: 1, logits: true });
    expect(Array.from(second.logits!)).toEqual(Array.from(whole.logits!));
    const model = new ReferenceModel(tiny, SPRINT_SEED, true);
    const ref = model.runLayers(
      tokens.map((t) => model.embed(Uint32Array.from(t))),
      0,
      tiny.layers,
    );
    const scale = Math.max(...ref.flatMap((x) => Array.from(x, Math.abs)));
    ref.forEach((x, s) => x.forEach((v, i) => expect(Math.abs(whole.hidden[s * x.length + i]! - v) / scale).toBeLessThan(SPEC_TOLERANCE)));
  });

  it('refuses synchronous calls on a threaded engine and any call after destroy, with typed errors', () => {
    expect(() => threaded.inspectNoncesSync(PUBLIC_KEY, [1])).toThrow(/createSync/);
    const e = CpuSprintEngine.createSync({ config: 'tiny', sprintSeed: SPRINT_SEED });
    e.destroy();
    expect(() => e.inspectNoncesSync(PUBLIC_KEY, [1])).toThrow(/destroyed/);
    expect(() => CpuSprintEngine.createSync({ config: 'tiny', sprintSeed: SPRINT_SEED, batch: 0 })).toThrow(/batch/);
  });
});
