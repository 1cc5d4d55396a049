/**
 * The pool bound (pool.ts, docs/protocol.md §13 "Pool bound"): one key signs many copies of its
 * proof that differ only in their timestamp, and several proofs with different bodies, and hands
 * different subsets to different hosts in different orders. Before the bound every copy was kept,
 * stored and served by sync (here 200 per host); now each host keeps one copy per body and two
 * bodies, yet the hosts still derive the state that every copy would give, and certify it.
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { encodeNonceList, nonceListRoot } from './claims.ts';
import { schedule } from './genesis.ts';
import { deriveEpoch, stateHash } from './ledger.ts';
import { decodeMessage, signMessage, type Message, type Unsigned } from './messages.ts';
import { MAX_BODIES_PER_SENDER } from './pool.ts';
import { InferenceVerdict } from './inference-constants.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { createSimulation, modelledIdentity } from './sim/simulate.ts';

describe('the pool bound: one key, many copies', () => {
  it('keeps one copy per body and two bodies per sender, and the hosts derive what every copy gives', async () => {
    const crypto = modelledCrypto();
    const sim = await createSimulation({ honest: 3, epochs: 3, seed: 81, modelled: { crypto } });
    const g = sim.genesis;
    const flooder = modelledIdentity(9);
    const key = hex(flooder.publicKey);
    await sim.runEpoch(0);
    const s1 = schedule(g, 1);
    const seed = sim.hosts[0]!.host.view(0)!.state.seed;
    const list = encodeNonceList([{ nonce: 1, distance: 0.5 }]);
    const sign = async (count: number, timestampMs: number): Promise<Message> => {
      const unsigned = { kind: 'proof' as const, epoch: 1, sender: flooder.publicKey, timestampMs, seed, count, root: nonceListRoot(list), noncesTried: 8 };
      return decodeMessage((await signMessage(crypto.signer(flooder.publicKey), g, unsigned)).bytes);
    };
    // 200 copies of one body (count 1), stamped 1 ms apart, and one copy each of four other bodies.
    const copies: Message[] = [];
    for (let i = 0; i < 200; i++) copies.push(await sign(1, s1.sprintStart + i));
    for (let c = 2; c < 6; c++) copies.push(await sign(c, s1.sprintStart + 300 + c));
    const [h0, h1, h2] = sim.hosts.map((h) => h.host);
    sim.loop.setTimer(s1.sprintEnd + 10, () => {
      for (const m of copies) h0!.receive(m.bytes, 'sync');
      for (const m of [...copies].reverse()) h1!.receive(m.bytes, 'sync');
      for (const m of copies.filter((_, i) => i % 3 === 1)) h2!.receive(m.bytes, 'sync'); // a third of them
    });
    const held = (h: typeof h0) => h!.pool.messages(1).filter((m) => hex(m.sender) === key);
    await sim.loop.runUntil(s1.proofEnd);
    for (const h of [h0, h1, h2]) expect(held(h).length).toBe(MAX_BODIES_PER_SENDER); // before: 204, 204 and 68
    expect((h0!.counters.rejected.SUPERSEDED ?? 0) + (h1!.counters.rejected.SUPERSEDED ?? 0)).toBeGreaterThan(300);
    const r1 = await sim.runEpoch(1);
    expect(r1.agreed).toBe(true);
    expect(r1.certified).toBe(true);
    // After sync every host holds the same two: the smallest-id copy of each of the two bodies with the smallest ids.
    const ids = (h: typeof h0) =>
      held(h)
        .map((m) => m.id)
        .sort();
    expect(ids(h1)).toEqual(ids(h0));
    expect(ids(h2)).toEqual(ids(h0));
    // And the state is the one that every copy gives: the honest messages plus all 204 copies.
    const honest = h0!.pool.messages(1).filter((m) => hex(m.sender) !== key);
    const full = deriveEpoch(g, h0!.view(0)!.state, 1, [...honest, ...copies], crypto.verifier);
    expect(hex(stateHash(full.state))).toBe(h0!.view(1)!.hash);
    // Its store holds no more than its pool.
    const stored = (await sim.hosts[0]!.store.keys('msg/')).filter((k) => k.includes(`/${'0'.repeat(11)}1/`));
    expect(stored.length).toBe(h0!.pool.messages(1).length);
  }, 120_000);
});

describe('weightless senders', () => {
  it('a key without weight in W_e: its commit, reveal, validation, vote and inference verdict are not kept, and the state is unchanged', async () => {
    const crypto = modelledCrypto();
    const sim = await createSimulation({ honest: 3, epochs: 3, seed: 82, modelled: { crypto } });
    const g = sim.genesis;
    const outsider = modelledIdentity(11);
    const signer = crypto.signer(outsider.publicKey);
    await sim.runEpoch(0);
    const s1 = schedule(g, 1);
    const sign = async (body: Record<string, unknown>, timestampMs: number): Promise<Message> =>
      decodeMessage((await signMessage(signer, g, { epoch: 1, sender: outsider.publicKey, timestampMs, ...body } as Unsigned)).bytes);
    const h32 = (b: number) => new Uint8Array(32).fill(b);
    // Each in its window, gossiped to every host.
    const at = (t: number, body: Record<string, unknown>) =>
      sim.loop.setTimer(t, () => void sign(body, t).then((m) => sim.hosts.forEach((h) => h.host.receive(m.bytes, 'gossip'))));
    at(s1.start + 10, { kind: 'commit', commitment: h32(1) });
    at(s1.commitEnd + 10, { kind: 'reveal', secret: h32(2) });
    at(s1.proofEnd + g.skewMs + 10, { kind: 'validation', binding: signer.binding, lottery: new Uint8Array(96).fill(3), entries: [] });
    at(s1.close + 10, { kind: 'vote', stateHash: h32(4) });
    at(s1.start + 20, { kind: 'inferenceVerdict', proofId: h32(5), verdict: InferenceVerdict.invalid, checked: 0 });
    const r1 = await sim.runEpoch(1);
    expect(r1.agreed && r1.certified).toBe(true);
    for (const h of sim.hosts) {
      // Before: all five kept, stored and served by sync.
      expect(h.host.pool.messages(1).filter((m) => hex(m.sender) === hex(outsider.publicKey))).toEqual([]);
      expect(h.host.counters.rejected.NOT_ELIGIBLE).toBe(5);
    }
    expect((await sim.runEpoch(2)).certified).toBe(true);
  }, 120_000);
});
