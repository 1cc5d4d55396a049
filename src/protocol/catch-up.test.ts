/**
 * Catching up past a lying sync peer (docs/protocol.md §4 rule 2, §11, §12): after an epoch is certified,
 * a peer serves a validly signed proof backdated into the epoch's proof window that the certifying
 * hosts never counted, and hides the certified state (op 5 not found). A host catching up from it
 * gets the votes (so the certificate) and the extra message in one sync round, derives another
 * state, and must notice, fetch the certified state from a signer and adopt it — never building on,
 * or voting for, its own.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { encodeNonceList, nonceListRoot } from './claims.ts';
import { walletSigner, walletVerifier } from './crypto.ts';
import { schedule } from './genesis.ts';
import { ProtocolHost } from './host.ts';
import type { ProtocolEngine, Transport } from './interfaces.ts';
import { deriveEpoch } from './ledger.ts';
import { decodeMessage, signMessage } from './messages.ts';
import { overrideTransport } from './sim/network.ts';
import { createSimulation, simIdentity } from './sim/simulate.ts';
import { MemoryStore, epochKey } from './store.ts';
import { bucketHashes, bucketOf, decodeRequest, encodeIds, encodeMessages, encodeSummary, NOT_FOUND } from './sync.ts';

const verifier = walletVerifier();
const signerOf = (id: ReturnType<typeof simIdentity>) =>
  walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });

describe('catching up', () => {
  it('a host holding the certificate recovers from a backdated in-window message served by a lying sync peer', async () => {
    const lines: string[] = [];
    const sim = await createSimulation({ honest: 3, epochs: 3, seed: 12, verifier, log: (l) => lines.push(l) });
    const g = sim.genesis;
    const s1 = schedule(g, 1);
    const s2 = schedule(g, 2);
    const [h0, , away] = sim.hosts;
    // Epoch 1, not the open-join epoch 0: its certificate is checked against weights from the state before,
    // so a host that syncs the votes holds the certificate before it has derived the epoch.
    expect((await sim.runEpoch(0)).certified).toBe(true);
    // Host 2 leaves after validating and being validated, before the close: the others certify epoch 1 without it.
    await sim.loop.runUntil(s1.validationEnd);
    away!.host.stop();
    sim.net.setOnline(away!.key, false);
    await sim.runEpoch(1);
    const honest = h0!.host.view(1)!;
    expect(honest.certificate).toBe('certified');
    expect(h0!.host.certificate(1)!.votes.map((v) => hex(v.sender))).not.toContain(away!.key);

    // The liar signs a proof of its own, stamped inside epoch 1's proof window, after the certificate.
    const liar = simIdentity(20, g.networkId);
    const liarKey = hex(liar.publicKey);
    const list = encodeNonceList([{ nonce: 5, distance: 0.5 }]);
    const extra = await signMessage(signerOf(liar), g, {
      kind: 'proof',
      epoch: 1,
      sender: liar.publicKey,
      timestampMs: s1.sprintEnd,
      seed: honest.state.seed,
      count: 1,
      root: nonceListRoot(list),
      noncesTried: 8,
    });
    const extraId = decodeMessage(extra.bytes).id;
    const served = new Map(h0!.host.pool.ids(1).map((id) => [id, h0!.host.pool.get(1, id)!.bytes]));
    served.set(extraId, extra.bytes);
    const withExtra = deriveEpoch(g, h0!.host.view(0)!.state, 1, [...served.values()].map(decodeMessage), verifier);
    expect(hex(withExtra.hash)).not.toBe(honest.hash); // it would change the state: the liar's host gets an `unvalidated` row
    // Epoch 1 with the extra message and no certified state; everything else as the honest host answers.
    const lie = async (bytes: Uint8Array): Promise<Uint8Array> => {
      const req = decodeRequest(bytes);
      if (req.op === 'state') return NOT_FOUND;
      if (req.op === 'summary' && req.epoch === 1) return encodeSummary(served.size, bucketHashes(served.keys()));
      if (req.op === 'ids' && req.epoch === 1) return encodeIds([...served.keys()].filter((id) => ((req.mask >> bucketOf(id)) & 1) === 1));
      if (req.op === 'get' && req.epoch === 1) return encodeMessages(req.ids.map((id) => served.get(id)).filter((b): b is Uint8Array => !!b));
      return h0!.host.serve(bytes, liarKey);
    };
    /** A transport whose presence lists only `listed`; any key can still be dialled, the liar answering with `lie`. */
    const through = (key: string, listed: string[]): Transport => {
      const base = sim.net.join(key);
      return overrideTransport(base, {
        request: (peer, req, o) => (peer === liarKey ? lie(req) : base.request(peer, req, o)),
        peers: () => listed,
      });
    };
    const logTo = (name: string) => (l: string) => lines.push(`${name} ${l}`);

    // Host 2 restarts over its store in epoch 2, introduced only to the liar.
    const id2 = simIdentity(2, g.networkId);
    let secrets = 0;
    const restart = () =>
      new ProtocolHost({
        genesis: g,
        signer: signerOf(id2),
        verifier,
        engine: away!.engine,
        transport: through(away!.key, [liarKey]),
        clock: sim.loop,
        store: away!.store,
        random: (n) => new Uint8Array(n).fill(++secrets),
        log: logTo('restarted'),
      });
    // A newcomer whose first peer is the liar and second an honest host: it gets the certified state by op 5.
    const newcomerId = simIdentity(21, g.networkId);
    const refuse: ProtocolEngine = {
      search: async () => Promise.reject(new Error('the newcomer does not search')),
      evaluate: async () => Promise.reject(new Error('the newcomer does not validate')),
    };
    const newcomerHost = () =>
      new ProtocolHost({
        genesis: g,
        signer: signerOf(newcomerId),
        verifier,
        engine: refuse,
        transport: through(hex(newcomerId.publicKey), [liarKey, h0!.key]),
        clock: sim.loop,
        store: new MemoryStore(),
        random: (n) => new Uint8Array(n),
        log: logTo('newcomer'),
      });
    let newcomer: ProtocolHost | undefined;
    sim.loop.setTimer(s2.start + 10, () => {
      away!.host = restart();
      void away!.host.start();
      newcomer = newcomerHost();
      void newcomer.start();
    });
    const e2 = await sim.runEpoch(2);

    for (const [name, host] of [
      ['restarted', away!.host],
      ['newcomer', newcomer!],
    ] as const) {
      const v = host.view(1)!;
      expect(host.pool.has(1, extraId), name).toBe(true); // it did take the backdated message
      expect(v.hash, name).toBe(honest.hash);
      expect(v.certificate, name).toBe('adopted');
      expect(hex(host.certificate(1)!.stateHash), name).toBe(honest.hash);
    }
    const said = (name: string, what: string) => lines.some((l) => l.startsWith(name) && l.includes(what));
    expect(said('restarted', `epoch 1: certificate for ${honest.hash.slice(0, 16)} differs from ours ${hex(withExtra.hash).slice(0, 16)}: recovering`)).toBe(
      true,
    );
    expect(said('restarted', 'epoch 1: adopted the certified state from')).toBe(true);
    expect(said('newcomer', 'epoch 0: caught up (derived certified state)')).toBe(true);
    expect(said('newcomer', 'epoch 1: caught up (adopted certified state)')).toBe(true);

    // Host 2 never voted for epoch 1, and in epoch 2 it built on the certified state: same seed, accepted, its vote certified.
    expect(await away!.store.get(`own/${epochKey(1)}/vote`)).toBeUndefined();
    for (const h of sim.hosts) expect(h.host.pool.votes(1).filter((v) => hex(v.sender) === away!.key)).toEqual([]);
    expect(e2.certified).toBe(true);
    expect(e2.agreed).toBe(true);
    expect(e2.hosts[2]!.flags).toEqual(['accepted']);
    const vote2 = decodeMessage((await away!.store.get(`own/${epochKey(2)}/vote`))!);
    expect(vote2.kind === 'vote' && hex(vote2.stateHash)).toBe(h0!.host.view(2)!.hash);
    expect(newcomer!.view(2)!.hash).toBe(h0!.host.view(2)!.hash);
    newcomer!.stop();
  }, 90_000);
});
