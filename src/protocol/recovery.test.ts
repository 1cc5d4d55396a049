/**
 * A host whose state of an epoch differs from the certificate it holds, while no signer serves the
 * certified state (docs/protocol.md §11, §13): it must keep trying, sit out of everything that builds
 * on that state meanwhile, and adopt the certified state once it is served — also across a reload,
 * after which the stored state is still pending (open to the epoch's messages), not `adopted`.
 *
 * The divergence: host 2 left epoch 1 before its close and holds a validly signed proof backdated
 * into epoch 1's proof window that the certifying hosts never counted (a lying sync peer's, as in
 * catch-up.test.ts). It restarts in epoch 2 behind a transport on which every peer refuses op 5
 * (the certified state) until `serveAt`, or (the last two tests) where no signer ever serves it and only
 * a peer that did not sign the certificate holds it — or lies about it.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { encodeNonceList, nonceListRoot } from './claims.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { encodeCertificate } from './certificate.ts';
import { schedule, type Genesis } from './genesis.ts';
import { ProtocolHost } from './host.ts';
import type { ProtocolEngine, Transport } from './interfaces.ts';
import { encodeState } from './ledger.ts';
import { decodeMessage, signMessage } from './messages.ts';
import { overrideTransport } from './sim/network.ts';
import { createSimulation, simIdentity, type Simulation } from './sim/simulate.ts';
import { epochKey, MemoryStore } from './store.ts';
import { decodeRequest, encodeStateResponse, NOT_FOUND } from './sync.ts';

const verifier = walletVerifier();
const signerOf = (id: ReturnType<typeof simIdentity>) =>
  walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });

/** A proof of identity `index` for epoch 1, stamped inside its window, on the certified seed. */
async function backdatedProof(g: Genesis, index: number, seed: Uint8Array) {
  const id = simIdentity(index, g.networkId);
  const list = encodeNonceList([{ nonce: index, distance: 0.5 }]);
  const unsigned = {
    kind: 'proof' as const,
    epoch: 1,
    sender: id.publicKey,
    timestampMs: schedule(g, 1).sprintEnd,
    seed,
    count: 1,
    root: nonceListRoot(list),
    noncesTried: 8,
  };
  return decodeMessage((await signMessage(signerOf(id), g, unsigned)).bytes);
}

/** Epochs 0 and 1 certified by hosts 0 and 1 (host 2 gone before epoch 1's close); host 2's store holds the backdated proof. */
async function divergedHost(lines: string[]) {
  const sim = await createSimulation({ honest: 3, epochs: 3, seed: 12, verifier, log: (l) => lines.push(l) });
  const g = sim.genesis;
  const [h0, , away] = sim.hosts;
  expect((await sim.runEpoch(0)).certified).toBe(true);
  await sim.loop.runUntil(schedule(g, 1).validationEnd);
  away!.host.stop();
  sim.net.setOnline(away!.key, false);
  expect((await sim.runEpoch(1)).certified).toBe(true);
  const certified = h0!.host.view(1)!;
  const extra = await backdatedProof(g, 20, certified.state.seed);
  await away!.store.put(`msg/${epochKey(1)}/${extra.id}`, extra.bytes);
  return { sim, g, h0: h0!, away: away!, certified };
}

/** Host 2 as a new process over its store, on a network where op 5 (the certified state) is answered only by peers `serves` names. */
function restart(sim: Simulation, lines: string[], serves: (peer: string) => boolean): ProtocolHost {
  const away = sim.hosts[2]!;
  const base = sim.net.join(away.key);
  const transport: Transport = overrideTransport(base, {
    request: async (peer, req, o) => (!serves(peer) && decodeRequest(req).op === 'state' ? NOT_FOUND : base.request(peer, req, o)),
  });
  const host = new ProtocolHost({
    genesis: sim.genesis,
    signer: signerOf(simIdentity(2, sim.genesis.networkId)),
    verifier,
    engine: away.engine,
    transport,
    clock: sim.loop,
    store: away.store,
    random: (n) => new Uint8Array(n).fill(9),
    log: (l) => lines.push(`restarted ${l}`),
  });
  away.host = host;
  return host;
}

