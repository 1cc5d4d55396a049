/**
 * enginePerSeed: a search aborted while its seed's engine is still being built returns at once,
 * so a host dropping an early search on a replaced seed is not held up by a build that can take
 * minutes on a CPU adapter; the build is destroyed when the next seed's engine is built.
 */
import { describe, expect, it } from 'vitest';
import { getConfig } from '../sprint/config.ts';
import type { SprintOptions, SprintResult } from '../gpu/engine-types.ts';
import type { SearchRequest } from '../protocol/interfaces.ts';
import { enginePerSeed, type EngineLike } from './engines.ts';

const config = getConfig('tiny');
const request = (seed: number, signal?: AbortSignal): SearchRequest => ({
  config,
  seed: new Uint8Array(32).fill(seed),
  publicKey: new Uint8Array(32).fill(1),
  hitRate: 1 / 8,
  startNonce: 40,
  found: [{ nonce: 3, distance: 0.5 }],
  deadline: Date.now() + 60_000,
  signal,
});

function fakeEngine(destroyed: number[], seed: number): EngineLike {
  return {
    runSprint: (o: SprintOptions): Promise<SprintResult> =>
      Promise.resolve({ found: [...(o.found ?? [])], noncesTried: 8, nextNonce: (o.startNonce ?? 0) + 8 } as unknown as SprintResult),
    evaluateNonces: () => Promise.resolve(new Float32Array(0)),
    destroy: () => destroyed.push(seed),
  };
}

describe('enginePerSeed', () => {
  it('returns at once when the search is aborted during the build, and destroys that build once the next seed builds', async () => {
    const destroyed: number[] = [];
    let finishFirst: (e: EngineLike) => void = () => {};
    const builds: number[] = [];
    const engine = enginePerSeed((_, seed) => {
      builds.push(seed[0]!);
      return seed[0] === 1 ? new Promise<EngineLike>((resolve) => (finishFirst = resolve)) : Promise.resolve(fakeEngine(destroyed, seed[0]!));
    });
    const ctl = new AbortController();
    const first = engine.search(request(1, ctl.signal));
    ctl.abort();
    // Resolves although the build of seed 1 never finished: nothing tried, the finds passed in kept.
    await expect(first).resolves.toEqual({ found: [{ nonce: 3, distance: 0.5 }], tried: 0, nextNonce: 40 });

    const second = await engine.search(request(2));
    expect(second.tried).toBe(8);
    expect(builds).toEqual([1, 2]);
    finishFirst(fakeEngine(destroyed, 1));
    await new Promise((r) => setTimeout(r, 0));
    expect(destroyed).toEqual([1]); // the abandoned build, once it finished
  });
});
