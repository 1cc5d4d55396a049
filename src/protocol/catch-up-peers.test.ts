/**
 * Catching up when most peers a host sees run no protocol (docs/protocol.md §12 "Catching up"): a
 * ledger follower (a host that signs nothing, as src/app/ledger-follower.ts runs it) joins a network
 * that has certified five epochs, and lists eight peers. Six come first in its (sorted) list and
 * serve nothing useful: two do not speak the sync protocol (the request fails at once, as protocol
 * negotiation does with a split volunteer or a host of another genesis), two never answer (the
 * request times out), and two are followers with nothing yet (head 0, op 5 not found). Only the last
 * three are hosts that hold the certified states; the network's hosts keep only the last
 * `KEEP_EPOCHS` epochs of messages, so the early epochs can come only from op 5.
 *
 * Before, catch-up asked op 5 of the first three listed peers (all useless), then derived each
 * missed epoch from whatever three rotating peers synced; epochs 0 and 1 came from an empty pool,
 * every later state was built on them, and the follower never held a certified state.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { walletVerifier } from './crypto.ts';
import { schedule } from './genesis.ts';
import { isCertified, KEEP_EPOCHS, ProtocolHost } from './host.ts';
import type { Transport } from './interfaces.ts';
import { MAX_HEAD_PROBES } from './constants.ts';
import { overrideTransport, RequestFailed } from './sim/network.ts';
import { followerAt, refusingEngine, refusingSigner } from './sim/follower.ts';
import { createSimulation, simIdentity } from './sim/simulate.ts';
import { MemoryStore } from './store.ts';
import { decodeRequest } from './sync.ts';

const verifier = walletVerifier();

describe('catching up among peers that run no protocol', () => {
  it('a follower that sees six useless peers before three hosts reaches the certified chain', async () => {
    const lines: string[] = [];
    const sim = await createSimulation({ honest: 3, epochs: 8, seed: 44, verifier, log: (l) => lines.push(l) });
    const g = sim.genesis;
    for (let e = 0; e < 5; e++) expect((await sim.runEpoch(e)).certified, `epoch ${e}`).toBe(true);
    const honest = sim.hosts.map((h) => h.key);

    // Keys that sort before every host's: the order a node transport lists peers in (sorted keys).
    const useless = Array.from({ length: 6 }, (_, i) => '00'.repeat(31) + `0${i + 1}`);
    const [noProtocol, silent, empty] = [useless.slice(0, 2), useless.slice(2, 4), useless.slice(4, 6)];
    expect([...useless, ...honest].sort().slice(0, 6)).toEqual(useless);
    // A follower that has followed nothing yet: head 0, no state, an empty pool.
    const nothing = new ProtocolHost({
      genesis: g,
      signer: refusingSigner(simIdentity(31, g.networkId).publicKey),
      verifier,
      engine: refusingEngine,
      transport: sim.net.join('ff'.repeat(32)),
      clock: sim.loop,
      store: new MemoryStore(),
      random: (n) => new Uint8Array(n),
    });
    const fid = simIdentity(30, g.networkId);
    const fkey = hex(fid.publicKey);
    const base = sim.net.join(fkey);
    const asked: { at: number; peer: string; op: string; epoch?: number }[] = [];
    const transport: Transport = overrideTransport(base, {
      peers: () => [...useless, ...honest].sort(),
      request: (peer, req, o = {}) => {
        const r = decodeRequest(req);
        asked.push({ at: sim.loop.now(), peer, op: r.op, epoch: 'epoch' in r ? r.epoch : undefined });
        if (noProtocol.includes(peer)) return Promise.reject(new RequestFailed('protocol not supported'));
        if (silent.includes(peer))
          return new Promise((_, reject) => sim.loop.setTimer(sim.loop.now() + (o.timeoutMs ?? 10_000), () => reject(new RequestFailed('timed out'))));
        if (empty.includes(peer)) return nothing.serve(req, fkey);
        return base.request(peer, req, o);
      },
    });
    const s5 = schedule(g, 5);
    const follower = () => started.host!;
    const started = followerAt(sim, s5.start + 10, fid.publicKey, transport, lines);
    await sim.runEpoch(5);
    await sim.runEpoch(6);

    // By the end of epoch 6 it holds every state of epochs 0–5, each the certified one and verified as such.
    const h0 = sim.hosts[0]!.host;
    for (let e = 0; e <= 5; e++) {
      const v = follower().view(e);
      expect(v?.hash, `epoch ${e}`).toBe(h0.view(e)!.hash);
      expect(isCertified(v!.certificate), `epoch ${e}: ${v!.certificate}`).toBe(true);
    }
    // Bounded: one round of head probes (at most MAX_HEAD_PROBES), and per caught-up epoch at most
    // 3 × syncPeers op-5 requests; a peer whose probe failed is not asked for a state.
    const catchUp = asked.filter((a) => a.at < s5.start + g.timings.epochMs);
    expect(catchUp.filter((a) => a.op === 'head').length).toBeLessThanOrEqual(MAX_HEAD_PROBES);
    for (let e = 0; e < 5; e++) expect(catchUp.filter((a) => a.op === 'state' && a.epoch === e).length).toBeLessThanOrEqual(9);
    expect(asked.filter((a) => a.op === 'state' && noProtocol.includes(a.peer))).toEqual([]);
    // Epochs whose messages no host keeps any more (before 5 − KEEP_EPOCHS) are taken by op 5 alone: no sync round for them.
    expect(asked.filter((a) => a.op === 'summary' && a.epoch! < 5 - KEEP_EPOCHS)).toEqual([]);
    follower().stop();
  }, 120_000);

  it.each([
    ['no peer is listed', false],
    ['only peers that refuse this genesis are listed', true],
  ])(
    'a host that starts while %s waits for a peer instead of deriving the missed epochs alone',
    async (_, refusers) => {
      // Before, a node still dialling its relay derived every missed epoch from its empty pool in its
      // first step: states with no host and no weight, never certified and never marked wrong, so it
      // computed wrong seeds and its proofs counted nowhere (seen with `npm start` and a page opened
      // after epoch 4, and with a late `host --genesis`).
      const lines: string[] = [];
      const sim = await createSimulation({ honest: 3, epochs: 8, seed: 45, sprintMs: 12_000, verifier, log: (l) => lines.push(l) });
      const g = sim.genesis;
      for (let e = 0; e < 5; e++) expect((await sim.runEpoch(e)).certified, `epoch ${e}`).toBe(true);
      const honest = sim.hosts.map((h) => h.key);
      const fid = simIdentity(32, g.networkId);
      const base = sim.net.join(hex(fid.publicKey));
      const s5 = schedule(g, 5);
      // Split users or hosts of another genesis: listed on the network, their sync for this genesis fails at once.
      const other = ['01'.repeat(32), '02'.repeat(32)];
      // Connected from 1 s into the Sprint of epoch 5 (after its phase boundary): the steps before run with nobody to ask.
      const transport: Transport = overrideTransport(base, {
        peers: () => (sim.loop.now() >= s5.sprintStart + 1_000 ? honest : refusers ? other : []),
        request: (peer, req, o) => (other.includes(peer) ? Promise.reject(new RequestFailed('protocol not supported')) : base.request(peer, req, o)),
      });
      const follower = () => started.host!;
      const started = followerAt(sim, s5.start + 10, fid.publicKey, transport, lines);
      await sim.loop.runUntil(s5.sprintStart - 1);
      expect(follower().view(0), 'nothing derived while no peer is reachable').toBeUndefined();
      expect(lines.filter((l) => l.includes('waiting for a peer'))).toHaveLength(1);
      // It looks again every few seconds, so it holds epoch 4 early in the Sprint, not at its end (the next phase boundary).
      await sim.loop.runUntil(s5.sprintStart + 5_000);
      expect(follower().view(4)?.hash, 'caught up within the Sprint').toBe(sim.hosts[0]!.host.view(4)!.hash);
      await sim.runEpoch(5);
      await sim.runEpoch(6);
      const h0 = sim.hosts[0]!.host;
      for (let e = 0; e <= 6; e++) {
        const v = follower().view(e);
        expect(v?.hash, `epoch ${e}`).toBe(h0.view(e)!.hash);
        expect(isCertified(v!.certificate), `epoch ${e}: ${v!.certificate}`).toBe(true);
      }
      follower().stop();
    },
    120_000,
  );

  it('a host whose every peer failed its first probe asks them again within seconds, not after their bench (an epoch)', async () => {
    // Seen by hand: two demo hosts paused 70 s (SIGSTOP) came back with dead connections; each one's
    // first `head` probe failed, which benched the other for an epoch, and then the probe skipped every
    // benched peer, so both sat out 35 s (until a phase's sync round asked the benched peer anyway).
    const lines: string[] = [];
    const sim = await createSimulation({ honest: 3, epochs: 8, seed: 46, sprintMs: 12_000, verifier, log: (l) => lines.push(l) });
    const g = sim.genesis;
    for (let e = 0; e < 5; e++) expect((await sim.runEpoch(e)).certified, `epoch ${e}`).toBe(true);
    const honest = sim.hosts.map((h) => h.key);
    const fid = simIdentity(34, g.networkId);
    const base = sim.net.join(hex(fid.publicKey));
    const s5 = schedule(g, 5);
    const reachableFrom = s5.start + 1_000;
    const failed: string[] = [];
    const transport: Transport = overrideTransport(base, {
      peers: () => honest,
      request: (peer, req, o) => {
        if (sim.loop.now() >= reachableFrom) return base.request(peer, req, o);
        failed.push(peer);
        return Promise.reject(new RequestFailed('connection reset'));
      },
    });
    const started = followerAt(sim, s5.start + 10, fid.publicKey, transport, lines);
    await sim.loop.runUntil(reachableFrom + 5_000);
    expect(new Set(failed)).toEqual(new Set(honest)); // every listed peer failed once, so every one was benched
    expect(started.host!.view(4)?.hash, 'caught up within seconds of the peers answering').toBe(sim.hosts[0]!.host.view(4)!.hash);
    started.host!.stop();
  }, 120_000);
});
