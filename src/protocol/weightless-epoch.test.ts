/**
 * A network-wide outage through an epoch's validation window and close (docs/protocol.md §9
 * "Carry-over", §11 "Late vote"): every weighted host goes down after publishing its proof and comes
 * back early in the next epoch. Nobody validated, so every claim of the epoch is `unvalidated`.
 *
 * Before, that left every weight at 0: nobody could validate or certify again, and only a new
 * genesis restarted the network (seen by hand: `npm start` with both demo hosts paused for 70 s).
 * And nobody voted at the missed close, so the epoch stayed uncertified for good: a host joining
 * once its messages were pruned could not catch up past it.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { walletVerifier } from './crypto.ts';
import { schedule } from './genesis.ts';
import { isCertified } from './host.ts';
import { Flag, hostOf } from './ledger.ts';
import { followerAt } from './sim/follower.ts';
import { createSimulation, simIdentity } from './sim/simulate.ts';

const verifier = walletVerifier();

describe('an epoch nobody validated (network-wide outage)', () => {
  it('carries the weights over, is certified by late votes, and the network goes on; a later joiner catches up past it', async () => {
    const lines: string[] = [];
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 41, verifier });
    const g = probe.genesis;
    const [s2, s3, s7] = [schedule(g, 2), schedule(g, 3), schedule(g, 7)];
    const outages = [0, 1, 2].map((host) => ({ host, from: s2.proofEnd + 20 - g.startMs, to: s3.start + 50 - g.startMs }));
    const sim = await createSimulation({ honest: 3, epochs: 8, seed: 41, verifier, outages, log: (l) => lines.push(l) });
    for (let e = 0; e < 2; e++) expect((await sim.runEpoch(e)).certified, `epoch ${e}`).toBe(true);
    await sim.runEpoch(2);
    const before = sim.hosts.map((h) => hostOf(h.host.view(1)!.state, h.publicKey)!.weight);
    expect(before.every((w) => w > 0)).toBe(true);
    for (let e = 3; e < 7; e++) {
      const r = await sim.runEpoch(e);
      expect(r.certified, `epoch ${e}`).toBe(true); // without the carry-over: never again
      expect(
        r.hosts.map((h) => h.flags.join()),
        `epoch ${e}`,
      ).toEqual(['accepted', 'accepted', 'accepted']);
    }

    // Epoch 2: the same state everywhere, every weight carried over, and certified by the votes sent after the restart.
    const v2 = sim.hosts.map((h) => h.host.view(2)!);
    expect(new Set(v2.map((v) => v.hash)).size).toBe(1);
    expect(isCertified(v2[0]!.certificate), v2[0]!.certificate).toBe(true); // without the late vote: pending for good
    sim.hosts.forEach((h, i) => {
      const r = hostOf(v2[0]!.state, h.publicKey)!;
      expect(r.flags).toBe(Flag.carried | Flag.unvalidated);
      expect([r.votingWeight, r.weight, r.reward]).toEqual([before[i], before[i], 0]);
    });
    expect(lines.filter((l) => l.includes('epoch 2: missed its close and no peer serves its certificate: voting late'))).toHaveLength(3);

    // A follower that joins in epoch 7, when no host keeps epoch 2's messages any more, reaches the certified chain.
    const fid = simIdentity(33, g.networkId);
    const started = followerAt(sim, s7.start + 10, fid.publicKey, sim.net.join(hex(fid.publicKey)), lines);
    await sim.runEpoch(7);
    for (let e = 0; e <= 6; e++) {
      const v = started.host!.view(e);
      expect(v?.hash, `epoch ${e}`).toBe(sim.hosts[0]!.host.view(e)!.hash);
      expect(isCertified(v!.certificate), `epoch ${e}: ${v!.certificate}`).toBe(true);
    }
    started.host!.stop();
  }, 120_000);

  it("carries the weights over when verdicts count but no claim is accepted: one host stayed, and could not fetch the others' lists", async () => {
    // Host 0 stays up and judges the others' claims `unavailable` (rejected); its own claim has nobody to
    // validate it (unvalidated). Before, that too left no weight at all.
    const lines: string[] = [];
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 42, verifier });
    const g = probe.genesis;
    const [s2, s3] = [schedule(g, 2), schedule(g, 3)];
    const outages = [1, 2].map((host) => ({ host, from: s2.proofEnd + 20 - g.startMs, to: s3.start + 50 - g.startMs }));
    const sim = await createSimulation({ honest: 3, epochs: 6, seed: 42, verifier, outages, log: (l) => lines.push(l) });
    for (let e = 0; e < 3; e++) await sim.runEpoch(e);
    const state2 = sim.hosts[0]!.host.view(2)!.state;
    const flags = sim.hosts.map((h) => hostOf(state2, h.publicKey)!.flags);
    expect(flags).toEqual([Flag.unvalidated | Flag.carried, Flag.rejected | Flag.carried, Flag.rejected | Flag.carried]);
    for (const h of sim.hosts) expect(hostOf(state2, h.publicKey)!.weight).toBe(hostOf(state2, h.publicKey)!.votingWeight);
    for (let e = 3; e < 6; e++) {
      const r = await sim.runEpoch(e);
      expect(r.certified, `epoch ${e}`).toBe(true);
      expect(
        r.hosts.map((h) => h.flags.join()),
        `epoch ${e}`,
      ).toEqual(['accepted', 'accepted', 'accepted']);
    }
  }, 120_000);

  it('the only weighted host keeps its weight while the newcomer it validated earns, and from then on both hold weight', async () => {
    // Host 1 is away until epoch 2, so host 0 holds all the weight and nobody can check its claims.
    // Before, once host 1 earned, host 0's unchecked claim left it with 0, and the two handed all the
    // weight back and forth every epoch (each checked only by the other while the other held weight).
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 43, verifier });
    const g = probe.genesis;
    const outages = [{ host: 1, from: 1, to: schedule(g, 2).start + 50 - g.startMs }];
    const sim = await createSimulation({ honest: 2, epochs: 7, seed: 43, verifier, outages });
    for (let e = 0; e < 2; e++) await sim.runEpoch(e);
    const e2 = await sim.runEpoch(2);
    expect(e2.hosts.map((h) => h.flags.join())).toEqual(['unvalidated,carried', 'accepted']);
    expect(e2.hosts[0]!.weight).toBe(1); // its voting weight, kept
    for (let e = 3; e < 7; e++) {
      const r = await sim.runEpoch(e);
      expect(r.certified, `epoch ${e}`).toBe(true);
      expect(
        r.hosts.map((h) => h.flags.join()),
        `epoch ${e}`,
      ).toEqual(['accepted', 'accepted']); // before: accepted and unvalidated, in turn
      expect(r.hosts.every((h) => h.weight > 0)).toBe(true);
    }
  }, 120_000);
});
