/**
 * Benching (docs/protocol.md §12, peer-choice.ts) must follow the peer's failures, not ours: a
 * request whose timeout our own deadline cut short (late in a sync round, or after a proof's host
 * kept a list fetch waiting until just before the fetch deadline) says nothing about the peer. If it
 * benched the peer, any host that can make us wait could push honest peers to the back of every
 * sync round for an epoch.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolHost } from './host.ts';
import type { ProtocolEngine } from './interfaces.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation } from './sim/simulate.ts';
import { MemoryStore } from './store.ts';
import { decodeRequest, NOT_FOUND } from './sync.ts';

const idle: ProtocolEngine = {
  search: async () => Promise.reject(new Error('this host does not search')),
  evaluate: async () => Promise.reject(new Error('this host does not validate')),
};

const PEERS = ['aa'.repeat(32), 'bb'.repeat(32)];
const LIMIT = 1_000;

/** A host with two peers and syncPeers 1; `silent` peers let every request run out its time. */
async function asker() {
  const crypto = modelledCrypto();
  const sim = await createSimulation({ honest: 1, cheaters: [], epochs: 1, seed: 1, modelled: { crypto } });
  const state = { silent: true, asked: [] as string[] };
  const host = new ProtocolHost({
    genesis: sim.genesis,
    signer: crypto.signer(new Uint8Array(32).fill(7)),
    verifier: crypto.verifier,
    engine: idle,
    transport: {
      publish: async () => {},
      subscribe: () => () => {},
      handle: () => {},
      peers: () => PEERS,
      request: (peer, bytes, options) => {
        if (decodeRequest(bytes).op === 'summary') state.asked.push(peer);
        if (!state.silent) return Promise.resolve(NOT_FOUND); // answered: holds nothing of the epoch
        return new Promise((_, reject) => sim.loop.setTimer(sim.loop.now() + (options?.timeoutMs ?? LIMIT), () => reject(new Error('timed out'))));
      },
    },
    clock: sim.loop,
    store: new MemoryStore(),
    random: (n) => new Uint8Array(n),
    syncPeers: 1,
    requestTimeoutMs: LIMIT,
  });
  /** One sync round of epoch 0 with `deadline` ms, the virtual clock run past it. */
  const round = async (deadline: number) => {
    const done = host.syncEpoch(0, sim.loop.now() + deadline);
    await sim.loop.runUntil(sim.loop.now() + deadline + LIMIT);
    await done;
    return state.asked.at(-1)!;
  };
  return { state, round };
}

describe('benching a peer after a failed request', () => {
  it('does not bench a peer whose request our own deadline cut short', async () => {
    const { state, round } = await asker();
    const first = await round(LIMIT / 10); // the peer had 100 ms of a 1 000 ms request timeout
    state.silent = false;
    expect(await round(LIMIT)).toBe(first); // still first in the rotation, not asked last
  }, 60_000);

  it('benches a peer that let a request with the whole timeout run out', async () => {
    const { state, round } = await asker();
    const first = await round(5 * LIMIT);
    state.silent = false;
    const second = await round(LIMIT);
    expect(PEERS).toContain(second);
    expect(second).not.toBe(first); // the silent one is asked last for an epoch
  }, 60_000);
});
