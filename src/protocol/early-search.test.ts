/**
 * Honest hosts search from the moment the seed is fixed, not from sprintStart (docs/protocol.md
 * §6): anyone holding every reveal can compute the seed and search from then on, and only the
 * proof deadline is enforced, so waiting would hand such a host a head start. A reveal that turns
 * up in the Sprint's sync round changes the seed: the early search is dropped and none of its
 * finds is claimed.
 */
import { describe, expect, it } from 'vitest';
import { schedule } from './genesis.ts';
import type { ProtocolEngine, SearchRequest, SearchResult } from './interfaces.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation, extraHost } from './sim/simulate.ts';

interface Mark {
  readonly host: number;
  readonly epoch: number;
  readonly phase: string;
  readonly at: number;
}

async function run(withLateReveal: boolean) {
  const marks: Mark[] = [];
  const logs: string[] = [];
  let now = () => 0;
  const sim = await createSimulation({
    honest: 3,
    cheaters: [],
    epochs: 2,
    seed: 5,
    modelled: { crypto: modelledCrypto() },
    onEvent: (host, e) => {
      if (e.type === 'phase') marks.push({ host, epoch: e.epoch, phase: e.phase, at: now() });
    },
    log: (line) => logs.push(line),
  });
  now = () => sim.loop.now();
  const s0 = schedule(sim.genesis, 0);
  const k = sim.genesis.skewMs;
  if (withLateReveal) {
    // Host 2's gossip is lost during the reveal window: the others get its reveal only from the
    // sync round at sprintStart (host 2 itself receives every reveal).
    sim.net.muteGossip(sim.hosts[2]!.key, s0.commitEnd, s0.revealEnd + k);
  }
  const reports = [await sim.runEpoch(0), await sim.runEpoch(1)];
  return { sim, marks, logs, reports };
}

const at = (marks: Mark[], host: number, epoch: number, phase: string) => marks.find((m) => m.host === host && m.epoch === epoch && m.phase === phase)?.at;

describe('early search (MODELLED engine and signatures)', () => {
  it('starts as soon as every commitment is opened, well before the Sprint, and keeps that search', async () => {
    const { sim, marks, logs, reports } = await run(false);
    for (const r of reports) {
      expect(r.agreed && r.certified).toBe(true);
      for (const h of r.hosts) {
        expect(h.flags).toEqual(['accepted']);
        expect(h.accepted).toBe(h.claimed);
      }
    }
    for (const e of [0, 1]) {
      const s = schedule(sim.genesis, e);
      for (let host = 0; host < 3; host++) {
        const early = at(marks, host, e, 'early');
        expect(early, `host ${host} epoch ${e}`).toBeDefined();
        expect(early!).toBeGreaterThanOrEqual(s.commitEnd + 2 * sim.genesis.skewMs);
        // Every reveal arrived early in the reveal window: not waiting for its end.
        expect(early!).toBeLessThan(s.revealEnd);
        expect(at(marks, host, e, 'sprint')).toBeGreaterThanOrEqual(s.sprintStart);
      }
    }
    expect(logs.filter((l) => l.includes('restarting the search'))).toEqual([]);
  });

  it('drops the early search when the sync round brings a reveal it lacked, and claims nothing from it', async () => {
    const { sim, marks, logs, reports } = await run(true);
    const s0 = schedule(sim.genesis, 0);
    for (const host of [0, 1]) {
      // Host 2's reveal is missing, so they start only once the reveal window (and its skew) is over.
      const early = at(marks, host, 0, 'early');
      expect(early, `host ${host}`).toBeGreaterThanOrEqual(s0.revealEnd + sim.genesis.skewMs);
      expect(early!).toBeLessThan(s0.sprintStart);
    }
    expect(at(marks, 2, 0, 'early')).toBeLessThan(s0.revealEnd); // it holds every reveal
    const restarted = logs.filter((l) => l.includes('epoch 0: the synced seed differs from the early one'));
    expect(restarted.map((l) => l.split(' ')[0]).sort()).toEqual(['honest-0', 'honest-1']);
    // The final seed includes host 2's reveal: nobody is withheld, and every claim re-evaluates on it.
    for (const r of reports) {
      expect(r.agreed && r.certified).toBe(true);
      for (const h of r.hosts) {
        expect(h.flags).toEqual(['accepted']);
        expect(h.claimed).toBeGreaterThan(0);
        expect(h.accepted).toBe(h.claimed);
      }
    }
  });
});

describe('an early search that fails', () => {
  it('is run again at sprintStart, from its stored progress', async () => {
    const crypto = modelledCrypto();
    const sim = await createSimulation({ honest: 2, cheaters: [], epochs: 1, seed: 6, modelled: { crypto } });
    const publicKey = new Uint8Array(32).fill(11);
    const calls: number[] = [];
    const engine: ProtocolEngine = {
      search: (req: SearchRequest): Promise<SearchResult> => {
        calls.push(sim.loop.now());
        if (calls.length === 1) return Promise.reject(new Error('device lost while building'));
        return Promise.resolve({ found: [...req.found], tried: 10, nextNonce: req.startNonce + 10 });
      },
      evaluate: () => Promise.reject(new Error('this host does not validate')),
    };
    const logs: string[] = [];
    const host = extraHost(sim, crypto, { publicKey, engine, log: (line) => logs.push(line) });
    await host.start();
    const s = schedule(sim.genesis, 0);
    await sim.loop.runUntil(s.sprintEnd);
    expect(calls.length).toBe(2);
    expect(calls[0]!).toBeLessThan(s.sprintStart); // the early one
    expect(calls[1]!).toBeGreaterThanOrEqual(s.sprintStart);
    expect(logs.some((l) => l.includes('the early search failed, searching again'))).toBe(true);
    host.stop();
    await host.idle();
  }, 60_000);
});
