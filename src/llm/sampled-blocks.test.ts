/**
 * Sampled decoding on the GPU: the counter-hash draw (the same u on both sides), the GPU pick
 * against the float64 CPU sampler on the same logits and u (equal, or a neighbour in rank order when
 * u lies within DRAW_TOLERANCE of the boundary between them), the picks' frequencies against the
 * CPU's distribution, and generate's sampled blocks against its per-step CPU path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { LlmError } from './errors.ts';
import { generate } from './generate.ts';
import { GpuModel } from './gpu-model.ts';
import { GpuSampler, type GpuPick } from './gpu-sampler.ts';
import type { SampleThreads } from './shaders/sample.wgsl.ts';
import { loadReference } from './loader.ts';
import type { DrawParams } from './model-types.ts';
import { counterUniform, sampleToken, SeededRandom } from './sampling.ts';
import { MemorySource } from './source.ts';
import { makeTestModel } from './test-model.ts';

/** How close u may come to a boundary between two ranks for f32 rounding to move the pick across it (docs/llm.md). */
const DRAW_TOLERANCE = 1e-4;
/** How close the running mass may come to top-p for f32 rounding to keep one rank more or fewer. */
const NUCLEUS_TOLERANCE = 1e-5;

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

/** Ranks, kept count and running masses as the float64 rule defines them (a plain sort). */
function ranks(logits: ArrayLike<number>, d: DrawParams) {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  const probs = Float64Array.from({ length: n }, (_, i) => Math.exp((logits[i]! - max) / d.temperature));
  const total = probs.reduce((a, b) => a + b, 0);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const topK = d.topK > 0 ? Math.min(d.topK, n) : n;
  let kept = 0;
  let mass = 0;
  while (kept < topK) {
    mass += probs[order[kept]!]! / total;
    kept++;
    if (mass >= d.topP) break;
  }
  // Running mass fractions over every rank (the walk above stops at `kept`).
  let running = 0;
  const fractions = order.map((t) => (running += probs[t]! / total));
  const cum: number[] = [];
  let keptMass = 0;
  for (let i = 0; i < kept; i++) cum.push((keptMass += probs[order[i]!]!));
  const rank = new Map(order.map((t, i) => [t, i]));
  return { order, probs, kept, keptMass, cum, fractions, rank };
}

/** '' when the GPU pick passes the criterion, else why not; `boundary` counts the tolerated flips. */
function judge(logits: ArrayLike<number>, d: DrawParams, pick: GpuPick, index: number, tally: { boundary: number; edge: number }): string {
  if (pick.u !== counterUniform(d.seed, index)) return `u ${pick.u} is not counterUniform(${d.seed}, ${index})`;
  const r = ranks(logits, d);
  const cpu = sampleToken(logits, d, { uniform: () => pick.u });
  const rg = r.rank.get(pick.token);
  if (rg === undefined) return `token ${pick.token} is outside the vocabulary`;
  if (pick.kept !== r.kept) {
    // Only where the running mass passes top-p within f32 rounding, the ranks between holding next to nothing.
    const [a, b] = [r.fractions[Math.min(pick.kept, r.kept) - 1]!, r.fractions[Math.max(pick.kept, r.kept) - 1]!];
    if (Math.abs(a - d.topP) > NUCLEUS_TOLERANCE || b - a > NUCLEUS_TOLERANCE) return `kept ${pick.kept} ranks, the CPU ${r.kept}`;
    tally.edge++;
  }
  if (Math.abs(pick.keptMass - r.keptMass) > 2e-5 * r.keptMass) return `kept mass ${pick.keptMass}, the CPU ${r.keptMass}`;
  if (cpu === pick.token) return '';
  const rc = r.rank.get(cpu)!;
  const boundary = r.cum[Math.min(rg, rc)]! / r.keptMass;
  if (Math.abs(rg - rc) === 1 && Math.abs(pick.u - boundary) < DRAW_TOLERANCE) {
    tally.boundary++;
    return '';
  }
  return `GPU ${pick.token} (rank ${rg}), CPU ${cpu} (rank ${rc}), u ${pick.u}, boundary ${boundary}`;
}

function randomLogits(kind: number, n: number, g: SeededRandom): Float32Array {
  const scale = 0.5 + 4 * g.uniform();
  return Float32Array.from({ length: n }, (_, i) => {
    switch (kind % 6) {
      case 0:
        return g.normal() * scale;
      case 1:
        return Math.floor(g.uniform() * 4); // many equal probabilities: ranks by id
      case 2:
        return i > 0 && g.uniform() < 0.5 ? -Infinity : g.normal() * scale; // masked as split/user.ts does
      case 3:
        return i === n >> 1 ? 12 : g.normal(); // one dominant token
      case 4:
        return 0.5; // all equal
      default:
        return g.normal() * 25; // most probabilities underflow
    }
  });
}

