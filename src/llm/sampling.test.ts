import { describe, expect, it } from 'vitest';
import { sampleToken, sampleTokenBySort, SeededRandom, type SamplingOptions } from './sampling.ts';

/**
 * The oracle: sampleTokenBySort is the sampler as it was before the bucketed rewrite (the rule's
 * plain statement, a full sort), kept in sampling.ts as the benchmarks' baseline; the rewrite must
 * match it token for token and leave the generator in the same state.
 */
const oracle = sampleTokenBySort;

type LogitsKind = 'normal' | 'wide' | 'uniform' | 'ties' | 'masked' | 'equal' | 'dominant' | 'near-equal' | 'underflow';
const KINDS: LogitsKind[] = ['normal', 'wide', 'uniform', 'ties', 'masked', 'equal', 'dominant', 'near-equal', 'underflow'];

function makeLogits(kind: LogitsKind, n: number, rng: SeededRandom, f32: boolean): ArrayLike<number> {
  const scale = 0.5 + 4 * rng.uniform();
  const values = Array.from({ length: n }, (_, i): number => {
    switch (kind) {
      case 'normal':
        return rng.normal() * scale;
      case 'wide':
        return rng.normal() * 40;
      case 'uniform':
        return (rng.uniform() - 0.5) * 20 * scale;
      case 'ties':
        return Math.floor(rng.uniform() * 4) - 2;
      case 'masked':
        // As split/user.ts masks: some ids at −Infinity, at least one left.
        return i > 0 && rng.uniform() < 0.4 ? -Infinity : rng.normal() * scale;
      case 'equal':
        return 1.25;
      case 'dominant':
        return i === Math.floor(n / 3) ? 30 : rng.normal();
      case 'near-equal':
        // Probabilities a few ulps apart, and equal ones: ranks decided by the low bits and by id.
        return 2 + Math.floor(rng.uniform() * 6) * 1e-13;
      case 'underflow':
        // Most probabilities round to 0 at small temperatures; the walk must cross the zero bucket.
        return rng.uniform() < 0.05 ? rng.normal() : -1e4 - rng.uniform() * 10;
    }
  });
  return f32 ? Float32Array.from(values) : values;
}

function randomOptions(n: number, rng: SeededRandom): SamplingOptions {
  const temperature = 0.05 * Math.pow(60, rng.uniform()); // 0.05 … 3, log-uniform
  const p = rng.uniform();
  const topP = p < 0.2 ? 1 : p < 0.25 ? 1e-9 : 1 - rng.uniform(); // (0, 1], with 1 often
  const k = rng.uniform();
  const topK = k < 0.4 ? 0 : k < 0.5 ? n + Math.floor(rng.uniform() * 6) : Math.floor(rng.uniform() * (n + 6));
  return { temperature, topP, topK };
}

/** Both samplers on the same logits and seed: the same token, and the generator left in the same state. */
function expectSame(logits: ArrayLike<number>, o: SamplingOptions, seed: number, what: string): number {
  const a = new SeededRandom(seed);
  const b = new SeededRandom(seed);
  const want = oracle(logits, o, a);
  const got = sampleToken(logits, o, b);
  if (got !== want) expect.fail(`${what} ${JSON.stringify(o)} seed ${seed}: sampleToken gave ${got}, the sort gives ${want}`);
  expect(b.uniform()).toBe(a.uniform());
  return got;
}

describe('sampleToken (bucketed ranks)', () => {
  it('picks the same token as the full sort over thousands of random logits, options and seeds', () => {
    const rng = new SeededRandom(20261123);
    const picks = new Set<number>();
    let cases = 0;
    for (let c = 0; c < 3000; c++) {
      const kind = KINDS[c % KINDS.length]!;
      const n = 1 + Math.floor(Math.pow(5000, rng.uniform()));
      const logits = makeLogits(kind, n, rng, rng.uniform() < 0.5);
      for (let s = 0; s < 3; s++) {
        picks.add(expectSame(logits, randomOptions(n, rng), (rng.uniform() * 2 ** 32) >>> 0, `${kind} V=${n}`));
        cases++;
      }
    }
    expect(cases).toBe(9000);
    // The cases reach deep into the vocabularies, not only the first few ids.
    expect(picks.size).toBeGreaterThan(1000);
  });

  it('matches at small vocabularies exhaustively over top-k and a grid of top-p', () => {
    const rng = new SeededRandom(5);
    for (let n = 1; n <= 12; n++) {
      for (const kind of KINDS) {
        const logits = makeLogits(kind, n, rng, false);
        for (let topK = 0; topK <= n + 1; topK++)
          for (const topP of [1e-6, 0.1, 0.5, 0.9, 0.999, 1])
            for (const temperature of [0.05, 1, 3]) expectSame(logits, { temperature, topP, topK }, n * 1000 + topK, `${kind} V=${n}`);
      }
    }
  });

  it('matches at the Qwen2.5 vocabulary (151,936)', () => {
    const rng = new SeededRandom(151936);
    const logits = makeLogits('normal', 151936, rng, true);
    const masked = Float32Array.from(logits, (v, i) => (i % 3 === 0 ? -Infinity : v));
    for (const [o, seed] of [
      [{ temperature: 0.7, topP: 0.9 }, 1],
      [{ temperature: 0.7, topP: 1 }, 2],
      [{ temperature: 1.5, topP: 0.95, topK: 50 }, 3],
      [{ temperature: 3, topP: 0.999 }, 4],
    ] as const) {
      expectSame(logits, o, seed, 'normal V=151936');
      expectSame(masked, o, seed, 'masked V=151936');
    }
  });

  it('matches where probabilities are NaN: NaN or +Infinity logits, or every logit −Infinity', () => {
    const rng = new SeededRandom(9);
    for (const n of [1, 2, 7, 40]) {
      const base = makeLogits('normal', n, rng, false) as number[];
      const variants = [base.map((v, i) => (i === n - 1 ? NaN : v)), base.map((v, i) => (i % 2 === 0 ? Infinity : v)), base.map(() => -Infinity)];
      for (const logits of variants)
        for (const topK of [0, 1, n]) for (const topP of [0.5, 1]) expectSame(logits, { temperature: 0.8, topP, topK }, n + topK, `V=${n}`);
    }
  });

  it('is greedy at temperature 0 and rejects an empty vocabulary like the sort', () => {
    const logits = [0.5, 2, 2, -1];
    expect(sampleToken(logits, { temperature: 0 }, new SeededRandom(1))).toBe(1);
    expect(() => sampleToken([], { temperature: 1 }, new SeededRandom(1))).toThrow(/no logits/);
    expect(() => sampleTokenBySort([], { temperature: 1 }, new SeededRandom(1))).toThrow(/no logits/);
  });

  it('gives the same picks when called with a smaller vocabulary after a larger one (reused buffers)', () => {
    const rng = new SeededRandom(77);
    const big = makeLogits('normal', 4000, rng, false);
    const small = makeLogits('ties', 30, rng, false);
    for (let s = 0; s < 20; s++) {
      expectSame(big, { temperature: 1, topP: 0.95 }, s, 'big');
      expectSame(small, { temperature: 1, topP: 0.95 }, s, 'small');
    }
  });
});
