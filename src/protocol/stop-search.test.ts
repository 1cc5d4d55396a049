/**
 * A stopped host searches no more. Its search (early or not) used to run on to the Sprint's end,
 * writing progress to the store and emitting finds: beside a process started over the same store
 * (a restart), two searches then wrote one progress record, and one whose seed the new process no
 * longer searched on (an early search's) could overwrite the other's.
 */
import { describe, expect, it } from 'vitest';
import { schedule } from './genesis.ts';
import type { ProtocolEngine, SearchRequest, SearchResult } from './interfaces.ts';
import type { EventLoop } from './sim/loop.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation, extraHost } from './sim/simulate.ts';
import { epochKey, MemoryStore } from './store.ts';

/** Searches 10 nonces every 20 ms of virtual time until the deadline or the abort, finding none. */
class TickingEngine implements ProtocolEngine {
  readonly signals: AbortSignal[] = [];
  constructor(private readonly loop: EventLoop) {}
  search(req: SearchRequest): Promise<SearchResult> {
    if (req.signal) this.signals.push(req.signal);
    return new Promise((resolve) => {
      let next = req.startNonce;
      let tried = 0;
      const tick = () => {
        if (req.signal?.aborted || this.loop.now() >= req.deadline) return resolve({ found: [...req.found], tried, nextNonce: next });
        next += 10;
        tried += 10;
        req.onProgress?.({ newlyFound: [], nextNonce: next, tried });
        this.loop.setTimer(this.loop.now() + 20, tick);
      };
      tick();
    });
  }
  evaluate = async (): Promise<number[]> => Promise.reject(new Error('this host does not validate'));
}

describe('ProtocolHost.stop', () => {
  it('aborts the running search: no progress written, no finds emitted after it', async () => {
    const crypto = modelledCrypto();
    const sim = await createSimulation({ honest: 2, cheaters: [], epochs: 1, seed: 4, modelled: { crypto } });
    const publicKey = new Uint8Array(32).fill(9);
    const engine = new TickingEngine(sim.loop);
    const store = new MemoryStore();
    let found = 0;
    const host = extraHost(sim, crypto, { publicKey, engine, store, onEvent: (e) => void (e.type === 'found' && found++) });
    await host.start();
    const s = schedule(sim.genesis, 0);
    await sim.loop.runUntil(s.sprintStart + (s.sprintEnd - s.sprintStart) / 2);
    expect(found).toBeGreaterThan(0); // it searches
    expect(engine.signals.length).toBeGreaterThan(0);

    host.stop();
    await host.idle();
    const progress = await store.get(`progress/${epochKey(0)}`);
    const foundAtStop = found;
    await sim.loop.runUntil(s.sprintEnd + 1);

    expect(engine.signals.at(-1)!.aborted).toBe(true);
    expect(found).toBe(foundAtStop);
    expect(await store.get(`progress/${epochKey(0)}`)).toEqual(progress);
  }, 60_000);
});
