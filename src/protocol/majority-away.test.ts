/**
 * The host holding most of the weight goes away in the middle of an epoch and comes back after its
 * peers would have pruned that epoch's messages (docs/protocol.md §11 "Late vote", §13).
 *
 * Seen by hand (`npm start`, a page that earned more weight than both demo hosts together, closed
 * for ten epochs): the hosts could not certify the epoch the page left in (their votes held less
 * than half of its weight), went on certifying the later ones on their pending state, and pruned
 * its messages after KEEP_EPOCHS. The page came back, derived that epoch from the little it had
 * kept (no proofs, no verdicts: carry-over), and from then on kept its weight on a fork of its own:
 * every later certificate failed against its weights, the hosts' proofs had the wrong seed, and
 * its screen said "your weight for the next epoch is 5934" while the network's was 0.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import type { Signer } from './crypto.ts';
import type { EventLoop } from './sim/loop.ts';
import { schedule } from './genesis.ts';
import { KEEP_EPOCHS, isCertified } from './host.ts';
import { hostOf } from './ledger.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { followerAt } from './sim/follower.ts';
import { createSimulation, modelledIdentity } from './sim/simulate.ts';

/**
 * A browser wallet's signer, locked in [from, to): `ready` waits for the unlock until `until`, and
 * `canSign` says whether it is unlocked.
 */
function lockedBetween(loop: EventLoop, from: number, to: number): (s: Signer) => Signer {
  const locked = () => loop.now() >= from && loop.now() < to;
  return (s) => ({
    ...s,
    canSign: () => !locked(),
    ready: (_what, until) =>
      new Promise<boolean>((resolve) => {
        if (!locked()) return resolve(true);
        loop.setTimer(Math.min(until, to), () => resolve(!locked()));
      }),
  });
}