/** χ² critical value at p = 0.001 (Wilson–Hilferty). */
function chiSquareCritical(df: number): number {
  const h = 2 / (9 * df);
  return df * Math.pow(1 - h + 3.09 * Math.sqrt(h), 3);
}

describe('the counter-hash draw', () => {
  it('is a pure function of (seed, index), a multiple of 2^-24 in [0, 1), and evenly spread', () => {
    const values = Array.from({ length: 20000 }, (_, i) => counterUniform(7, i));
    expect(values.map((_, i) => counterUniform(7, i))).toEqual(values);
    for (const u of values) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(Number.isInteger(u * 2 ** 24)).toBe(true);
    }
    expect(counterUniform(8, 3)).not.toBe(counterUniform(7, 3));
    const bins = new Array<number>(16).fill(0);
    for (const u of values) bins[Math.floor(u * 16)]!++;
    const expected = values.length / 16;
    const chi = bins.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(chiSquareCritical(15));
    // Neighbouring indices are not correlated (lag-1 correlation near 0).
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    let cov = 0;
    let vari = 0;
    for (let i = 0; i + 1 < values.length; i++) cov += (values[i]! - mean) * (values[i + 1]! - mean);
    for (const v of values) vari += (v - mean) ** 2;
    expect(Math.abs(cov / vari)).toBeLessThan(0.03);
  });
});

describe('GpuSampler', () => {
  /** GPU picks over random logits and options against the CPU rule; returns the tolerated events. */
  async function comparePicks(threads: SampleThreads, cases: number, seed: number) {
    const g = new SeededRandom(seed);
    const tally = { boundary: 0, edge: 0 };
    let edgeCases = 0;
    let picks = 0;
    let same = 0;
    const failures: string[] = [];
    const samplers = new Map<number, GpuSampler>();
    try {
      for (let c = 0; c < cases; c++) {
        const n = [1, 2, 5, 33, 384, 1000, 4099][c % 7]!;
        const logits = randomLogits(c, n, g);
        const d: DrawParams = {
          temperature: 0.05 * Math.pow(60, g.uniform()),
          topP: g.uniform() < 0.25 ? 1 : 1 - 0.99 * g.uniform(),
          topK: g.uniform() < 0.5 ? 0 : Math.floor(g.uniform() * (n + 3)),
          seed: (g.uniform() * 2 ** 32) >>> 0,
        };
        let sampler = samplers.get(n);
        if (!sampler) samplers.set(n, (sampler = await GpuSampler.create(device, n, threads)));
        const first = c * 100;
        const edgesBefore = tally.edge;
        for (const [i, pick] of (await sampler.sampleLogits(logits, d, first, 8)).entries()) {
          picks++;
          const why = judge(logits, d, pick, first + i, tally);
          if (why) failures.push(`case ${c} V=${n} ${JSON.stringify(d)} index ${first + i}: ${why}`);
          else if (sampleToken(logits, d, { uniform: () => pick.u }) === pick.token) same++;
        }
        if (tally.edge > edgesBefore) edgeCases++;
      }
    } finally {
      for (const s of samplers.values()) s.destroy();
    }
    expect(failures).toEqual([]);
    expect(picks).toBe(cases * 8);
    // Tolerated flips are rare events, not the rule.
    expect(same).toBe(picks - tally.boundary);
    expect(tally.boundary).toBeLessThanOrEqual(Math.ceil(cases / 20));
    // Kept sets that differ by ranks holding < NUCLEUS_TOLERANCE of the mass (top-p 1 at small
    // temperatures, where f32 underflows the tail): a minority of cases.
    expect(edgeCases).toBeLessThanOrEqual(Math.ceil(cases / 6));
    return { ...tally, edgeCases };
  }

  it('picks as the float64 CPU sampler does on the same logits and u, up to the documented tolerance (64 invocations)', async () => {
    await comparePicks(64, 84, 31);
  });

  it('the 256-invocation kernel (GPUs) picks the same way', async () => {
    await comparePicks(256, 14, 47);
  });

  it('picks as the CPU does at the Qwen2.5 vocabulary (151,936; top-p 0.9 and 1)', async () => {
    const g = new SeededRandom(151936);
    const logits = Float32Array.from({ length: 151936 }, () => g.normal() * 3);
    const sampler = await GpuSampler.create(device, logits.length);
    const tally = { boundary: 0, edge: 0 };
    try {
      for (const d of [
        { temperature: 0.7, topP: 0.9, topK: 0, seed: 3 },
        { temperature: 1, topP: 1, topK: 0, seed: 4 },
      ])
        for (const [i, pick] of (await sampler.sampleLogits(logits, d, 0, 4)).entries()) expect(judge(logits, d, pick, i, tally)).toBe('');
    } finally {
      sampler.destroy();
    }
    expect(tally.boundary).toBe(0);
  });

  it('draws with the CPU distribution on fixed logits (χ², 1,024 draws each, with and without top-k)', async () => {
    const logits = Float32Array.from([2.1, 0.3, 1.7, -1, 2.1, 0.9, -3, 1.2, 0.05, 1.6]);
    const sampler = await GpuSampler.create(device, logits.length);
    try {
      for (const d of [
        { temperature: 1.3, topP: 0.9, topK: 0, seed: 11 },
        { temperature: 0.8, topP: 1, topK: 4, seed: 12 },
      ]) {
        const r = ranks(logits, d);
        const picks = await sampler.sampleLogits(logits, d, 0, 1024);
        const counts = new Map<number, number>();
        for (const p of picks) counts.set(p.token, (counts.get(p.token) ?? 0) + 1);
        for (const token of counts.keys()) expect(r.rank.get(token)!).toBeLessThan(r.kept);
        let chi = 0;
        for (let k = 0; k < r.kept; k++) {
          const expected = (picks.length * r.probs[r.order[k]!]!) / r.keptMass;
          chi += ((counts.get(r.order[k]!) ?? 0) - expected) ** 2 / expected;
        }
        expect(r.kept).toBeGreaterThan(2);
        expect(chi).toBeLessThan(chiSquareCritical(r.kept - 1));
      }
    } finally {
      sampler.destroy();
    }
  });

  it('refuses parameters it cannot run', async () => {
    const sampler = await GpuSampler.create(device, 4);
    try {
      const logits = new Float32Array(4);
      const d = { temperature: 1, topP: 1, topK: 0, seed: 1 };
      const refusal = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e) => e instanceof LlmError && e.code === 'BAD_ARGUMENT');
      await refusal(sampler.sampleLogits(logits, { ...d, temperature: 0 }, 0, 1));
      await refusal(sampler.sampleLogits(logits, { ...d, topP: 0 }, 0, 1));
      await refusal(sampler.sampleLogits(logits, { ...d, topK: -1 }, 0, 1));
      await refusal(sampler.sampleLogits(new Float32Array(5), d, 0, 1));
      await refusal(sampler.sampleLogits(logits, d, -1, 1));
    } finally {
      sampler.destroy();
    }
  });
});

