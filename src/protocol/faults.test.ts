import { describe, expect, it } from 'vitest';
import { walletSigner, walletVerifier } from './crypto.ts';
import { schedule } from './genesis.ts';
import { encodeNonceList, nonceListRoot } from './claims.ts';
import { hostOf, Flag } from './ledger.ts';
import { signMessage } from './messages.ts';
import { createSimulation, simIdentity, simulate } from './sim/simulate.ts';
import { KEEP_EPOCHS } from './host.ts';

const verifier = walletVerifier();

describe('faults', () => {
  it('a host that goes offline mid-epoch restarts from its store and recovers the certified state by sync', async () => {
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 5, verifier });
    const g = probe.genesis;
    const s1 = schedule(g, 1);
    const s2 = schedule(g, 2);
    const outage = { host: 3, from: s1.sprintEnd + 50 - g.startMs, to: s2.start + 100 - g.startMs };
    const sim = await createSimulation({ honest: 4, epochs: 3, seed: 5, verifier, outages: [outage] });
    const e0 = await sim.runEpoch(0);
    const e1 = await sim.runEpoch(1);
    const e2 = await sim.runEpoch(2);
    const away = sim.hosts[3]!;
    // Epoch 1: the others certified it without the absent host, which had derived nothing…
    expect(e1.certified).toBe(true);
    expect(e1.hosts[3]!.stateHash).toBeNull();
    expect(new Set(e1.hosts.slice(0, 3).map((h) => h.stateHash)).size).toBe(1);
    // …and after restarting it caught up to the same, certified state (epoch 0 from its own store).
    expect(away.host.view(1)!.hash).toBe(e1.hosts[0]!.stateHash);
    expect(['certified', 'adopted']).toContain(away.host.view(1)!.certificate);
    expect(away.host.view(0)!.hash).toBe(e0.hosts[0]!.stateHash);
    // It published its proof before leaving, but was gone when validators fetched its list.
    expect(e1.hosts[3]!.flags).toEqual(['rejected']);
    expect(e1.hosts[3]!.fraud).toBe(false);
    expect(e1.hosts[3]!.weight).toBe(0);
    // Epoch 2: everyone agrees and it is accepted again (no weight to vote with, so it was checked by all).
    expect(e2.agreed).toBe(true);
    expect(e2.certified).toBe(true);
    expect(e2.hosts[3]!.flags).toEqual(['accepted']);
    expect(e2.hosts.filter((h) => h.kind === 'honest').every((h) => !h.fraud)).toBe(true);
  }, 60_000);

  it('a reload in the middle of a Sprint keeps the nonces found so far and does not search them again', async () => {
    const probe = await createSimulation({ honest: 1, epochs: 0, seed: 6, verifier });
    const g = probe.genesis;
    const s1 = schedule(g, 1);
    const outage = { host: 0, from: s1.sprintStart + 100 - g.startMs, to: s1.sprintStart + 400 - g.startMs };
    const r = await simulate({ honest: 3, epochs: 2, seed: 6, verifier, outages: [outage] });
    const e1 = r.epochs[1]!.hosts[0]!;
    expect(e1.evaluated).toBe(64); // not 128: the restarted search resumed at the stored next nonce
    expect(e1.claimed).toBeGreaterThan(0);
    expect(e1.flags).toEqual(['accepted']);
    expect(r.epochs[1]!.agreed).toBe(true);
  }, 60_000);

  it('ignores late, replayed and other-epoch messages; a backdated late proof gets no validation and no weight', async () => {
    const sim = await createSimulation({ honest: 3, epochs: 2, seed: 8, verifier });
    const g = sim.genesis;
    await sim.runEpoch(0);
    const a = sim.hosts[0]!.host;
    const old = a.pool.proofs(0)[0]!;
    const s1 = schedule(g, 1);

    // Replay of an epoch-0 proof during epoch 1, by gossip and by sync: a no-op (held already, not even verified again).
    await sim.loop.runUntil(s1.commitEnd - 10);
    const before = a.pool.messages(0).length;
    const rejected = { ...a.counters.rejected };
    expect(a.receive(old.bytes, 'gossip')).toBeNull();
    expect(a.receive(old.bytes, 'sync')).toBeNull();
    expect(a.counters.rejected).toEqual(rejected);
    expect(a.pool.messages(0).length).toBe(before);

    // An epoch-0 proof it never held, stamped in epoch 0's proof window, arriving in epoch 1: refused.
    const late = simIdentity(9, g.networkId);
    const signer = walletSigner({ ed25519Seed: late.seed, publicKey: late.publicKey, blsSecretKey: late.bls, keyBinding: late.binding });
    const stale = await signMessage(signer, g, { ...old, sender: late.publicKey, timestampMs: schedule(g, 0).sprintEnd });
    expect(a.receive(stale.bytes, 'gossip')).toBeNull();
    expect(a.counters.rejected.CLOCK_SKEW).toBe(1);
    expect(a.receive(stale.bytes, 'sync')).toBeNull();
    expect(a.counters.rejected.EPOCH_CLOSED).toBe(1);
    expect(a.pool.messages(0).length).toBe(before);

    // Signed for another epoch than its timestamp's: refused.
    const wrongEpoch = await signMessage(signer, g, {
      kind: 'commit',
      epoch: 2,
      sender: late.publicKey,
      timestampMs: sim.loop.now(),
      commitment: new Uint8Array(32),
    });
    expect(a.receive(wrongEpoch.bytes, 'gossip')).toBeNull();
    expect(a.counters.rejected.OUT_OF_WINDOW).toBe(1);

    // A proof published after the proof deadline: refused.
    await sim.loop.runUntil(s1.proofEnd + g.skewMs + 50);
    const seed = sim.hosts[0]!.host.pool.proofs(1)[0]!.seed;
    const list = encodeNonceList([{ nonce: 5, distance: 0.5 }]);
    const body = { kind: 'proof' as const, epoch: 1, sender: late.publicKey, seed, count: 1, root: nonceListRoot(list), noncesTried: 8 };
    const tooLate = await signMessage(signer, g, { ...body, timestampMs: sim.loop.now() });
    expect(a.receive(tooLate.bytes, 'gossip')).toBeNull();
    expect(a.counters.rejected.OUT_OF_WINDOW).toBe(2);

    // Backdated into the window but arriving now: refused as gossip (clock skew); through sync it is a
    // valid member of the set, but no validator received it in time, so it is never validated.
    const backdated = await signMessage(signer, g, { ...body, timestampMs: s1.sprintEnd });
    expect(a.receive(backdated.bytes, 'gossip')).toBeNull();
    expect(a.counters.rejected.CLOCK_SKEW).toBe(2);
    for (const h of sim.hosts) expect(h.host.receive(backdated.bytes, 'sync')).not.toBeNull();
    const e1 = await sim.runEpoch(1);
    expect(e1.agreed).toBe(true);
    expect(e1.certified).toBe(true);
    const rec = hostOf(sim.hosts[0]!.host.view(1)!.state, late.publicKey)!;
    expect(rec.flags).toBe(Flag.unvalidated);
    expect(rec.weight).toBe(0);
    expect(e1.hosts.every((h) => h.flags.join() === 'accepted')).toBe(true);
  }, 60_000);

  it('a long-running host keeps every state but only the last epochs of messages, lists, secrets and progress', async () => {
    const sim = await createSimulation({ honest: 3, epochs: 6, seed: 9, verifier, noncesPerSprint: 24 });
    for (let e = 0; e < 6; e++) expect((await sim.runEpoch(e)).certified).toBe(true);
    const store = sim.hosts[0]!.store;
    const oldest = 5 - KEEP_EPOCHS;
    for (const prefix of ['msg/', 'list/', 'own/', 'secret/', 'progress/']) {
      const epochs = new Set((await store.keys(prefix)).map((k) => Number(k.slice(prefix.length, prefix.length + 12))));
      expect(epochs.size, prefix).toBeGreaterThan(0);
      expect(Math.min(...epochs), prefix).toBeGreaterThanOrEqual(oldest);
    }
    expect((await store.keys('state/')).length).toBe(6);
    expect((await store.keys('cert/')).length).toBe(6);
    expect(sim.hosts[0]!.host.pool.epochs()[0]).toBeGreaterThanOrEqual(oldest);
  }, 60_000);
});
