/**
 * A weighted host that restarts after its epoch's close (docs/protocol.md §11, §13): its store
 * holds only what reached it before it went down — here its own proof but none of the proofs and
 * validations that followed — so a vote on what it loaded would be for a state nobody else derives.
 * It must sync the epoch first, and vote nothing when that sync cannot complete in time.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { schedule } from './genesis.ts';
import { ProtocolHost } from './host.ts';
import type { Transport } from './interfaces.ts';
import { Flag, hostOf, type EpochState } from './ledger.ts';
import { decodeMessage } from './messages.ts';
import { createSimulation, simIdentity } from './sim/simulate.ts';
import { overrideTransport, RequestFailed } from './sim/network.ts';
import { epochKey } from './store.ts';

const verifier = walletVerifier();

/** Runs epochs 0 and 1 of four hosts; host 3 is down from just after its proof until `restartAt(s1)`. */
async function restartAfterClose(restartAt: (s: ReturnType<typeof schedule>) => number, reachable: boolean) {
  const lines: string[] = [];
  const sim = await createSimulation({ honest: 4, epochs: 2, seed: 31, verifier, log: (l) => lines.push(l) });
  const g = sim.genesis;
  const s1 = schedule(g, 1);
  const away = sim.hosts[3]!;
  expect((await sim.runEpoch(0)).certified).toBe(true);
  sim.loop.setTimer(s1.sprintEnd + 50, () => {
    away.host.stop();
    sim.net.setOnline(away.key, false);
  });
  const id = simIdentity(3, g.networkId);
  sim.loop.setTimer(restartAt(s1), () => {
    const base = sim.net.join(away.key);
    const transport: Transport = reachable
      ? base
      : overrideTransport(base, {
          request: async () => Promise.reject(new RequestFailed('unreachable')),
        });
    away.host = new ProtocolHost({
      genesis: g,
      signer: walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding }),
      verifier,
      engine: away.engine,
      transport,
      clock: sim.loop,
      store: away.store,
      random: (n) => new Uint8Array(n).fill(7),
      log: (l) => lines.push(`restarted ${l}`),
    });
    void away.host.start();
  });
  const e1 = await sim.runEpoch(1);
  const certified = sim.hosts[0]!.host.view(1)!;
  const stored = await away.store.get(`own/${epochKey(1)}/vote`);
  const vote = stored && decodeMessage(stored);
  const votesSeen = sim.hosts.slice(0, 3).flatMap((h) => h.host.pool.votes(1).filter((v) => hex(v.sender) === away.key));
  return { sim, e1, certified, vote, votesSeen, away, lines };
}

describe('restart after the close', () => {
  // Weighted before it left (accepted in epoch 0), so a vote of host 3 would count.
  for (const [phase, at] of [
    ['certify', (s: ReturnType<typeof schedule>) => s.close + 100],
    ['work', (s: ReturnType<typeof schedule>) => s.certifyEnd + 100],
  ] as const) {
    it(`in the ${phase} phase: syncs before it votes, and votes the certified hash`, async () => {
      const { sim, e1, certified, vote, votesSeen, away } = await restartAfterClose(at, true);
      expect(weightIn(sim.hosts[0]!.host.view(0)!.state, away.publicKey)).toBeGreaterThan(0);
      expect(certified.certificate).toBe('certified');
      expect(e1.certified).toBe(true);
      expect(away.host.view(1)!.hash).toBe(certified.hash);
      // Before the fix: a vote for the state derived from the loaded pool (no validations), another hash.
      expect(vote && vote.kind === 'vote' && hex(vote.stateHash)).toBe(certified.hash);
      for (const v of votesSeen) expect(hex(v.stateHash)).toBe(certified.hash);
    }, 60_000);
  }

  it('when no peer answers before the deadline it votes nothing; the others certify without it', async () => {
    const { e1, certified, vote, votesSeen, away, lines } = await restartAfterClose((s) => s.close + 100, false);
    expect(vote).toBeUndefined();
    expect(votesSeen).toEqual([]);
    expect(lines.some((l) => l.startsWith('restarted') && l.includes('epoch 1: not voting'))).toBe(true);
    expect(certified.certificate).toBe('certified');
    expect(e1.hosts.slice(0, 3).every((h) => h.stateHash === certified.hash && h.certificate === 'certified')).toBe(true);
    expect(away.host.view(1)?.hash).not.toBe(certified.hash); // what it derived from its partial pool, never voted for
  }, 60_000);
});

const weightIn = (state: EpochState, key: Uint8Array) => hostOf(state, key)?.weight ?? 0;

/**
 * Open-join epoch 0 of `hosts` hosts (weight 1 each); the last one is down from just after its proof
 * until after the close, then restarts over its store with working or failing requests.
 */
async function restartInEpoch0(hosts: number, reachable: boolean) {
  const lines: string[] = [];
  const sim = await createSimulation({ honest: hosts, epochs: 1, seed: 41, verifier, log: (l) => lines.push(l) });
  const s0 = schedule(sim.genesis, 0);
  const away = sim.hosts[hosts - 1]!;
  sim.loop.setTimer(s0.sprintEnd + 50, () => {
    away.host.stop();
    sim.net.setOnline(away.key, false);
  });
  sim.loop.setTimer(s0.close + 100, () => {
    away.host = away.make();
    if (!reachable) {
      const base = sim.net.join(away.key);
      const failing: Transport = overrideTransport(base, {
        request: async () => Promise.reject(new RequestFailed('unreachable')),
      });
      const id = simIdentity(hosts - 1, sim.genesis.networkId);
      away.host = new ProtocolHost({
        genesis: sim.genesis,
        signer: walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding }),
        verifier,
        engine: away.engine,
        transport: failing,
        clock: sim.loop,
        store: away.store,
        random: (n) => new Uint8Array(n).fill(7),
        log: (l) => lines.push(`restarted ${l}`),
      });
    }
    void away.host.start();
  });
  const e0 = await sim.runEpoch(0);
  const stored = await away.store.get(`own/${epochKey(0)}/vote`);
  return { e0, away, lines, vote: stored && decodeMessage(stored) };
}

describe('restart after the close, with weight enough to certify alone', () => {
  it('the only host of a network votes for its own derivation, with no peer to sync with, and certifies the epoch', async () => {
    const { e0, away, lines, vote } = await restartInEpoch0(1, true);
    const view = away.host.view(0)!;
    // Nobody else validates, so no verdict counts and its weight carries over (§9): the network goes on.
    expect(weightIn(view.state, away.publicKey)).toBe(1);
    expect(hostOf(view.state, away.publicKey)!.flags).toBe(Flag.carried | Flag.unvalidated);
    expect(view.state.hosts.find((h) => hex(h.publicKey) === away.key)?.votingWeight).toBe(1);
    // Before the fix: no peer can ever be reconciled, so it voted nothing and the epoch stayed pending.
    expect(vote && vote.kind === 'vote' && hex(vote.stateHash)).toBe(view.hash);
    expect(view.certificate).toBe('certified');
    expect(e0.certified).toBe(true);
    expect(lines.some((l) => l.includes('epoch 0: voting alone'))).toBe(true);
  }, 60_000);

  it('a host holding exactly half of the weight is not alone: unreachable peers, no vote', async () => {
    const { away, lines, vote } = await restartInEpoch0(2, false);
    expect(vote).toBeUndefined();
    expect(lines.some((l) => l.startsWith('restarted') && l.includes('epoch 0: not voting'))).toBe(true);
    expect(away.host.certificate(0)).toBeUndefined();
  }, 60_000);
});
