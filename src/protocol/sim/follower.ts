/**
 * A host that signs, searches and validates nothing, as src/app/ledger-follower.ts runs one: what a
 * page or CLI follower does when it joins a network, for simulated catch-up tests.
 */
import type { Signer } from '../crypto.ts';
import { ProtocolHost } from '../host.ts';
import type { ProtocolEngine, Transport } from '../interfaces.ts';
import { MemoryStore } from '../store.ts';
import type { Simulation } from './simulate.ts';

/** Signs nothing, as the ledger follower's signer: `ready` is false, so the host stamps no message. */
export const refusingSigner = (publicKey: Uint8Array): Signer => ({
  publicKey,
  get binding(): never {
    throw new Error('a follower has no key binding');
  },
  ready: async () => false,
  sign: async () => Promise.reject(new Error('a follower signs nothing')),
  lottery: async () => Promise.reject(new Error('a follower signs nothing')),
});

export const refusingEngine: ProtocolEngine = {
  search: async () => Promise.reject(new Error('a follower searches nothing')),
  evaluate: async () => Promise.reject(new Error('a follower validates nothing')),
};

/** A follower host started at `at` on the simulation's clock (`host` is set then). */
export function followerAt(sim: Simulation, at: number, publicKey: Uint8Array, transport: Transport, lines: string[]): { host?: ProtocolHost } {
  const started: { host?: ProtocolHost } = {};
  sim.loop.setTimer(at, () => {
    started.host = new ProtocolHost({
      genesis: sim.genesis,
      signer: refusingSigner(publicKey),
      verifier: sim.verifier,
      engine: refusingEngine,
      transport,
      clock: sim.loop,
      store: new MemoryStore(),
      random: (n) => new Uint8Array(n),
      log: (l) => lines.push(`follower ${l}`),
    });
    void started.host.start();
  });
  return started;
}
