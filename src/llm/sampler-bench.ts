/**
 * `npx tsx src/llm/sampler-bench.ts`: the CPU sampler (sampleToken, ranks by bucketing) against the
 * whole-vocabulary sort it replaced (sampleTokenBySort), in the same process, on seeded normal logits
 * at SmolLM2's and Qwen2.5's vocabulary sizes; also reported under `sampler` by `npm run bench:llm`.
 */
import { sampleToken, sampleTokenBySort, SeededRandom, type SamplingOptions } from './sampling.ts';

export interface SamplerBenchRow {
  vocab: number;
  temperature: number;
  top_p: number;
  /** Mean ms per pick, best of the interleaved rounds. */
  old_ms: number;
  new_ms: number;
  /** old_ms / new_ms (> 1: the new sampler is faster). */
  ratio: number;
  /** Both gave the same token for every seed timed. */
  same_tokens: boolean;
}

export function benchSampler(
  vocabs: readonly number[] = [49152, 151936],
  options: SamplingOptions = { temperature: 0.7, topP: 0.9 },
  rounds = 3,
): SamplerBenchRow[] {
  return vocabs.map((vocab) => {
    const gen = new SeededRandom(vocab);
    // Logit spreads like a small LM's (a few units); the nucleus then holds a few hundred tokens.
    const logits = Float32Array.from({ length: vocab }, () => gen.normal() * 3);
    const picks: number[][] = [[], []];
    const best = [Infinity, Infinity];
    const samplers = [sampleTokenBySort, sampleToken];
    for (let round = 0; round < rounds; round++) {
      for (const [which, sample] of samplers.entries()) {
        const reps = which === 0 ? 4 : 20;
        const t0 = performance.now();
        for (let seed = 0; seed < reps; seed++) {
          const id = sample(logits, options, new SeededRandom(seed));
          if (round === 0 && seed < 4) picks[which]!.push(id);
        }
        best[which] = Math.min(best[which]!, (performance.now() - t0) / reps);
      }
    }
    return {
      vocab,
      temperature: options.temperature ?? 0,
      top_p: options.topP ?? 1,
      old_ms: best[0]!,
      new_ms: best[1]!,
      ratio: best[0]! / best[1]!,
      same_tokens: picks[0]!.join() === picks[1]!.join(),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = [...benchSampler(), ...benchSampler([151936], { temperature: 0.7, topP: 1 })];
  process.stdout.write(JSON.stringify({ sampler: rows, date: new Date().toISOString() }) + '\n');
}
