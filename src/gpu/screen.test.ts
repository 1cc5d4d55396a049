import { describe, expect, it } from 'vitest';
import { at } from '../sprint/indexing.ts';
import { candidates, runScreened, type ScreenCounts, type ScreenMargins, type ScreenPass } from './screen.ts';

const MARGINS: ScreenMargins = { distance: 0.01, fingerprint: 0.01 };
const THRESHOLD = 1.3;

/** A deterministic stand-in for the f32 truth and an f16-like pass over it. */
function world(n: number, seed = 7) {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const truth = Float32Array.from({ length: n }, () => 1.25 + rnd() * 0.2); // about a third below THRESHOLD
  const fpMargin = Float32Array.from({ length: n }, () => rnd() * 0.5);
  // f16-like: d off by less than the margin, margins off too; a nonce whose fingerprint margin is
  // tiny "flipped a bit": its f16 distance is unrelated to the truth.
  const low: ScreenPass = {
    distances: truth.map((d, i) => (at(fpMargin, i, 'fingerprint margin') < 0.004 ? 1.9 - d / 10 : d + (rnd() - 0.5) * MARGINS.distance)),
    margins: fpMargin.map((m) => Math.max(0, m + (rnd() - 0.5) * 0.002)),
  };
  return { truth, low };
}

function harness(n: number, batch: number, capacity: number, low: ScreenPass, truth: Float32Array, margins = MARGINS, maxHeld?: number) {
  const counts: ScreenCounts = { screened: 0, confirmed: 0 };
  const reported: { nonces: number[]; distances: Float32Array }[] = [];
  const confirmedNonces: number[] = [];
  const confirmPasses: number[] = [];
  let cursor = 0;
  const run = runScreened({
    next: () => (cursor < n ? Array.from({ length: Math.min(batch, n - cursor) }, () => cursor++) : null),
    screen: async (nonces) => ({
      distances: Float32Array.from(nonces, (i) => at(low.distances, i, 'f16 distance')),
      margins: Float32Array.from(nonces, (i) => at(low.margins, i, 'f16 margin')),
    }),
    confirm: async (nonces) => {
      expect(nonces.length).toBeLessThanOrEqual(capacity);
      confirmedNonces.push(...nonces);
      confirmPasses.push(nonces.length);
      return Float32Array.from(nonces, (i) => at(truth, i, 'f32 distance'));
    },
    confirmCapacity: capacity,
    onBatch: (nonces, distances) => reported.push({ nonces: [...nonces], distances }),
    threshold: THRESHOLD,
    margins,
    counts,
    depth: 2,
    maxHeld,
  });
  return { run, counts, reported, confirmedNonces, confirmPasses };
}

describe('f16 screen: which nonces go to f32', () => {
  it('confirms near or below the threshold, small fingerprint margins and NaN; rules out the rest', () => {
    const pass: ScreenPass = {
      distances: Float32Array.from([1.2, 1.305, 1.311, 1.5, 1.5, NaN]),
      margins: Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.005, 0.5]),
    };
    expect(candidates(pass, THRESHOLD, MARGINS)).toEqual([0, 1, 4, 5]);
  });
});

