import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { at } from '../sprint/indexing.ts';
import { getGpu } from './gpu-node.ts';
import { GpuDevice } from './device.ts';
import { candidates } from './screen.ts';
import { PUBLIC_KEY, nodeEngine } from './test-support.ts';
import type { SprintEngine } from './transformer.ts';

// A high hit rate gives many appropriate nonces in a short tiny Sprint.
const HIT_RATE = 1 / 16;
const NONCES = 768;
let plain: SprintEngine;
let screened: SprintEngine;

beforeAll(async () => {
  plain = await nodeEngine({ batch: 64, screen: 'off' });
  screened = await nodeEngine({ batch: 64, screen: 'f16-emulated' });
});
afterAll(() => {
  plain?.destroy();
  screened?.destroy();
});

describe('capability: shader-f16', () => {
  it('is asked for when offered, and auto leaves the screen off where it is missing (SwiftShader), saying so', async () => {
    const dev = await GpuDevice.create(await getGpu());
    const adapter = await (await getGpu()).requestAdapter({ powerPreference: 'high-performance' });
    try {
      expect(dev.hasShaderF16).toBe(adapter?.features.has('shader-f16') ?? false);
    } finally {
      dev.destroy();
    }
    const auto = await nodeEngine({ batch: 8 });
    try {
      if (auto.device.hasShaderF16) expect(auto.screen.reason).toMatch(/projected/);
      else expect(auto.screen).toMatchObject({ mode: 'off', reason: 'the adapter does not offer shader-f16', variant: null, confirmCapacity: 0 });
    } finally {
      auto.destroy();
    }
    if (!auto.device.hasShaderF16) await expect(nodeEngine({ batch: 8, screen: 'f16' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('SprintEngine with the f16 screen (emulated f16 arithmetic on SwiftShader)', () => {
  it('finds only f32-confirmed nonces, loses only hits whose fingerprint flipped in f16, and confirms few', async () => {
    expect(screened.screen).toMatchObject({ mode: 'f16-emulated', confirmCapacity: 8 }); // batch / 8
    const nonces = Array.from({ length: NONCES }, (_, i) => i);
    const a = await plain.runSprint({ publicKey: PUBLIC_KEY, maxNonces: NONCES, hitRate: HIT_RATE });
    const b = await screened.runSprint({ publicKey: PUBLIC_KEY, maxNonces: NONCES, hitRate: HIT_RATE });
    expect(a.found.length).toBeGreaterThan(30);
    expect(b.noncesTried).toBe(NONCES);
    // Every find carries the f32 distance, bit for bit.
    const exact = await plain.evaluateNonces(PUBLIC_KEY, nonces);
    b.found.forEach((f) => expect(f.distance).toBe(exact[f.nonce]));
    const kept = new Set(b.found.map((f) => f.nonce));
    expect(a.found.filter((f) => kept.has(f.nonce))).toEqual(b.found);
    // A lost hit is one whose fingerprint the f16 pass got wrong (then its f16 distance is unrelated).
    const lost = a.found.filter((f) => !kept.has(f.nonce)).map((f) => f.nonce);
    const f32 = await plain.inspectNonces(PUBLIC_KEY, lost);
    const f16 = await screened.inspectScreen(PUBLIC_KEY, lost);
    lost.forEach((_, i) => expect([...f16.fingerprints.subarray(4 * i, 4 * i + 4)]).not.toEqual([...f32.fingerprints.subarray(4 * i, 4 * i + 4)]));
    expect(lost.length).toBeLessThan(a.found.length * 0.1);
    const { counts } = screened.screen;
    expect(counts.screened).toBe(NONCES);
    expect(counts.confirmed).toBeGreaterThanOrEqual(b.found.length);
    expect(counts.confirmed).toBeLessThan(NONCES * 0.15);
  });

  it('a fingerprint margin above the f16 logit error keeps every hit', async () => {
    const nonces = Array.from({ length: 512 }, (_, i) => 40_000 + i);
    const r = rTarget(CONFIGS.tiny, HIT_RATE);
    const truth = await plain.evaluateNonces(PUBLIC_KEY, nonces);
    const low = await screened.inspectScreen(PUBLIC_KEY, nonces);
    const picked = new Set(candidates(low, r, { distance: 2e-4, fingerprint: 0.01 }));
    const hits = nonces.map((_, i) => i).filter((i) => at(truth, i, 'distance') < r);
    expect(hits.length).toBeGreaterThan(15);
    hits.forEach((i) => expect(picked.has(i)).toBe(true));
  });

  it('keeps the f32 path for evaluateNonces: the distances a validator compares are never f16', async () => {
    const nonces = Array.from({ length: 64 }, (_, i) => 5000 + i);
    expect(await screened.evaluateNonces(PUBLIC_KEY, nonces)).toEqual(await plain.evaluateNonces(PUBLIC_KEY, nonces));
  });
});
