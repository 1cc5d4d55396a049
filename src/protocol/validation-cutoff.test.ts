/**
 * A validator whose engine is slow publishes the verdicts it finished before validationEnd instead
 * of none: with one message per epoch and none accepted after the window, it used to judge every
 * selected proof and then find the window closed, losing its quick `unavailable` verdicts with the
 * rest (and leaving those to decide the claims alone).
 */
import { describe, expect, it } from 'vitest';
import { schedule } from './genesis.ts';
import { hex } from './bytes.ts';
import type { ProtocolEngine } from './interfaces.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation, extraHost } from './sim/simulate.ts';

describe('validation cut-off', () => {
  it('a slow validator publishes the proofs it judged before the cutoff', async () => {
    const crypto = modelledCrypto();
    const sim = await createSimulation({ honest: 3, cheaters: [], epochs: 1, seed: 8, modelled: { crypto } });
    const s = schedule(sim.genesis, 0);
    const reference = sim.hosts[0]!.engine;
    // Each proof's re-run takes a third of the validation window: three cannot fit, two can. (A
    // sample is re-run in a few calls, §8 "Stopping early": the first call of each proof takes it.)
    const delay = Math.floor(sim.genesis.timings.validationMs / 3);
    let lastKey = '';
    const engine: ProtocolEngine = {
      search: (req) => Promise.resolve({ found: [], tried: 0, nextNonce: req.startNonce }), // no proof of its own
      evaluate: (req) => {
        const first = hex(req.publicKey) !== lastKey;
        lastKey = hex(req.publicKey);
        return new Promise((resolve) => sim.loop.setTimer(sim.loop.now() + (first ? delay : 0), () => resolve(reference.evaluate(req))));
      },
    };
    const publicKey = new Uint8Array(32).fill(21);
    const logs: string[] = [];
    const slow = extraHost(sim, crypto, { publicKey, engine, log: (line) => logs.push(line) });
    await slow.start();
    await sim.loop.runUntil(s.close);
    const mine = sim.hosts[0]!.host.pool.messages(0).find((m) => m.kind === 'validation' && hex(m.sender) === hex(publicKey));
    expect(mine, logs.join('\n')).toBeDefined();
    if (mine?.kind !== 'validation') throw new Error('unreachable');
    expect(mine.entries.length).toBe(2);
    expect(mine.entries.every((x) => x.verdict === 0 && x.checked > 0)).toBe(true);
    expect(mine.timestampMs).toBeLessThanOrEqual(s.validationEnd);
    expect(logs.some((l) => l.includes('validation cut off with 2 of 3 proofs judged'))).toBe(true);
    slow.stop();
    await slow.idle();
  }, 60_000);
});