describe('the majority of the weight away across an epoch close, back after KEEP_EPOCHS', () => {
  it('comes back to the same states: it derives the epoch it left from the messages its peers kept, votes late and certifies it', async () => {
    const lines: string[] = [];
    const modelled = { crypto: modelledCrypto() };
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 51, modelled });
    const g = probe.genesis;
    const back = KEEP_EPOCHS + 3; // epoch 6: epoch 0's messages would be pruned
    // Host 2 holds 10 of 16 genesis weight; it leaves after its reveal, before its proof.
    const outages = [{ host: 2, from: schedule(g, 0).revealEnd + 20 - g.startMs, to: schedule(g, back).start + 50 - g.startMs }];
    const sim = await createSimulation({ honest: 3, epochs: back + 3, seed: 51, modelled, initialWeights: [3, 3, 10], outages, log: (l) => lines.push(l) });
    // A host that comes back is a new ProtocolHost on the same store: look it up each time.
    const at = (i: number) => sim.hosts[i]!.host;
    const a = () => at(0);

    await sim.runEpoch(0);
    // 6 of 16 cannot certify; the two go on on their pending state, where the absent host has no weight.
    expect(a().view(0)!.certificate).toBe('pending');
    expect(hostOf(a().view(0)!.state, sim.hosts[2]!.publicKey)?.weight ?? 0).toBe(0);
    for (let e = 1; e < back; e++) expect((await sim.runEpoch(e)).certified, `epoch ${e}`).toBe(true);
    expect(a().view(0)!.certificate).toBe('pending');

    for (let e = back; e < back + 3; e++) await sim.runEpoch(e);
    // Epoch 0: derived alike everywhere, and certified by the returning host's late vote.
    expect(lines.filter((l) => l.includes('epoch 0: missed its close and no peer serves its certificate: voting late'))).toHaveLength(1);
    for (const h of [at(0), at(1), at(2)]) {
      expect(h.view(0)?.hash).toBe(a().view(0)!.hash);
      expect(isCertified(h.view(0)!.certificate), h.view(0)!.certificate).toBe(true); // before: pending for good
    }
    // Every later epoch: the same certified state on the returning host as on the others.
    for (let e = 1; e < back + 3; e++) {
      expect(at(2).view(e)?.hash, `epoch ${e}`).toBe(a().view(e)!.hash);
      expect(isCertified(at(2).view(e)!.certificate), `epoch ${e}`).toBe(true);
    }
    // And it takes part again: its proof of the epoch after its return is accepted.
    const last = hostOf(a().view(back + 2)!.state, sim.hosts[2]!.publicKey)!;
    expect(last.flags & 1).toBe(1);
    expect(last.weight).toBeGreaterThan(0);
  }, 120_000);

  it('while it stays away, a host that joins later (and signs nothing, as a locked page or a follower) derives that epoch alike and follows the certified states after it', async () => {
    const lines: string[] = [];
    const modelled = { crypto: modelledCrypto() };
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 52, modelled });
    const g = probe.genesis;
    const joins = KEEP_EPOCHS + 3;
    const outages = [{ host: 2, from: schedule(g, 0).revealEnd + 20 - g.startMs, to: schedule(g, 100).start - g.startMs }];
    const sim = await createSimulation({ honest: 3, epochs: joins + 2, seed: 52, modelled, initialWeights: [3, 3, 10], outages, log: (l) => lines.push(l) });
    const fid = modelledIdentity(9);
    const started = followerAt(sim, schedule(g, joins).start + 10, fid.publicKey, sim.net.join(hex(fid.publicKey)), lines);
    for (let e = 0; e < joins + 2; e++) await sim.runEpoch(e);
    const host0 = sim.hosts[0]!.host;
    expect(host0.view(0)!.certificate).toBe('pending'); // nobody came back to certify it
    expect(started.host!.view(0)?.hash).toBe(host0.view(0)!.hash); // before: derived from an empty pool
    for (let e = 1; e < joins + 1; e++) {
      expect(started.host!.view(e)?.hash, `epoch ${e}`).toBe(host0.view(e)!.hash);
      expect(isCertified(started.host!.view(e)!.certificate), `epoch ${e}`).toBe(true);
    }
    started.host!.stop();
  }, 120_000);

  it('back with its wallet locked: the late vote the locked signer refused is sent after the unlock, across a reload', async () => {
    const lines: string[] = [];
    const modelled = { crypto: modelledCrypto() };
    const probe = await createSimulation({ honest: 3, epochs: 0, seed: 53, modelled });
    const g = probe.genesis;
    const back = KEEP_EPOCHS + 3;
    const outages = [{ host: 2, from: schedule(g, 0).revealEnd + 20 - g.startMs, to: schedule(g, 100).start - g.startMs }];
    const sim = await createSimulation({ honest: 3, epochs: back + 3, seed: 53, modelled, initialWeights: [3, 3, 10], outages, log: (l) => lines.push(l) });
    const away = sim.hosts[2]!;
    const unlockAt = schedule(g, back + 1).sprintStart;
    const locked = lockedBetween(sim.loop, -Infinity, unlockAt);
    const restart = () => {
      away.host.stop();
      away.host = away.make(undefined, locked);
      void away.host.start();
    };
    sim.loop.setTimer(schedule(g, back).start + 50, restart);
    // A reload while the vote is owed: what is owed comes back from the store.
    sim.loop.setTimer(schedule(g, back).certifyEnd, restart);
    for (let e = 0; e < back + 1; e++) await sim.runEpoch(e);
    expect(lines.some((l) => l.includes('epoch 0: vote waits for the signer'))).toBe(true);
    expect(sim.hosts[0]!.host.view(0)!.certificate).toBe('pending');

    for (let e = back + 1; e < back + 3; e++) await sim.runEpoch(e);
    // Before: nothing sent it, and epoch 0 stayed pending for every host.
    expect(lines.filter((l) => l.includes('epoch 0: owed vote sent for'))).toHaveLength(1);
    for (const h of sim.hosts) {
      expect(h.host.view(0)?.hash).toBe(sim.hosts[0]!.host.view(0)!.hash);
      expect(isCertified(h.host.view(0)!.certificate), h.name).toBe(true);
    }
    expect(await away.store.keys('owed/')).toEqual([]);
    const last = hostOf(sim.hosts[0]!.host.view(back + 2)!.state, away.publicKey)!;
    expect(last.flags & 1).toBe(1);
  }, 120_000);

  it('present but locked at a close: the vote the locked signer refused is sent after the unlock', async () => {
    const lines: string[] = [];
    const modelled = { crypto: modelledCrypto() };
    const sim = await createSimulation({ honest: 3, epochs: 4, seed: 54, modelled, initialWeights: [3, 3, 10], log: (l) => lines.push(l) });
    const g = sim.genesis;
    const heavy = sim.hosts[2]!;
    // Locked from epoch 0's validation window to epoch 1's Sprint: it misses only epoch 0's vote (W_0 is the genesis's).
    const lockedFrom = schedule(g, 0).validationEnd;
    const unlockAt = schedule(g, 1).sprintStart;
    sim.loop.setTimer(schedule(g, 0).start + 10, () => {
      heavy.host.stop();
      heavy.host = heavy.make(undefined, lockedBetween(sim.loop, lockedFrom, unlockAt));
      void heavy.host.start();
    });
    await sim.runEpoch(0);
    expect(lines.some((l) => l.includes('epoch 0: vote waits for the signer'))).toBe(true);
    expect(sim.hosts[0]!.host.view(0)!.certificate).toBe('pending'); // 6 of 16 voted
    for (let e = 1; e < 4; e++) await sim.runEpoch(e);
    // Before: epoch 0 stayed pending for good (the close's refused vote was never sent).
    expect(lines.filter((l) => l.includes('epoch 0: owed vote sent for'))).toHaveLength(1);
    for (const h of sim.hosts) expect(isCertified(h.host.view(0)!.certificate), h.name).toBe(true);
    for (let e = 1; e < 4; e++) expect(isCertified(sim.hosts[0]!.host.view(e)!.certificate), `epoch ${e}`).toBe(true);
    expect(sim.hosts.every((h) => h.host.view(3)!.hash === sim.hosts[0]!.host.view(3)!.hash)).toBe(true);
  }, 120_000);
});
