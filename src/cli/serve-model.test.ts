/**
 * Split inference into the ledger over real libp2p nodes on loopback: a volunteer host serving the
 * model (startModelService), a user node that runs a session and submits its proof, and a
 * validator host that holds the model. The proof and the verdict travel by gossip; both hosts'
 * ledgers credit the volunteer's FLOPs, identically.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../node/node-env.ts';
import { nodeTransport } from '../app/transport.ts';
import { generate } from '../llm/generate.ts';
import { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS, waitFor } from '../node/test-helpers.ts';
import { defaultRegistry, sprintTopic } from '../node/topics/index.ts';
import { hex } from '../protocol/bytes.ts';
import { walletSigner, walletVerifier, type Signer } from '../protocol/crypto.ts';
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import { openEpochGenesis } from '../app/split-test-support.ts';
import { ProtocolHost } from '../protocol/host.ts';
import { deriveEpoch, stateHash } from '../protocol/ledger.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { submitProof } from '../split/evidence.ts';
import { seedSigner } from '../split/local.ts';
import { encodeProof } from '../split/proof.ts';
import { testRig, type TestRig } from '../split/test-support.ts';
import { NodeTransport } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { startModelService, type ModelService } from './serve-model.ts';
import { announceHeadlessVolunteer } from './serve-announce.ts';
import { RequestError } from '../node/errors.ts';
import { decodeAnswer, encodeRequest } from '../split/codec.ts';
import { pingPeer } from '../split/ping.ts';

const NET = 'sprintnet-split-ledger';
const seed = (n: number) => new Uint8Array(32).fill(n);
let rig: TestRig;
let genesis: Genesis;
const nodes: SprintnetNode[] = [];
const services: ModelService[] = [];
const hosts: ProtocolHost[] = [];

async function node(n: number): Promise<SprintnetNode> {
  const identity = await identityFromEd25519Seed(seed(n));
  const x = await SprintnetNode.create({
    identity,
    role: 'host',
    label: `split-${n}`,
    registry: defaultRegistry(),
    config: { networkId: NET, listen: [LOOPBACK_WS], presenceIntervalMs: 500 },
  });
  await x.start();
  nodes.push(x);
  return x;
}

function signerOf(n: number): Signer {
  const id = simIdentity(0, NET); // any BLS binding: inference messages use only the Ed25519 key
  return walletSigner({ ed25519Seed: seed(n), publicKey: ed25519.getPublicKey(seed(n)), blsSecretKey: id.bls, keyBinding: id.binding });
}
const keyOf = (n: number) => ed25519.getPublicKey(seed(n));

/** A protocol host on a node that follows gossip (its schedule is not run: the test derives epoch 0 itself). */
function ledgerOn(x: SprintnetNode, n: number) {
  const transport = nodeTransport(x, genesis);
  const host = new ProtocolHost({
    genesis,
    signer: signerOf(n),
    verifier: walletVerifier(),
    transport,
    store: new MemoryStore(),
    random: (b) => crypto.getRandomValues(new Uint8Array(b)),
    clock: {
      now: Date.now,
      setTimer: (at, fn) => {
        const t = setTimeout(fn, at - Date.now());
        return () => clearTimeout(t);
      },
    },
    engine: { search: async () => ({ found: [], tried: 0, nextNonce: 0 }), evaluate: async () => [] },
  });
  transport.subscribe((_topic, bytes) => host.receive(bytes, 'gossip'));
  hosts.push(host);
  return {
    genesis,
    host,
    signer: signerOf(n),
    publish: (topic: Parameters<typeof transport.publish>[0], bytes: Uint8Array) => transport.publish(topic, bytes),
    now: Date.now,
  };
}

beforeAll(async () => {
  rig = await testRig();
  const [v, u, w] = await Promise.all([node(80), node(81), node(82)]);
  // Epoch 0 began a second ago; the volunteer (80) and the validator (82) hold weight, the user (81) none.
  genesis = openEpochGenesis(NET, [keyOf(80), keyOf(82)]);
  const held = { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm };
  for (const [x, n] of [
    [v, 80],
    [w, 82],
  ] as const) {
    services.push(await startModelService({ node: x, ed25519Seed: seed(n), held, networkId: NET, ledger: ledgerOn(x, n), log: () => {}, judgeEveryMs: 200 }));
  }
  const ws = (x: SprintnetNode) => multiaddr(x.multiaddrs().find((m) => m.includes('/ws/'))!);
  await Promise.all([u.libp2p.dial(ws(v)), w.libp2p.dial(ws(v)), w.libp2p.dial(ws(u))]);
  await waitFor(
    () =>
      v.meshPeers(sprintTopic('inference-proof', genesisId(genesis))).length >= 1 &&
      w.meshPeers(sprintTopic('sprint-validation', genesisId(genesis))).length >= 1,
    15_000,
    'gossip meshes',
  );
}, 120_000);