describe('f16 screen: runScreened', () => {
  it('loses no appropriate nonce when the f16 error stays within the margins, and reports f32 distances only', async () => {
    const n = 5000;
    const { truth, low } = world(n);
    const h = harness(n, 64, 8, low, truth);
    await h.run;
    const flat = h.reported.flatMap((b) => b.nonces.map((nonce, k) => ({ nonce, d: at(b.distances, k, 'reported distance') })));
    expect(flat.map((r) => r.nonce)).toEqual(Array.from({ length: n }, (_, i) => i)); // every nonce, in order
    const hits = [...truth.keys()].filter((i) => at(truth, i, 'f32 distance') < THRESHOLD);
    expect(hits.length).toBeGreaterThan(100);
    expect(flat.filter((r) => r.d < THRESHOLD).map((r) => r.nonce)).toEqual(hits);
    // A reported finite distance is always the f32 one, and only confirmed nonces have one.
    const confirmed = new Set(h.confirmedNonces);
    for (const r of flat) {
      if (confirmed.has(r.nonce)) expect(r.d).toBe(truth[r.nonce]);
      else expect(r.d).toBe(Infinity);
    }
    expect(h.counts).toEqual({ screened: n, confirmed: h.confirmedNonces.length });
    // The flipped-fingerprint nonces (unrelated f16 distance) were all sent to f32 through their margin.
    const flipped = [...truth.keys()].filter((i) => at(low.margins, i, 'f16 margin') < 0.005);
    expect(flipped.length).toBeGreaterThan(0);
    flipped.forEach((i) => expect(confirmed.has(i)).toBe(true));
  });

  it('splits a batch with more candidates than one confirmation pass holds', async () => {
    const n = 40;
    const truth = new Float32Array(n).fill(1.2); // every nonce appropriate
    const low: ScreenPass = { distances: truth.slice(), margins: new Float32Array(n).fill(1) };
    const h = harness(n, 40, 16, low, truth);
    await h.run;
    expect(h.confirmedNonces).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(at(h.reported, 0, 'reported batch').distances.every((d) => d === Math.fround(1.2))).toBe(true);
  });

  it('without the fingerprint margin, a flipped fingerprint loses its hit: the margin is what keeps recall', async () => {
    const n = 5000;
    const { truth, low } = world(n);
    const h = harness(n, 64, 8, low, truth, { ...MARGINS, fingerprint: 0 });
    await h.run;
    const found = new Set(h.reported.flatMap((b) => b.nonces.filter((_, k) => at(b.distances, k, 'reported distance') < THRESHOLD)));
    const lost = [...truth.keys()].filter((i) => at(truth, i, 'f32 distance') < THRESHOLD && !found.has(i));
    expect(lost.length).toBeGreaterThan(0);
    lost.forEach((i) => expect(at(low.margins, i, 'f16 margin')).toBeLessThan(0.005));
  });

  it('pools the candidates of held batches into shared confirmation passes, keeping every hit and the batch order', async () => {
    const n = 4000;
    const { truth, low } = world(n, 11);
    // Small batches and a roomy confirmation pass: a third of each batch is a candidate, far from filling it.
    const single = harness(n, 10, 64, low, truth);
    const pooled = harness(n, 10, 64, low, truth, MARGINS, 8);
    await Promise.all([single.run, pooled.run]);
    for (const h of [single, pooled]) {
      expect(h.reported.flatMap((b) => b.nonces)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(h.counts.screened).toBe(n);
      expect(h.counts.confirmed).toBe(h.confirmedNonces.length);
    }
    expect([...pooled.confirmedNonces].sort((a, b) => a - b)).toEqual([...single.confirmedNonces].sort((a, b) => a - b));
    expect(pooled.confirmPasses.length).toBeLessThan(single.confirmPasses.length / 4);
    expect(Math.max(...pooled.confirmPasses)).toBeLessThanOrEqual(64);
    // The same f32 distances reach the caller, so the same hits.
    const distances = (h: typeof single) => h.reported.flatMap((b) => [...b.distances]);
    expect(distances(pooled)).toEqual(distances(single));
    expect(distances(pooled).filter((d) => d < THRESHOLD).length).toBeGreaterThan(n / 10);
  });

  it('stops at once on abort and reports no unfinished batch', async () => {
    const controller = new AbortController();
    let screened = 0;
    const reported: number[][] = [];
    const never = new Promise<ScreenPass>(() => {});
    const run = runScreened({
      next: () => [screened, screened + 1],
      screen: () => (++screened === 1 ? Promise.resolve({ distances: Float32Array.of(1.5, 1.5), margins: Float32Array.of(1, 1) }) : never),
      confirm: async () => new Float32Array(0),
      confirmCapacity: 4,
      onBatch: (nonces) => {
        reported.push([...nonces]);
        controller.abort();
      },
      threshold: THRESHOLD,
      margins: MARGINS,
      counts: { screened: 0, confirmed: 0 },
      signal: controller.signal,
      depth: 2,
    });
    await run;
    expect(reported).toEqual([[0, 1]]);
  });
});
