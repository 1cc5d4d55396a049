/**
 * A host whose state of an epoch was derived from a pool it could not sync, and that peers voted
 * otherwise, takes the certified state once a peer serves it (docs/protocol.md §11 "Outvoted").
 *
 * Seen by hand (`npm start`): a page that started in epoch 0's validation window, right after its
 * wallet was made (its node still connecting under the new key), derived epoch 0 of the open-join
 * network from an empty pool. The hosts' votes for the real state could not be weighed (in open-join
 * epoch 0 the weights are the certified state's own) and nothing marked its state wrong, so it kept
 * it: it searched on its own seed from then on, every proof `wrongSeed` for the hosts, its own
 * ledger `pending` with every weight 0, for as long as it ran.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { encodeCertificate } from './certificate.ts';
import { schedule } from './genesis.ts';
import { isCertified } from './host.ts';
import { encodeState, hostOf, stateHash } from './ledger.ts';
import { signMessage, type VoteMessage } from './messages.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation, joinLate, modelledIdentity } from './sim/simulate.ts';
import { decodeRequest, encodeStateResponse, NOT_FOUND } from './sync.ts';

describe('outvoted: a pending state that peers voted otherwise', () => {
  it('a host that derived open-join epoch 0 without syncing adopts the certified state, then the next ones, and takes part', async () => {
    const lines: string[] = [];
    const sim = await createSimulation({ honest: 3, epochs: 4, seed: 61, modelled: { crypto: modelledCrypto() }, log: (l) => lines.push(l) });
    const g = sim.genesis;
    const s0 = schedule(g, 0);
    const late = sim.hosts[2]!;
    // Away from the start: no commit of its own (with one, in open join it would hold all of W_0 as
    // it knows it and certify its own derivation alone).
    // It starts in epoch 0's validation window; its requests fail until epoch 0 has ended (gossip works).
    joinLate(sim, late, s0.proofEnd + 50, s0.end);
    await sim.runEpoch(0);
    const certified0 = sim.hosts[0]!.host.view(0)!;
    expect(isCertified(certified0.certificate)).toBe(true);
    expect(late.host.view(0)!.hash).not.toBe(certified0.hash); // derived from what gossip brought after it started
    expect(late.host.view(0)!.certificate).toBe('pending');
    // Its failed requests are counted as such, not as refused messages.
    expect(late.host.counters.requestsFailed).toBeGreaterThan(0);
    expect(late.host.counters.rejected.ERROR).toBeUndefined();

    for (let e = 1; e < 4; e++) await sim.runEpoch(e);
    expect(lines.some((l) => /epoch 0: peers voted another state than ours and [0-9a-f]{8} served it certified: adopted/.test(l))).toBe(true);
    for (let e = 0; e < 4; e++) {
      const v = late.host.view(e);
      expect(v?.hash, `epoch ${e}`).toBe(sim.hosts[0]!.host.view(e)!.hash); // before: its own, on its own seed
      expect(isCertified(v!.certificate), `epoch ${e}: ${v!.certificate}`).toBe(true);
    }
    // It searches on the network's seed again: its proof of epoch 3 is accepted.
    expect(hostOf(sim.hosts[0]!.host.view(3)!.state, late.publicKey)!.flags & 1).toBe(1);
  }, 120_000);
});

/**
 * Epoch 0 stays pending on hosts 0 and 1 (host 2, 10 of the genesis weight, is away from before its
 * proof), as in majority-away.test.ts, while they certify the later epochs. A liar that is not a
 * ProtocolHost votes a made-up hash for epoch 0 and answers op 5 with a state of its own making:
 * host 0's pending state with another seed (a seed it could grind), certified by its own vote.
 */
