import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walletSigner } from './crypto.ts';
import { deriveEpoch, Flag, hostOf, stateHash } from './ledger.ts';
import { decodeMessage, signMessage, type Message, type ProofMessage } from './messages.ts';
import { hex } from './bytes.ts';
import { createSimulation, simIdentity, type Simulation } from './sim/simulate.ts';

/** One real epoch (3 honest hosts, a forger and a withholder) whose message set the tests reorder. */
let sim: Simulation;
let messages: Message[];
let reference: string;

beforeAll(async () => {
  sim = await createSimulation({ honest: 3, cheaters: ['forged', 'withholder'], epochs: 1, seed: 11, noncesPerSprint: 32 });
  const report = await sim.runEpoch(0);
  expect(report.agreed).toBe(true);
  messages = sim.hosts[0]!.host.pool.messages(0);
  reference = sim.hosts[0]!.host.view(0)!.hash;
}, 60_000);

const derive = (ms: Iterable<Message>) => hex(deriveEpoch(sim.genesis, null, 0, ms, sim.verifier).hash);

describe('state derivation', () => {
  it('reproduces the hash the hosts certified from their message set', () => {
    expect(derive(messages)).toBe(reference);
    expect(sim.hosts.every((h) => h.host.view(0)?.hash === reference)).toBe(true);
    // Every kind of message takes part.
    expect(new Set(messages.map((m) => m.kind))).toEqual(new Set(['commit', 'reveal', 'proof', 'validation', 'vote']));
  });

  it('does not depend on arrival order or repeated copies (property)', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(messages, { minLength: messages.length, maxLength: messages.length }),
        fc.array(fc.tuple(fc.nat(messages.length - 1), fc.nat()), { maxLength: 12 }),
        (order, dups) => {
          const list = [...order];
          for (const [i, at] of dups) list.splice(at % (list.length + 1), 0, messages[i]!);
          expect(derive(list)).toBe(reference);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('settles equivocation and re-stamped copies the same way in every order (property)', async () => {
    const proof = messages.find((m): m is ProofMessage => m.kind === 'proof' && hex(m.sender) === sim.hosts[1]!.key)!;
    const id1 = simIdentity(1, sim.genesis.networkId);
    const signer1 = walletSigner({ ed25519Seed: id1.seed, publicKey: id1.publicKey, blsSecretKey: id1.bls, keyBinding: id1.binding });
    const { signature: _s, bytes: _b, id: _i, bodyKey: _k, ...unsigned } = proof;
    // A second, different proof from the same host: equivocation.
    const second = await signMessage(signer1, sim.genesis.networkId, { ...unsigned, count: proof.count + 1, timestampMs: proof.timestampMs + 1 });
    // The same commit body, stamped 1 ms later: not equivocation; the smaller id is used.
    const commit = messages.find((m) => m.kind === 'commit' && hex(m.sender) === sim.hosts[2]!.key)!;
    const { signature: _s2, bytes: _b2, id: _i2, bodyKey: _k2, ...commitUnsigned } = commit;
    const restamped = await signMessage(walletSigner(simKeys(2)), sim.genesis.networkId, { ...commitUnsigned, timestampMs: commit.timestampMs + 1 });
    const all = [...messages, decodeMessage(second.bytes), decodeMessage(restamped.bytes)];
    const expected = derive(all);
    expect(expected).not.toBe(reference);
    const d = deriveEpoch(sim.genesis, null, 0, all, sim.verifier);
    const h1 = hostOf(d.state, sim.hosts[1]!.publicKey)!;
    expect(h1.flags & Flag.equivocated).toBeTruthy();
    expect(h1.flags & Flag.fraud).toBeTruthy();
    expect(h1.weight).toBe(0);
    expect(hostOf(d.state, sim.hosts[2]!.publicKey)!.flags & Flag.withheld).toBeFalsy();
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), (order) => {
        expect(derive(order)).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('changes when a message is missing, and skips messages of another epoch or window', async () => {
    const withoutProof = messages.filter((m) => !(m.kind === 'proof' && hex(m.sender) === sim.hosts[0]!.key));
    expect(derive(withoutProof)).not.toBe(reference);
    // A message signed for epoch 1 or stamped outside its window changes nothing in epoch 0.
    const keys = simKeys(0);
    const signer = walletSigner(keys);
    const commit = messages.find((m) => m.kind === 'commit' && hex(m.sender) === sim.hosts[0]!.key)!;
    const other = await signMessage(signer, sim.genesis.networkId, { kind: 'commit', epoch: 1, sender: keys.publicKey, timestampMs: commit.timestampMs, commitment: new Uint8Array(32) });
    const late = await signMessage(signer, sim.genesis.networkId, { kind: 'commit', epoch: 0, sender: keys.publicKey, timestampMs: commit.timestampMs + 60_000, commitment: new Uint8Array(32) });
    expect(derive([...messages, other, late])).toBe(reference);
  });

  it('records the forger as fraud and the withholder as withheld, with consistent weights and rewards', () => {
    const d = deriveEpoch(sim.genesis, null, 0, messages, sim.verifier);
    const by = (name: string) => hostOf(d.state, sim.hosts.find((h) => h.name === name)!.publicKey)!;
    expect(by('forged').flags & Flag.fraud).toBeTruthy();
    expect(by('forged').weight).toBe(0);
    expect(by('withholder').flags & Flag.withheld).toBeTruthy();
    expect(by('withholder').weight).toBe(0);
    for (const name of ['honest-0', 'honest-1', 'honest-2']) {
      const h = by(name);
      expect(h.flags & Flag.accepted).toBeTruthy();
      expect(h.weight).toBe(h.accepted);
      expect(h.reputation).toBe(1);
      expect(h.epochFlops).toBe(BigInt(h.accepted) * 8n * 851_968n);
    }
    const minted = d.state.hosts.reduce((s, h) => s + h.reward, 0);
    expect(minted).toBeLessThanOrEqual(sim.genesis.epochReward);
    expect(minted).toBeGreaterThan(sim.genesis.epochReward * 0.99); // rounding dust only
    expect(stateHash(d.state)).toEqual(d.hash);
  });
});

function simKeys(index: number) {
  const id = simIdentity(index, sim.genesis.networkId);
  return { ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding };
}