afterAll(async () => {
  services.forEach((s) => s.stop());
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('split inference credited by the ledger over libp2p', () => {
  it('a session through the headless volunteer is submitted, gossiped, judged by the validator and credited on both hosts', async () => {
    const [v, u] = nodes;
    const transport = new NodeTransport(u!, v!.peerId);
    const prompt = rig.prompts[5]!;
    const out = await splitGenerate(prompt, {
      model: rig.model,
      k: 3,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [transport],
      thresholds: rig.calibration,
      signer: seedSigner(seed(81)),
      networkId: NET,
      maxTokens: 10,
      eosTokenIds: [],
    });
    expect(out.tokens).toEqual((await generate(rig.model, prompt, { maxTokens: 10, eosTokenIds: [] })).tokens);
    const proof = out.segments[0]!.proof!;
    expect(await submitProof(transport, encodeProof(proof))).toBe('published for epoch 0');
    const [, validator] = services;
    await waitFor(() => validator!.verdicts.size === 1 && [...validator!.verdicts.values()][0] !== 'pending', 30_000, 'the validator’s verdict');
    expect([...validator!.verdicts.values()]).toEqual(['consistent']);
    // The verdict reached the volunteer's host by gossip too.
    await waitFor(() => hosts.every((h) => h.pool.messages(0).some((m) => m.kind === 'inferenceVerdict')), 15_000, 'the verdict on both hosts');
    const derived = hosts.map((h) => deriveEpoch(genesis, null, 0, h.pool.messages(0), walletVerifier()));
    for (const d of derived) {
      const rec = d.state.hosts.find((x) => hex(x.publicKey) === hex(keyOf(80)))!;
      expect(rec.inferenceFlops).toBe(proof.receipt.flops);
      expect(rec.inferenceSessions).toBe(1);
      expect(d.inference.map((r) => r.outcome)).toEqual(['credited']);
    }
    expect(hex(stateHash(derived[0]!.state))).toBe(hex(stateHash(derived[1]!.state)));
  }, 90_000);

  it('gives evidence to weighted peers only, and refuses a proof of a session the volunteer never closed', async () => {
    const [v, u, w] = nodes;
    const { fetchEvidence } = await import('../split/evidence.ts');
    const { decodeProof } = await import('../split/proof.ts');
    const hostV = hosts[0]!;
    const m = hostV.pool.messages(0).find((x) => x.kind === 'inference')!;
    const p = decodeProof((m as { proof: Uint8Array }).proof);
    // The user (no weight) is refused; the validator (weight 1) gets it.
    await expect(fetchEvidence(new NodeTransport(u!, v!.peerId), p, [p.receipt.steps.length - 1])).rejects.toThrow(/validators only/);
    const ev = await fetchEvidence(new NodeTransport(w!, v!.peerId), p, [p.receipt.steps.length - 1]);
    expect(ev.hk.length).toBe(p.receipt.steps.length);
    // Submitting a proof whose receipt the volunteer did not sign for this user is refused.
    const other = { ...p, receipt: { ...p.receipt, sessionId: new Uint8Array(16) } };
    await expect(
      submitProof(new NodeTransport(u!, v!.peerId), encodeProof({ ...other, receiptBytes: p.receiptBytes.map((b, i) => (i === 1 ? b ^ 1 : b)) })),
    ).rejects.toThrow(/no closed session/);
  }, 30_000);

  it('stop() takes down what start put up: after it a session call, a session frame and (with the announcement stopped) a ping are refused', async () => {
    const [, u, w] = nodes;
    const held = { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm };
    const announced = await announceHeadlessVolunteer({
      node: w!,
      held,
      ed25519Seed: seed(82),
      networkId: NET,
      openSessions: () => services[1]!.volunteer.openSessions,
      label: 'test',
      log: () => {},
    });
    const ping = () => pingPeer(u!, w!.peerId, { networkId: NET, modelHash: rig.hash, k: 3 });
    const open = encodeRequest({ kind: 'open', sessionId: new Uint8Array(16).fill(5), modelHash: rig.hash, k: 3, maxContext: 32 });
    const transport = new NodeTransport(u!, w!.peerId, 5_000);
    // Served before: the open is answered, a frame of no session is refused in the clear, the ping answered.
    expect(decodeAnswer(await transport.call(open)).kind).toBe('opened');
    expect(decodeAnswer(await transport.callSession(new Uint8Array(64))).kind).toBe('error');
    expect((await ping()).sessionLimit).toBeGreaterThan(0);

    // What host.ts does on shutdown.
    announced.stop();
    await services[1]!.stop();
    await expect(transport.call(open)).rejects.toBeInstanceOf(RequestError);
    await expect(transport.callSession(new Uint8Array(64))).rejects.toBeInstanceOf(RequestError);
    // serve-announce's stop does not wait for its unhandle.
    let refused: unknown = null;
    for (const until = Date.now() + 5_000; !(refused instanceof RequestError) && Date.now() < until;)
      refused = await ping().then(
        () => null,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(RequestError);
  }, 30_000);
});
