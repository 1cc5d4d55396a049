/**
 * The page's user against the page's volunteer over two real libp2p nodes (loopback websockets):
 * runSplitInference and startPageVolunteer as the browser runs them, on the in-process test model.
 * The session is keyed (steps and close on split-session) and every request, frames' plaintext
 * included, reaches the plaintext observer before it is sealed.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../node/node-env.ts';
import { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS } from '../node/test-helpers.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { decodeRequest, type SplitRequest } from '../split/codec.ts';
import { SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME } from '../split/constants.ts';
import { PING_RPC_NAME } from '../split/ping.ts';
import { fastTimings, genesisId, makeGenesis } from '../protocol/genesis.ts';
import { sprintTopicSpecs } from '../node/topics/index.ts';
import { NETWORK, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { observeSplitPlaintext, runSplitInference } from './split-user.ts';
import { startPageVolunteer, type PageVolunteer, type VolunteerStats } from './split-volunteer.ts';
import { fakeWorker } from './split-test-support.ts';

let rig: TestRig;
const nodes: SprintnetNode[] = [];
let page: PageVolunteer | undefined;

async function node(seed: Uint8Array): Promise<SprintnetNode> {
  const identity = await identityFromEd25519Seed(seed);
  const x = await SprintnetNode.create({
    identity,
    role: 'host',
    registry: defaultRegistry(),
    config: { networkId: NETWORK, listen: [LOOPBACK_WS], presenceIntervalMs: 60_000 },
  });
  await x.start();
  nodes.push(x);
  return x;
}

beforeAll(async () => {
  rig = await testRig();
}, 60_000);

afterAll(async () => {
  observeSplitPlaintext(null);
  await page?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('the browser split over libp2p', () => {
  it('keys the session with the page volunteer, and the observer sees every request as plaintext, the keyed steps and close included', async () => {
    const [userSeed, volunteerSeed] = [seedOf(31), seedOf(32)];
    const [u, v] = await Promise.all([node(userSeed), node(volunteerSeed)]);
    const vid = await identityFromEd25519Seed(volunteerSeed);
    const sim = simIdentity(0, NETWORK);
    let stats: VolunteerStats | null = null;
    page = await startPageVolunteer({
      worker: fakeWorker(rig),
      node: v,
      identity: { ed25519Seed: volunteerSeed, publicKey: vid.publicKey, blsSecretKey: sim.bls, keyBinding: sim.binding },
      networkId: NETWORK,
      genesis: null,
      mayFetchEvidence: () => false,
      onChange: (s) => (stats = s),
    });
    await u.libp2p.dial(multiaddr(v.multiaddrs().find((m) => m.includes('/ws/'))!));

    const seen: SplitRequest[] = [];
    let promptTokens: readonly number[] = [];
    observeSplitPlaintext((request, prompt) => {
      seen.push(decodeRequest(request));
      promptTokens = prompt;
    });
    const sent = vi.spyOn(u, 'request');
    const uid = await identityFromEd25519Seed(userSeed);
    const result = await runSplitInference({
      worker: fakeWorker(rig),
      node: u,
      identity: { publicKey: uid.publicKey, ed25519Seed: userSeed },
      networkId: NETWORK,
      relays: [],
      volunteers: [v.peerId],
      privacy: 'allow-split',
      k: 4,
      noise: 0,
      prompt: 'The secret word is pineapple',
      useChatTemplate: false,
      maxTokens: 6,
      temperature: 0,
      topP: 1,
    });
    expect(result.proofHex).not.toBeNull();
    // This volunteer runs no ledger of the network (no genesis): it says so instead of publishing.
    expect(result.submitted).toMatch(/genesis/);

    const calls = sent.mock.calls.map((c) => c[1]);
    const frames = calls.filter((n) => n === SPLIT_SESSION_RPC_NAME).length;
    // Open and submit per call (sealed by the node); every step and the close as frames (sealed by the user).
    expect(calls.filter((n) => n === SPLIT_RPC_NAME)).toHaveLength(2);
    expect(frames).toBeGreaterThan(2);
    expect(seen.map((m) => m.kind)).toEqual(['open', ...Array<string>(frames - 1).fill('step'), 'close', 'submit']);
    expect(seen[0]).toMatchObject({ kind: 'open', k: 4 });
    expect((seen[0] as Extract<SplitRequest, { kind: 'open' }>).sessionKey).toHaveLength(32);
    expect(promptTokens.length).toBeGreaterThan(2);
    expect(stats).toMatchObject({ sessionsOpened: 1, sessionsServed: 1, stepsServed: frames - 1 });
  }, 120_000);

  it('a volunteer start that fails half-way lets go of the genesis topics and the handlers it took, and of nothing else', async () => {
    const seed = seedOf(33);
    const v = await node(seed);
    const vid = await identityFromEd25519Seed(seed);
    const sim = simIdentity(0, NETWORK);
    const genesis = makeGenesis({
      networkId: NETWORK,
      config: 'tiny',
      hitRateDenominator: 16,
      startMs: Date.now(),
      skewMs: 100,
      timings: fastTimings(2000, 100),
    });
    const topics = () => v.pubsub.getTopics().filter((t) => t.includes(genesisId(genesis)));
    // Someone else on this node already answers pings: the volunteer's servePing fails after the split handlers and the transport are taken.
    await v.handle(PING_RPC_NAME, async () => new Uint8Array(0));
    const names = () => v.libp2p.getProtocols().join(' ');
    await expect(
      startPageVolunteer({
        worker: fakeWorker(rig),
        node: v,
        identity: { ed25519Seed: seed, publicKey: vid.publicKey, blsSecretKey: sim.bls, keyBinding: sim.binding },
        networkId: NETWORK,
        genesis,
        mayFetchEvidence: () => false,
      }),
    ).rejects.toThrow();
    expect(sprintTopicSpecs(genesisId(genesis)).length).toBeGreaterThan(0);
    expect(topics()).toEqual([]);
    expect(names()).not.toContain(SPLIT_RPC_NAME);
    expect(names()).not.toContain(SPLIT_SESSION_RPC_NAME);
    expect(names()).toContain(PING_RPC_NAME); // not ours to remove
  }, 60_000);
});