async function pendingWithLiar(liarWeight: number) {
  const lines: string[] = [];
  const crypto = modelledCrypto();
  const modelled = { crypto };
  const probe = await createSimulation({ honest: 1, epochs: 0, seed: 71, modelled });
  const g0 = probe.genesis;
  const outages = [{ host: 2, from: schedule(g0, 0).revealEnd + 20 - g0.startMs, to: schedule(g0, 50).start - g0.startMs }];
  const liarIndex = 3;
  const sim = await createSimulation({ honest: 3, epochs: 4, seed: 71, modelled, initialWeights: [3, 3, 10, liarWeight], outages, log: (l) => lines.push(l) });
  const g = sim.genesis;
  const liar = modelledIdentity(liarIndex);
  const net = sim.net.join(hex(liar.publicKey));
  let lie: Uint8Array = NOT_FOUND;
  const asked = { state: 0 };
  net.handle(async (req) => {
    if (decodeRequest(req).op !== 'state') return NOT_FOUND;
    asked.state++;
    return lie;
  });
  // Once hosts 0 and 1 have derived epoch 0, within its vote window.
  sim.loop.setTimer(schedule(g, 0).close + 100, () => {
    void (async () => {
      const honest = sim.hosts[0]!.host.view(0)!.state;
      const forged = { ...honest, seed: new Uint8Array(honest.seed.length).fill(0xab) };
      const hash = stateHash(forged);
      const unsigned = { kind: 'vote' as const, epoch: 0, sender: liar.publicKey, timestampMs: sim.loop.now(), stateHash: hash };
      const vote = (await signMessage(crypto.signer(liar.publicKey), g, unsigned)) as VoteMessage;
      lie = encodeStateResponse(encodeState(forged), encodeCertificate({ epoch: 0, stateHash: hash, votes: [vote] }));
      await net.publish('sprint-vote', vote.bytes);
    })();
  });
  return { sim, g, lines, asked, forgedSeed: 0xab };
}

describe('outvoted: a liar that votes a made-up hash', () => {
  it('a vote from a key with no weight in the epoch makes no host ask anyone', async () => {
    const { sim, asked } = await pendingWithLiar(0);
    const hosts = [sim.hosts[0]!.host, sim.hosts[1]!.host];
    await sim.runEpoch(0);
    const held = hosts.map((h) => h.view(0)!.hash);
    expect(hosts.every((h) => h.view(0)!.certificate === 'pending')).toBe(true);
    // The lie arrived, and was refused at the door: its key has no weight in W_0 (§13 "Weightless senders").
    expect(hosts.every((h) => (h.counters.rejected.NOT_ELIGIBLE ?? 0) >= 1 && !h.pool.votes(0).some((v) => hex(v.stateHash) !== held[0]))).toBe(true);
    for (let e = 1; e < 4; e++)
      expect(
        (await sim.runEpoch(e)).hosts.slice(0, 2).every((h) => h.certificate === 'certified'),
        `epoch ${e}`,
      ).toBe(true);
    // Before: both asked the liar (and each other) for the certified state at every backoff.
    expect(asked.state).toBe(0);
    expect(hosts.map((h) => h.view(0)!.hash)).toEqual(held);
  }, 120_000);

  it('a liar with weight is asked, its forged state is refused, and the asking backs off', async () => {
    const { sim, g, asked, lines, forgedSeed } = await pendingWithLiar(2);
    const hosts = [sim.hosts[0]!.host, sim.hosts[1]!.host];
    await sim.runEpoch(0);
    const held = hosts.map((h) => h.view(0)!.hash);
    for (let e = 1; e < 4; e++)
      expect(
        (await sim.runEpoch(e)).hosts.slice(0, 2).every((h) => h.certificate === 'certified'),
        `epoch ${e}`,
      ).toBe(true);
    expect(asked.state).toBeGreaterThan(0);
    // Its certificate holds 2 of 18: refused, and neither host took the forged state (nor its seed).
    for (const h of hosts) expect(h.counters.rejected.BAD_CERTIFICATE ?? 0).toBeGreaterThanOrEqual(1);
    expect(hosts.map((h) => h.view(0)!.hash)).toEqual(held);
    expect(hosts.every((h) => h.view(0)!.certificate === 'pending' && h.view(0)!.state.seed[0] !== forgedSeed)).toBe(true);
    expect(lines.some((l) => l.includes('epoch 0: peers voted another state than ours and none served it certified'))).toBe(true);
    // Backoff: the n-th try waits skew · 2^n, capped at an epoch, so each host asks it at most
    // log2(epoch / skew) + 1 times before the cap and once per epoch after.
    const span = sim.loop.now() - schedule(g, 0).close;
    const doublings = Math.ceil(Math.log2(g.timings.epochMs / g.skewMs)) + 1;
    const bound = hosts.length * (doublings + Math.ceil(span / g.timings.epochMs));
    expect(asked.state).toBeLessThanOrEqual(bound);
  }, 120_000);
});
