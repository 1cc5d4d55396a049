import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { walletSigner } from './crypto.ts';
import { deriveEpoch, Flag, hostOf, stateHash } from './ledger.ts';
import { decodeMessage, signMessage, type Message, type ProofMessage } from './messages.ts';
import { hex } from './bytes.ts';
import { createSimulation, simIdentity, type Simulation } from './sim/simulate.ts';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Signer } from './crypto.ts';
import { genesisHash, makeGenesis, schedule } from './genesis.ts';
import { InferenceVerdict } from './inference-constants.ts';
import { judgeInference, signInference, signVerdict, type HeldModel } from './inference-check.ts';
import { fixtureProof } from './inference-fixtures.ts';
import { inWindow } from './windows.ts';
import { localVolunteer, seedSigner as splitSeedSigner } from '../split/local.ts';
import { decodeProof, encodeProof, signProof } from '../split/proof.ts';
import { testRig, type TestRig } from '../split/test-support.ts';
import { splitGenerate } from '../split/user.ts';
import type { Evidence } from '../split/verify.ts';

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
    const second = await signMessage(signer1, sim.genesis, { ...unsigned, count: proof.count + 1, timestampMs: proof.timestampMs + 1 });
    // The same commit body, stamped 1 ms later: not equivocation; the smaller id is used.
    const commit = messages.find((m) => m.kind === 'commit' && hex(m.sender) === sim.hosts[2]!.key)!;
    const { signature: _s2, bytes: _b2, id: _i2, bodyKey: _k2, ...commitUnsigned } = commit;
    const restamped = await signMessage(walletSigner(simKeys(2)), sim.genesis, { ...commitUnsigned, timestampMs: commit.timestampMs + 1 });
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
    const other = await signMessage(signer, sim.genesis, {
      kind: 'commit',
      epoch: 1,
      sender: keys.publicKey,
      timestampMs: commit.timestampMs,
      commitment: new Uint8Array(32),
    });
    const late = await signMessage(signer, sim.genesis, {
      kind: 'commit',
      epoch: 0,
      sender: keys.publicKey,
      timestampMs: commit.timestampMs + 60_000,
      commitment: new Uint8Array(32),
    });
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

describe('carry-over: an epoch in which nobody earned weight (§9)', () => {
  const by = (d: ReturnType<typeof deriveEpoch>, name: string) => hostOf(d.state, sim.hosts.find((h) => h.name === name)!.publicKey)!;
  const named = ['honest-0', 'honest-1', 'honest-2', 'forged', 'withholder'];

  it('with no verdict at all, keeps the voting weight of every weighted host that revealed, and credits and pays nothing', () => {
    // Every host away through the validation window: the proofs are there, no verdict is.
    const d = deriveEpoch(
      sim.genesis,
      null,
      0,
      messages.filter((m) => m.kind !== 'validation'),
      sim.verifier,
    );
    for (const name of named.filter((n) => n !== 'withholder')) {
      const h = by(d, name);
      expect(h.votingWeight, name).toBe(1); // open join: one per committer
      expect(h.weight, name).toBe(1); // without the rule: 0, and nobody could validate or certify again
      expect(h.flags, name).toBe(Flag.carried | Flag.unvalidated);
      expect([h.accepted, h.reward, h.reputation, h.epochFlops], name).toEqual([0, 0, 0, 0n]);
    }
    expect(by(d, 'withholder').flags).toBe(Flag.withheld | Flag.unvalidated);
    expect(by(d, 'withholder').weight).toBe(0);
  });

  it('ends as soon as one claim earns weight: the unvalidated claims then get none', () => {
    const one = messages.filter((m) => m.kind === 'validation')[0]!;
    const d = deriveEpoch(sim.genesis, null, 0, [...messages.filter((m) => m.kind !== 'validation'), one], sim.verifier);
    const judged = new Set(d.tallies.keys());
    expect(judged.size).toBeGreaterThan(0);
    for (const name of named) {
      const h = by(d, name);
      expect(h.flags & Flag.carried, name).toBe(0);
      if (!judged.has(hex(h.publicKey))) expect(h.weight, name).toBe(0);
    }
    expect(d.state.hosts.some((h) => h.flags & Flag.accepted && h.weight > 0)).toBe(true);
  });

  it('applies when verdicts count but accept nothing, and never to a host they found lying', () => {
    // Only the forger's proof is left: the validators catch it, and nobody else claimed anything.
    const forger = sim.hosts.find((h) => h.name === 'forged')!.key;
    const d = deriveEpoch(
      sim.genesis,
      null,
      0,
      messages.filter((m) => m.kind !== 'proof' || hex(m.sender) === forger),
      sim.verifier,
    );
    expect(d.tallies.get(forger)?.validators).toBeGreaterThan(0);
    expect(by(d, 'forged').flags & Flag.fraud).toBeTruthy();
    expect(by(d, 'forged').weight).toBe(0);
    for (const name of ['honest-0', 'honest-1', 'honest-2']) {
      expect(by(d, name).flags, name).toBe(Flag.carried);
      expect(by(d, name).weight, name).toBe(1);
    }
  });

  it("when every weighted host withheld, keeps every weight but an equivocator's", async () => {
    // A second proof body from honest-2: it equivocated (fraud), which no carry-over forgives.
    const proof = messages.find((m): m is ProofMessage => m.kind === 'proof' && hex(m.sender) === sim.hosts[2]!.key)!;
    const { signature: _s, bytes: _b, id: _i, bodyKey: _k, ...unsigned } = proof;
    const second = await signMessage(walletSigner(simKeys(2)), sim.genesis, { ...unsigned, count: proof.count + 1 });
    const noReveal = messages.filter((m) => m.kind !== 'validation' && m.kind !== 'reveal');
    const d = deriveEpoch(sim.genesis, null, 0, [...noReveal, decodeMessage(second.bytes)], sim.verifier);
    for (const name of ['honest-0', 'honest-1', 'forged', 'withholder']) {
      expect(by(d, name).flags & (Flag.withheld | Flag.carried), name).toBe(Flag.withheld | Flag.carried); // its proof: wrongSeed
      expect(by(d, name).weight, name).toBe(1);
    }
    expect(by(d, 'honest-2').flags).toBe(Flag.withheld | Flag.equivocated | Flag.fraud);
    expect(by(d, 'honest-2').weight).toBe(0);
  });
});