/** Every peer serves the certified state from `at` on. */
const servedFrom = (sim: Simulation, at: number) => () => sim.loop.now() >= at;

const said = (lines: string[], what: string) => lines.some((l) => l.startsWith('restarted') && l.includes(what));

describe('recovering a state that differs from its certificate', () => {
  it('retries until a signer serves the certified state, building nothing on its own meanwhile', async () => {
    const lines: string[] = [];
    const { sim, g, h0, away, certified } = await divergedHost(lines);
    const s2 = schedule(g, 2);
    const evaluatedBefore = away.engine.work.evaluated;
    // Refused at the restart and at the Sprint's start (the commit-phase step falls inside the backoff); served during the Sprint.
    sim.loop.setTimer(s2.start + 10, () => void restart(sim, lines, servedFrom(sim, s2.sprintStart + 500)).start());
    await sim.loop.runUntil(s2.sprintStart + 450);
    expect(away.host.view(1)!.hash).not.toBe(certified.hash);
    expect(away.host.view(1)!.certificate).toBe('pending');
    const e2 = await sim.runEpoch(2);

    // While its epoch 1 was wrong it committed, searched and proved nothing for epoch 2 (weights and seed come
    // from epoch 1). Before the fix it did all three on the wrong seed and voted for a state built on it.
    for (const kind of ['commit', 'proof']) expect(await away.store.get(`own/${epochKey(2)}/${kind}`), kind).toBeUndefined();
    expect(away.engine.work.evaluated).toBe(evaluatedBefore);
    expect(e2.certified).toBe(true);
    expect(e2.agreed).toBe(true);
    expect(away.host.view(1)!.hash).toBe(certified.hash);
    expect(away.host.view(1)!.certificate).toBe('adopted');
    expect(said(lines, 'epoch 1: still differs from its certificate (recovery attempt 2)')).toBe(true);
    expect(said(lines, 'epoch 1: adopted the certified state from')).toBe(true);
    // Recovered by the close, so it votes, for the certified hash.
    const vote = await away.store.get(`own/${epochKey(2)}/vote`);
    expect(vote && hex((decodeMessage(vote) as { stateHash: Uint8Array }).stateHash)).toBe(h0.host.view(2)!.hash);
    // And in epoch 3 it takes part again: same seed as the others, its proof accepted.
    const e3 = await sim.runEpoch(3);
    expect(e3.agreed).toBe(true);
    expect(e3.certified).toBe(true);
    expect(e3.hosts[2]!.flags).toEqual(['accepted']);
  }, 90_000);

  it('after a reload the differing state is pending, takes the epoch’s messages, and is recovered once served', async () => {
    const lines: string[] = [];
    const { sim, g, h0, away, certified } = await divergedHost(lines);
    const s2 = schedule(g, 2);
    const serveAt = s2.sprintStart + 100;
    sim.loop.setTimer(s2.start + 10, () => void restart(sim, lines, servedFrom(sim, serveAt)).start());
    await sim.loop.runUntil(s2.commitEnd);
    expect(away.host.view(1)!.hash).not.toBe(certified.hash);
    away.host.stop();

    // A reload while nobody serves the certified state.
    const late = await backdatedProof(g, 22, certified.state.seed);
    const reloaded = restart(sim, lines, servedFrom(sim, serveAt));
    await reloaded.start();
    expect(reloaded.view(1)!.hash).not.toBe(certified.hash);
    expect(reloaded.certificate(1)!.stateHash).toEqual(h0.host.certificate(1)!.stateHash);
    // Before the fix: `adopted`, and so every further message of epoch 1 refused (EPOCH_CLOSED).
    expect(reloaded.view(1)!.certificate).toBe('pending');
    expect(reloaded.receive(late.bytes, 'sync')).not.toBeNull();
    expect(reloaded.counters.rejected.EPOCH_CLOSED ?? 0).toBe(0);

    const e2 = await sim.runEpoch(2);
    expect(said(lines, 'epoch 1: adopted the certified state from')).toBe(true);
    expect(reloaded.view(1)!.hash).toBe(certified.hash);
    expect(reloaded.view(1)!.certificate).toBe('adopted');
    expect(e2.certified).toBe(true);
    const vote = await away.store.get(`own/${epochKey(2)}/vote`);
    if (vote) expect(hex((decodeMessage(vote) as { stateHash: Uint8Array }).stateHash)).toBe(h0.host.view(2)!.hash);
    expect(reloaded.view(2)!.hash).toBe(h0.host.view(2)!.hash);
  }, 90_000);

  // The certified state is checked against the certificate's hash, so any peer that holds it may serve it:
  // here a host that joined later and holds no weight, while every signer refuses op 5.
  it('adopts the certified state from a peer that holds it without having signed it', async () => {
    const lines: string[] = [];
    const { sim, g, h0, away, certified } = await divergedHost(lines);
    const s2 = schedule(g, 2);
    const signers = new Set(h0.host.certificate(1)!.votes.map((v) => hex(v.sender)));
    const holderId = simIdentity(21, g.networkId);
    const holderKey = hex(holderId.publicKey);
    expect(signers.has(holderKey)).toBe(false);
    sim.loop.setTimer(s2.start + 10, () => void restart(sim, lines, (peer) => !signers.has(peer)).start());
    // It joins after host 2's first recovery failed, so host 2's catching up cannot have used it.
    let holder: ProtocolHost | undefined;
    sim.loop.setTimer(s2.start + 500, () => {
      holder = new ProtocolHost({
        genesis: g,
        signer: signerOf(holderId),
        verifier,
        engine: idle,
        transport: sim.net.join(holderKey),
        clock: sim.loop,
        store: new MemoryStore(),
        random: (n) => new Uint8Array(n),
        log: (l) => lines.push(`holder ${l}`),
      });
      void holder.start();
    });
    await sim.runEpoch(2);

    expect(holder!.view(1)!.hash).toBe(certified.hash);
    expect(holder!.certificate(1)!.votes.map((v) => hex(v.sender))).not.toContain(holderKey);
    expect(said(lines, `epoch 1: adopted the certified state from ${holderKey.slice(0, 8)}`)).toBe(true);
    expect(away.host.view(1)!.hash).toBe(certified.hash);
    expect(away.host.view(1)!.certificate).toBe('adopted');
    expect(away.host.view(2)!.hash).toBe(h0.host.view(2)!.hash);
    holder!.stop();
  }, 90_000);

  it('refuses a state a non-signer serves that is not the certified one, and keeps sitting out', async () => {
    const lines: string[] = [];
    const { sim, g, h0, away, certified } = await divergedHost(lines);
    const s2 = schedule(g, 2);
    const signers = new Set(h0.host.certificate(1)!.votes.map((v) => hex(v.sender)));
    const liarKey = hex(simIdentity(22, g.networkId).publicKey);
    sim.loop.setTimer(s2.start + 10, () => void restart(sim, lines, (peer) => !signers.has(peer)).start());
    // The liar pairs the genuine certificate with host 2's own wrong state; everything else it answers honestly.
    sim.loop.setTimer(s2.start + 500, () => {
      const wrong = away.host.view(1)!;
      expect(wrong.hash).not.toBe(certified.hash);
      const lie = encodeStateResponse(encodeState(wrong.state), encodeCertificate(h0.host.certificate(1)!));
      sim.net.join(liarKey).handle(async (req, from) => (decodeRequest(req).op === 'state' ? lie : h0.host.serve(req, from)));
    });
    const e2 = await sim.runEpoch(2);

    expect(away.host.counters.rejected.BAD_STATE ?? 0).toBeGreaterThanOrEqual(1);
    expect(away.host.view(1)!.hash).not.toBe(certified.hash);
    expect(away.host.view(1)!.certificate).toBe('pending');
    expect(said(lines, 'epoch 1: still differs from its certificate (recovery attempt 2)')).toBe(true);
    for (const kind of ['commit', 'proof', 'vote']) expect(await away.store.get(`own/${epochKey(2)}/${kind}`), kind).toBeUndefined();
    expect(e2.hosts.slice(0, 2).every((h) => h.certificate === 'certified')).toBe(true);
  }, 90_000);
});

/** A host that takes no part in Sprints: it follows the ledger only. */
const idle: ProtocolEngine = {
  search: async () => Promise.reject(new Error('this host does not search')),
  evaluate: async () => Promise.reject(new Error('this host does not validate')),
};