describe('sampled decoding in GPU-resident blocks', () => {
  async function pair(seed: number) {
    const source = new MemorySource(makeTestModel({ dtype: 'F32', tieEmbeddings: false, seed }).files, 'test model', 4096);
    const { model: ref, manifest } = await loadReference(source);
    const gpu = await GpuModel.load(source, { device, maxTokens: 32 });
    const prompt = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
    return { ref, gpu, prompt };
  }

  it("generate's per-step path draws counterUniform(seed, i) for output token i", async () => {
    const { ref, prompt } = await pair(2);
    const o = { temperature: 1.1, topP: 0.95, topK: 40, seed: 9 };
    const run = await generate(ref, prompt, { ...o, maxTokens: 12, eosTokenIds: [] });
    const cache = ref.createKvCache();
    let input: number[] = prompt;
    const manual: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { logits } = await ref.forward({ tokens: input, kvCache: cache });
      const id = sampleToken(logits!, o, { uniform: () => counterUniform(o.seed, i) });
      manual.push(id);
      input = [id];
    }
    expect(run.tokens).toEqual(manual);
    expect(new Set(manual).size).toBeGreaterThan(3);
  });

  it('blocks of 8 and 5 give the per-step CPU sampler’s tokens (32, three seeds); an EOS inside a block leaves the same cache', async () => {
    const { gpu, prompt } = await pair(2);
    try {
      for (const seed of [1, 2, 3]) {
        const o = { temperature: 0.9, topP: 0.9, topK: 0, seed, maxTokens: 32, eosTokenIds: [] as number[] };
        const perStep = await generate(gpu, prompt, { ...o, pickOnModel: false });
        const blocked = await generate(gpu, prompt, o);
        const odd = await generate(gpu, prompt, { ...o, greedyBlock: 5 });
        expect(perStep.tokens).toHaveLength(32);
        expect(new Set(perStep.tokens).size).toBeGreaterThan(8);
        await expectSameUpToBoundary(gpu, prompt, o, perStep.tokens, blocked.tokens);
        await expectSameUpToBoundary(gpu, prompt, o, perStep.tokens, odd.tokens);
      }
      const o = { temperature: 0.9, topP: 0.9, topK: 0, seed: 4, maxTokens: 32, eosTokenIds: [] as number[] };
      const free = await generate(gpu, prompt, o);
      const k = free.tokens.findIndex((t, i) => i > 8 && i % 8 !== 0 && !free.tokens.slice(0, i).includes(t));
      expect(k).toBeGreaterThan(8);
      const caches = { blocked: gpu.createKvCache(), perStep: gpu.createKvCache() };
      const stop = { ...o, eosTokenIds: [free.tokens[k]!] };
      const blocked = await generate(gpu, prompt, { ...stop, kvCache: caches.blocked });
      const perStep = await generate(gpu, prompt, { ...stop, kvCache: caches.perStep, pickOnModel: false });
      expect(blocked.stoppedBy).toBe('eos');
      expect(blocked.tokens).toEqual(free.tokens.slice(0, k));
      expect(perStep.tokens).toEqual(blocked.tokens);
      expect(caches.blocked.length).toBe(prompt.length + k);
      expect(caches.perStep.length).toBe(caches.blocked.length);
    } finally {
      gpu.destroy();
    }
  });

  it('greedy and sampled blocks continue each other on one cache; the block API refuses bad draws', async () => {
    const { gpu } = await pair(3);
    try {
      const cache = gpu.createKvCache({ maxContext: 16 });
      const draw = { temperature: 1, topP: 1, topK: 0, seed: 5 };
      const a = await gpu.sampledSteps({ kvCache: cache, steps: 3, token: 1, draw, firstIndex: 0 });
      const b = await gpu.greedySteps({ kvCache: cache, steps: 2 });
      const c = await gpu.sampledSteps({ kvCache: cache, steps: 2, draw, firstIndex: 5 });
      expect([a.pos0, b.pos0, c.pos0, cache.length]).toEqual([0, 3, 5, 7]);
      // The same tokens fed one at a time give the same logits, so the CPU rule picks the same ids.
      const check = gpu.createKvCache({ maxContext: 16 });
      const ids = [...a.ids, ...b.ids, ...c.ids];
      let input = 1;
      for (const [i, id] of ids.entries()) {
        const { logits } = await gpu.forward({ tokens: [input], kvCache: check });
        const want = i >= 3 && i < 5 ? logits!.indexOf(Math.max(...logits!)) : sampleToken(logits!, draw, { uniform: () => counterUniform(draw.seed, i) });
        expect(id).toBe(want);
        input = id;
      }
      const refusal = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e) => e instanceof LlmError && e.code === 'BAD_ARGUMENT');
      await refusal(gpu.sampledSteps({ kvCache: cache, steps: 1, draw: { ...draw, temperature: 0 }, firstIndex: 0 }));
      await refusal(gpu.sampledSteps({ kvCache: cache, steps: 1, draw: { ...draw, topP: 1.5 }, firstIndex: 0 }));
      await refusal(gpu.sampledSteps({ kvCache: cache, steps: 1, draw, firstIndex: -2 }));
    } finally {
      gpu.destroy();
    }
  });
});

/**
 * The blocked run equals the per-step run, or first differs at a token where the per-step logits
 * put u within DRAW_TOLERANCE of a rank boundary (then the rest of the runs legitimately diverge).
 */
async function expectSameUpToBoundary(gpu: GpuModel, prompt: number[], d: DrawParams, want: number[], got: number[]) {
  const first = want.findIndex((t, i) => got[i] !== t);
  if (first < 0) return expect(got).toEqual(want);
  const cache = gpu.createKvCache();
  const { logits } = await gpu.forward({ tokens: [...prompt, ...want.slice(0, first)], kvCache: cache });
  gpu.destroyKvCache(cache);
  const tally = { boundary: 0, edge: 0 };
  const r = ranks(logits!, d);
  const pick = { token: got[first]!, kept: r.kept, keptMass: r.keptMass, u: counterUniform(d.seed, first) };
  expect(judge(Float32Array.from(logits!), d, pick, first, tally)).toBe('');
  expect(tally.boundary).toBe(1);
}