function simKeys(index: number) {
  const id = simIdentity(index, sim.genesis.networkId);
  return { ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding };
}

describe('split-inference credit in the ledger', () => {
  const USER = new Uint8Array(32).fill(91);
  const VOLUNTEER = new Uint8Array(32).fill(92);
  let proofBytes: Uint8Array;
  let flops: bigint;
  let evidence: Evidence;
  let rig: TestRig;
  let at: ReturnType<typeof schedule>;

  const held = (): HeldModel => ({ record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm });
  const seedSigner = (seed: Uint8Array): Signer =>
    walletSigner({
      ed25519Seed: seed,
      publicKey: ed25519.getPublicKey(seed),
      blsSecretKey: new Uint8Array(32).fill(1),
      keyBinding: simIdentity(0, sim.genesis.networkId).binding,
    });
  const inferenceFrom = (seed: Uint8Array, proof: Uint8Array, epoch = 0, t = at.start + 500) =>
    signMessage(seedSigner(seed), sim.genesis, { kind: 'inference', epoch, sender: ed25519.getPublicKey(seed), timestampMs: t, proof });
  /** Verdicts of weighted sim hosts, each from its own judgement (its own sample) of the proof. */
  async function verdicts(proof: Uint8Array, hosts: number[], o: { evidence?: Evidence; epoch?: number } = {}): Promise<Message[]> {
    const out: Message[] = [];
    for (const i of hosts) {
      const keys = simKeys(i);
      const j = await judgeInference(proof, {
        genesis: sim.genesis,
        verifier: sim.verifier,
        seed: keys.publicKey,
        model: () => held(),
        evidence: async () => o.evidence ?? evidence,
      });
      expect(j).not.toBeNull();
      out.push(await signVerdict(walletSigner(keys), sim.genesis, o.epoch ?? 0, proof, j!, at.proofEnd + 100));
    }
    return out;
  }
  const volunteerOf = (d: {
    state: { hosts: readonly { publicKey: Uint8Array; inferenceFlops: bigint; totalInferenceFlops: bigint; inferenceSessions: number }[] };
  }) => d.state.hosts.find((h) => hex(h.publicKey) === hex(ed25519.getPublicKey(VOLUNTEER)));

  beforeAll(async () => {
    at = schedule(sim.genesis, 0);
    rig = await testRig();
    const v = localVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      networkId: sim.genesis.networkId,
      genesis: genesisHash(sim.genesis),
      userSeed: USER,
      seed: VOLUNTEER,
      now: () => at.start + 100,
    });
    const out = await splitGenerate(rig.prompts[2]!, {
      model: rig.model,
      k: 4,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [v.link],
      thresholds: rig.calibration,
      signer: splitSeedSigner(USER),
      networkId: sim.genesis.networkId,
      maxTokens: 12,
      eosTokenIds: [],
      now: () => at.start + 400,
    });
    const seg = out.segments[0]!;
    proofBytes = encodeProof(seg.proof!);
    flops = seg.proof!.receipt.flops;
    evidence = seg.evidence;
  }, 120_000);

  it('credits a verified proof to its volunteer, the same in every order and with repeated copies (property)', async () => {
    const published = [await inferenceFrom(VOLUNTEER, proofBytes), await inferenceFrom(USER, proofBytes)];
    const all = [...messages, ...published, ...(await verdicts(proofBytes, [0, 1]))];
    const d = deriveEpoch(sim.genesis, null, 0, all, sim.verifier);
    const v = volunteerOf(d)!;
    expect(v.inferenceFlops).toBe(flops);
    expect(v.totalInferenceFlops).toBe(flops);
    expect(v.inferenceSessions).toBe(1);
    expect(d.inference.map((r) => r.outcome)).toEqual(['credited']);
    // The Sprint part of the state is untouched: the same hosts, weights and rewards as without inference.
    const plain = deriveEpoch(sim.genesis, null, 0, messages, sim.verifier);
    expect(d.state.hosts.filter((h) => h !== v).map((h) => [hex(h.publicKey), h.weight, h.reward])).toEqual(
      plain.state.hosts.map((h) => [hex(h.publicKey), h.weight, h.reward]),
    );
    const expected = hex(d.hash);
    expect(expected).not.toBe(reference);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.nat(all.length - 1), { maxLength: 6 }),
        (order, dups) => {
          expect(derive([...order, ...dups.map((i) => all[i]!)])).toBe(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('credits nothing for a tampered, re-signed, replayed, unvalidated or inconsistent proof', async () => {
    const net = sim.genesis.networkId;
    const outcome = async (extra: Message[]) => {
      const d = deriveEpoch(sim.genesis, null, 0, [...messages, ...extra], sim.verifier);
      expect(volunteerOf(d)?.inferenceFlops ?? 0n).toBe(0n);
      return d.inference.map((r) => r.outcome);
    };
    // Tampered: one byte of the receipt (its FLOPs) changed after both signed it.
    const tampered = proofBytes.slice();
    tampered[tampered.length - 64 - 8 - 64 - 4 - 1]! ^= 1;
    expect(await outcome([await inferenceFrom(VOLUNTEER, tampered)])).toEqual(['bad-signature']);
    // The same receipt signed again by the user with another timestamp: two proofs of one session.
    const p = decodeProof(proofBytes);
    const again = encodeProof(await signProof(splitSeedSigner(USER), net, p.receiptBytes, p.receiptSignature, p.timestampMs + 1));
    expect(
      await outcome([
        await inferenceFrom(VOLUNTEER, proofBytes),
        await inferenceFrom(VOLUNTEER, again),
        ...(await verdicts(proofBytes, [0, 1])),
        ...(await verdicts(again, [0, 1])),
      ]),
    ).toEqual(['conflicting', 'conflicting']);
    // No verdict from anyone with weight, or only the volunteer's own.
    expect(await outcome([await inferenceFrom(VOLUNTEER, proofBytes)])).toEqual(['unvalidated']);
    // A majority of the judging weight found it inconsistent (evidence whose logits were altered).
    const lied = { ...evidence, logits: new Map([...evidence.logits].map(([i, b]) => [i, b.map((x, j) => (j === 0 ? x ^ 0x40 : x))])) };
    const bad = await verdicts(proofBytes, [0, 1], { evidence: lied });
    expect(bad.every((m) => m.kind === 'inferenceVerdict' && m.verdict === InferenceVerdict.inconsistent)).toBe(true);
    expect(await outcome([await inferenceFrom(VOLUNTEER, proofBytes), ...bad, ...(await verdicts(proofBytes, [2]))])).toEqual(['rejected']);
    // Replayed in the next epoch: credited once in epoch 0, nothing more in epoch 1.
    const e0 = deriveEpoch(
      sim.genesis,
      null,
      0,
      [...messages, await inferenceFrom(VOLUNTEER, proofBytes), ...(await verdicts(proofBytes, [0, 1]))],
      sim.verifier,
    );
    const s1 = schedule(sim.genesis, 1);
    const replayed = await inferenceFrom(VOLUNTEER, proofBytes, 1, s1.start + 10);
    expect(inWindow(sim.genesis, 'inference', 1, replayed.timestampMs)).toBe(true); // the message is on time; the proof inside is not
    const e1 = deriveEpoch(sim.genesis, e0.state, 1, [replayed, ...(await verdicts(proofBytes, [0, 1], { epoch: 1 }))], sim.verifier);
    expect(e1.inference.map((r) => r.outcome)).toEqual(['out-of-window']);
    expect(volunteerOf(e1)!.inferenceFlops).toBe(0n);
    expect(volunteerOf(e1)!.totalInferenceFlops).toBe(flops);
  });

  it('credits a session in the one genesis its receipt names, not in a second genesis of the same network id', async () => {
    // Another genesis of the same network id and schedule (each relay/start run makes one), whose initial weights are hosts 0–2.
    const g = sim.genesis;
    const other = makeGenesis({
      ...g,
      initialWeights: [0, 1, 2].map((i) => ({ publicKey: simKeys(i).publicKey, weight: 1 })),
    });
    expect(other.networkId).toBe(g.networkId);
    expect(hex(genesisHash(other))).not.toBe(hex(genesisHash(g)));
    // The volunteer named its genesis in the receipt, and both parties signed it.
    expect(hex(decodeProof(proofBytes).receipt.genesis)).toBe(hex(genesisHash(g)));
    const credited = deriveEpoch(g, null, 0, [...messages, await inferenceFrom(VOLUNTEER, proofBytes), ...(await verdicts(proofBytes, [0, 1]))], sim.verifier);
    expect(credited.inference.map((r) => r.outcome)).toEqual(['credited']);

    // The volunteer submits the same signed session to the other genesis.
    await expect(signInference(seedSigner(VOLUNTEER), other, proofBytes, at.start + 500)).rejects.toMatchObject({ code: 'BAD_GENESIS' });
    const resubmitted = await signMessage(seedSigner(VOLUNTEER), other, {
      kind: 'inference',
      epoch: 0,
      sender: ed25519.getPublicKey(VOLUNTEER),
      timestampMs: at.start + 500,
      proof: proofBytes,
    });
    // A validator of the other genesis judges it invalid without re-running anything…
    const judged = await judgeInference(proofBytes, {
      genesis: other,
      verifier: sim.verifier,
      seed: simKeys(0).publicKey,
      model: () => held(),
      evidence: async () => evidence,
    });
    expect(judged).toMatchObject({ verdict: InferenceVerdict.invalid, checked: 0, detail: expect.stringMatching(/^wrong-genesis/) });
    // …and its ledger credits nothing even when weighted validators sign it consistent there (a re-run does agree).
    const consistent = await judgeInference(proofBytes, {
      genesis: g,
      verifier: sim.verifier,
      seed: simKeys(0).publicKey,
      model: () => held(),
      evidence: async () => evidence,
    });
    expect(consistent?.verdict).toBe(InferenceVerdict.consistent);
    const verdictsThere = await Promise.all([0, 1].map((i) => signVerdict(walletSigner(simKeys(i)), other, 0, proofBytes, consistent!, at.proofEnd + 100)));
    const there = deriveEpoch(other, null, 0, [resubmitted, ...verdictsThere], sim.verifier);
    expect(there.inference.map((r) => r.outcome)).toEqual(['wrong-genesis']);
    expect(volunteerOf(there)?.inferenceFlops ?? 0n).toBe(0n);
    // A host of either genesis refuses the proof of the other on receipt.
    const host = sim.hosts[0]!.host;
    const refused = host.counters.rejected.BAD_GENESIS ?? 0;
    const foreign = await fixtureProof({
      userSeed: USER,
      volunteerSeed: VOLUNTEER,
      genesis: g,
      names: genesisHash(other),
      openedAtMs: at.start + 10,
      timestampMs: at.start + 20,
    });
    expect(host.receive((await inferenceFrom(VOLUNTEER, foreign)).bytes, 'sync')).toBeNull();
    expect(host.counters.rejected.BAD_GENESIS).toBe(refused + 1);
  });
});
