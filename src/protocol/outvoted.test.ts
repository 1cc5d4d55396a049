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
import { schedule } from './genesis.ts';
import { isCertified } from './host.ts';
import { hostOf } from './ledger.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { overrideTransport, RequestFailed } from './sim/network.ts';
import { createSimulation } from './sim/simulate.ts';

describe('outvoted: a pending state that peers voted otherwise', () => {
  it('a host that derived open-join epoch 0 without syncing adopts the certified state, then the next ones, and takes part', async () => {
    const lines: string[] = [];
    const sim = await createSimulation({ honest: 3, epochs: 4, seed: 61, modelled: { crypto: modelledCrypto() }, log: (l) => lines.push(l) });
    const g = sim.genesis;
    const s0 = schedule(g, 0);
    const late = sim.hosts[2]!;
    // Away from the start: no commit of its own (with one, in open join it would hold all of W_0 as
    // it knows it and certify its own derivation alone).
    late.host.stop();
    sim.net.setOnline(late.key, false);
    // It starts in epoch 0's validation window; its requests fail until epoch 0 has ended (gossip works).
    sim.loop.setTimer(s0.proofEnd + 50, () => {
      const base = sim.net.join(late.key);
      late.host = late.make(
        overrideTransport(base, {
          request: (peer, bytes) => (sim.loop.now() < s0.end ? Promise.reject(new RequestFailed('still connecting')) : base.request(peer, bytes)),
        }),
      );
      void late.host.start();
    });
    await sim.runEpoch(0);
    const certified0 = sim.hosts[0]!.host.view(0)!;
    expect(isCertified(certified0.certificate)).toBe(true);
    expect(late.host.view(0)!.hash).not.toBe(certified0.hash); // derived from what gossip brought after it started
    expect(late.host.view(0)!.certificate).toBe('pending');

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
