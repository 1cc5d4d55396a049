/**
 * A weightless newcomer that starts late in an epoch, or whose first Sprint sync reaches nobody,
 * must still end up on the network's states and seed (docs/protocol.md §6 "Seed confirmed during
 * the Sprint").
 *
 * Seen by hand (`npm start -- --hosts 1`): a page that started contributing in epoch 1's Sprint,
 * its node just restarted under the new wallet's key, had its 2 512 finds all `wrongSeed`
 * (credited 0): its Sprint's sync round reached nobody (the second test, which fails before
 * confirmSeed). The first test checks the other way a newcomer could start on a wrong seed, and
 * passed before: starting after the epoch's votes went out.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { schedule } from './genesis.ts';
import { ProtocolHost } from './host.ts';
import type { Transport } from './interfaces.ts';
import { Flag, hostOf } from './ledger.ts';
import { modelledCrypto, OracleEngine } from './sim/modelled.ts';
import { RequestFailed } from './sim/network.ts';
import { createSimulation, modelledIdentity, type Simulation } from './sim/simulate.ts';
import { MemoryStore } from './store.ts';
import { decodeRequest } from './sync.ts';

const forEpoch = (req: Uint8Array, e: number): boolean => {
  const r = decodeRequest(req);
  return 'epoch' in r && r.epoch === e;
};

async function network(seed: number) {
  const crypto = modelledCrypto();
  const lines: string[] = [];
  const sim = await createSimulation({ honest: 3, epochs: 3, seed, modelled: { crypto }, log: (l) => lines.push(l) });
  return { crypto, lines, sim };
}

function newcomerOn(sim: Simulation, crypto: ReturnType<typeof modelledCrypto>, lines: string[], transport?: (base: Transport) => Transport) {
  const id = modelledIdentity(7);
  const base = sim.net.join(hex(id.publicKey));
  const host = new ProtocolHost({
    genesis: sim.genesis,
    signer: crypto.signer(id.publicKey),
    verifier: crypto.verifier,
    engine: new OracleEngine(64, 1 / sim.genesis.hitRateDenominator),
    transport: transport ? transport(base) : base,
    clock: sim.loop,
    store: new MemoryStore(),
    random: (n) => new Uint8Array(n).fill(7),
    log: (l) => lines.push(`newcomer ${l}`),
  });
  return { host, publicKey: id.publicKey };
}

/** The newcomer's record in host 0's state of epoch e: accepted, not `wrongSeed`. */
function expectAccepted(sim: Simulation, publicKey: Uint8Array, e: number) {
  const record = hostOf(sim.hosts[0]!.host.view(e)!.state, publicKey)!;
  expect(record.flags & Flag.wrongSeed, 'wrongSeed').toBe(0);
  expect(record.flags & Flag.accepted, 'accepted').toBe(Flag.accepted);
  expect(record.accepted).toBeGreaterThan(0);
}

describe('a newcomer on the network’s seed', () => {
  it('started in the last moments of an epoch, after its votes: it takes the certified state of that epoch, then searches on the network’s seed', async () => {
    const { crypto, lines, sim } = await network(92);
    const s0 = schedule(sim.genesis, 0);
    await sim.loop.runUntil(s0.end - 300);
    const n = newcomerOn(sim, crypto, lines);
    await n.host.start();
    await sim.runEpoch(0);
    const r1 = await sim.runEpoch(1);
    // It derives epoch 0 from its nearly empty pool; the certify step's sync brings the votes, and the
    // outvoted rule (§11) the certified state, so its epoch-1 seed is the network's.
    expect(lines.some((l) => l.startsWith('newcomer') && l.includes('epoch 0: peers voted another state than ours'))).toBe(true);
    expect(n.host.view(0)!.hash).toBe(sim.hosts[0]!.host.view(0)!.hash);
    expect(r1.agreed && r1.certified).toBe(true);
    expect(n.host.view(1)!.hash).toBe(sim.hosts[0]!.host.view(1)!.hash);
    expectAccepted(sim, n.publicKey, 1);
    n.host.stop();
  }, 60_000);

  it('whose Sprint sync reached nobody: it syncs again during the Sprint and restarts its search on the seed that changed', async () => {
    const { crypto, lines, sim } = await network(91);
    const s1 = schedule(sim.genesis, 1);
    await sim.runEpoch(0);
    // It starts in epoch 1's commit phase (catching up epoch 0 works), hears no gossip until the
    // Sprint began, and its requests for epoch 1 fail until 600 ms into the Sprint.
    const deaf = () => sim.loop.now() < s1.sprintStart + 50;
    const n = newcomerOn(sim, crypto, lines, (base) => ({
      publish: (t, b) => base.publish(t, b),
      subscribe: (h) => base.subscribe((t, b, from) => (deaf() ? undefined : h(t, b, from))),
      handle: (h) => base.handle(h),
      peers: () => base.peers(),
      request: (peer, req, o) =>
        forEpoch(req, 1) && sim.loop.now() < s1.sprintStart + 600 ? Promise.reject(new RequestFailed('still connecting')) : base.request(peer, req, o),
    }));
    sim.loop.setTimer(s1.start + 10, () => void n.host.start());
    const r1 = await sim.runEpoch(1);
    expect(r1.agreed && r1.certified).toBe(true);
    expect(n.host.view(0)!.hash).toBe(sim.hosts[0]!.host.view(0)!.hash);
    // Before: it searched the whole Sprint on the seed of its unsynced pool, and was `wrongSeed`.
    expect(
      lines.some((l) => l.startsWith('newcomer') && l.includes('epoch 1: the seed synced during the Sprint differs from ours, restarting the search')),
    ).toBe(true);
    expectAccepted(sim, n.publicKey, 1);
    n.host.stop();
  }, 60_000);
});
