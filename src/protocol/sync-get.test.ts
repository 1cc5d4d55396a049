/**
 * A `get` answer stops at its byte budget (docs/protocol.md §12): the asker must ask the rest again
 * within the same sync round, not on its next one, and must stop asking a peer whose answers bring
 * nothing new, or after SYNC_GET_PASSES passes.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { SYNC_GET_PASSES } from './constants.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { ProtocolHost } from './host.ts';
import type { ProtocolEngine } from './interfaces.ts';
import { createSimulation, simIdentity, type Simulation } from './sim/simulate.ts';
import { MemoryStore } from './store.ts';
import { decodeMessages, decodeRequest, encodeMessages } from './sync.ts';

const verifier = walletVerifier();

const idle: ProtocolEngine = {
  search: async () => Promise.reject(new Error('this host does not search')),
  evaluate: async () => Promise.reject(new Error('this host does not validate')),
};

const PEER = 'ab'.repeat(32);

/** A host (identity 21) whose one peer answers `get` with `answer`, and every other op as `source` does. */
function asker(sim: Simulation, answer: (epoch: number, ids: string[]) => Uint8Array[], options: { syncGetPasses?: number } = {}) {
  const source = sim.hosts[0]!.host;
  const gets: { asked: number; given: number }[] = [];
  const id = simIdentity(21, sim.genesis.networkId);
  const host = new ProtocolHost({
    genesis: sim.genesis,
    signer: walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding }),
    verifier,
    engine: idle,
    transport: {
      publish: async () => {},
      subscribe: () => () => {},
      handle: () => {},
      peers: () => [PEER],
      request: async (_peer, bytes) => {
        const req = decodeRequest(bytes);
        if (req.op !== 'get') return source.serve(bytes, hex(id.publicKey));
        const out = encodeMessages(answer(req.epoch, req.ids));
        gets.push({ asked: req.ids.length, given: decodeMessages(out)!.length });
        return out;
      },
    },
    clock: sim.loop,
    store: new MemoryStore(),
    random: (n) => new Uint8Array(n),
    ...options,
  });
  return { host, gets, source };
}

const held = (source: ProtocolHost, epoch: number, ids: string[]) => ids.map((i) => source.pool.get(epoch, i)?.bytes).filter((b): b is Uint8Array => !!b);

describe('sync get answers cut at the byte budget', () => {
  it('asks the rest again at once: every message arrives in one sync round', async () => {
    const sim = await createSimulation({ honest: 3, epochs: 1, seed: 5, verifier });
    await sim.runEpoch(0);
    const budget = 1_000; // a few messages per answer (145 B each, validations more)
    const { host, gets, source } = asker(sim, (epoch, ids) => {
      const all = held(source, epoch, ids);
      return decodeMessages(encodeMessages(all, budget))!;
    });
    const total = source.pool.ids(0).length;
    expect(total).toBeGreaterThan(10);

    const added = await host.syncEpoch(0);

    expect(gets.filter((g) => g.given < g.asked).length).toBeGreaterThanOrEqual(3);
    expect(added).toBe(total);
    expect(host.pool.ids(0).sort()).toEqual(source.pool.ids(0).sort());
  }, 60_000);

  it('does not ask again a peer whose answer brought nothing new', async () => {
    const sim = await createSimulation({ honest: 3, epochs: 1, seed: 5, verifier });
    await sim.runEpoch(0);
    const first = sim.hosts[0]!.host.pool.ids(0)[0]!;
    // It answers every get with the same one message, whatever was asked.
    const { host, gets, source } = asker(sim, (epoch) => held(source, epoch, [first]));
    expect(await host.syncEpoch(0)).toBe(1);
    expect(gets.length).toBe(2); // the first pass brought one message, the second nothing: no third
    expect(host.pool.ids(0)).toEqual([first]);
  }, 60_000);

  it('asks a peer that brings one new message per answer at most syncGetPasses times', async () => {
    const sim = await createSimulation({ honest: 3, epochs: 1, seed: 5, verifier });
    await sim.runEpoch(0);
    const passes = 4;
    const { host, gets, source } = asker(sim, (epoch, ids) => held(source, epoch, ids.slice(0, 1)), { syncGetPasses: passes });
    expect(source.pool.ids(0).length).toBeGreaterThan(passes);
    expect(await host.syncEpoch(0)).toBe(passes);
    expect(gets.length).toBe(passes);
    expect(SYNC_GET_PASSES).toBeGreaterThan(passes);
  }, 60_000);
});
