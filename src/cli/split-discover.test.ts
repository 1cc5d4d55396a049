/**
 * The CLI user without --peer, over real libp2p nodes and an in-process relay: two headless
 * volunteers announce themselves (serve-announce.ts, as `host --serve-model` does), the user hears
 * them, pings and ranks them (the weighted one first), splits with the first, and when the first
 * dies mid-generation the second takes over from the h_k history. And the bounded wait's typed refusal.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadReference } from '../llm/loader.ts';
import { generate } from '../llm/generate.ts';
import { SprintnetNode } from '../node/node.ts';
import { startRelay, type RunningRelay } from '../node/relay-server.ts';
import { waitFor } from '../node/test-helpers.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { listenForVolunteers, NO_ANNOUNCED_GENESIS, VolunteerDirectory } from '../split/announce.ts';
import { isSplitError } from '../split/errors.ts';
import { seedSigner } from '../split/local.ts';
import { NETWORK, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import { serveSplit } from '../split/transport.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { runSplitInference } from './infer-split.ts';
import { announceHeadlessVolunteer, type HeadlessAnnouncement } from './serve-announce.ts';
import { discoverVolunteers, rankingLine, rankingRow } from './split-discover.ts';

let rig: TestRig;
let relay: RunningRelay;
const volunteers: Array<{ node: SprintnetNode; volunteer: SplitVolunteer; announced: HeadlessAnnouncement; key: string }> = [];

async function headlessVolunteer(seedByte: number) {
  const identity = await identityFromEd25519Seed(seedOf(seedByte));
  const node = await SprintnetNode.create({
    identity,
    role: 'host',
    registry: defaultRegistry(),
    config: { networkId: NETWORK, relays: [relay.multiaddr], listen: [], presenceIntervalMs: 500 },
  });
  await node.start();
  const volunteer = new SplitVolunteer({
    model: rig.model,
    lowestK: 1,
    modelHash: rig.hash,
    normWeight: rig.norm,
    signer: seedSigner(seedOf(seedByte)),
    networkId: NETWORK,
  });
  await serveSplit(node, volunteer);
  const announced = await announceHeadlessVolunteer({
    node,
    held: { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm },
    ed25519Seed: seedOf(seedByte),
    networkId: NETWORK,
    openSessions: () => volunteer.openSessions,
    label: `headless ${seedByte}`,
    log: () => undefined,
  });
  // Reachable through the relay once it holds a reservation there.
  await waitFor(() => node.multiaddrs().some((m) => m.includes('/p2p-circuit')), 20_000, 'a relay reservation');
  volunteers.push({ node, volunteer, announced, key: bytesToHex(identity.publicKey) });
  return volunteers[volunteers.length - 1]!;
}

beforeAll(async () => {
  rig = await testRig();
  relay = await startRelay({ port: 0, config: { networkId: NETWORK, presenceIntervalMs: 500 } });
}, 60_000);

afterAll(async () => {
  for (const v of volunteers) v.announced.stop();
  await Promise.all([...volunteers.map((v) => v.node.stop()), relay?.stop()]);
});

describe('infer --split with --relay and no --peer', () => {
  it('hears the headless volunteers, ranks them, splits with the best and fails over to the next when it dies', async () => {
    const [a, b] = [await headlessVolunteer(111), await headlessVolunteer(112)];
    // A directory elsewhere on the network sees both headless announcements, with the measured rate.
    const directory = new VolunteerDirectory();
    listenForVolunteers(relay.node, directory);
    await waitFor(() => directory.forModel(rig.hash, 4).length === 2, 20_000, 'both announcements');
    for (const v of [a, b]) {
      const listed = directory.forModel(rig.hash, 4).find((l) => l.peerId === v.node.peerId)!;
      expect(v.announced.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(listed.announcement).toMatchObject({ lowestK: 1, highestK: 7, numLayers: 8, decodeTokensPerSecond: v.announced.decodeTokensPerSecond });
      expect(listed.announcement.genesis).toEqual(NO_ANNOUNCED_GENESIS); // no --genesis: its receipts name none
    }

    const { manifest } = await loadReference(rig.source);
    const prompt = rig.prompts[0]!;
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    let decodeSteps = 0;
    let code: number;
    try {
      code = await runSplitInference({
        model: rig.model,
        source: rig.source,
        manifest,
        tokenizer: rig.tokenizer,
        prompt,
        k: 4,
        maxTokens: 12,
        temperature: 0,
        topP: 1,
        seed: 0,
        precision: 'f32',
        noise: 0,
        thresholds: { tau: 1e9, maxEntropy: 1e9 },
        json: true,
        // B is weighted in the ledger the user knows, so it ranks first whatever the step times.
        remote: {
          relays: [relay.multiaddr],
          networkId: NETWORK,
          waitMs: 20_000,
          standing: (key) => (key === b.key ? { weight: 3, votingWeight: 3, reputation: 0, flags: [] } : undefined),
        },
        onStep: (s) => {
          if (s.phase === 'decode' && ++decodeSteps === 4) void b.node.stop();
        },
      });
    } finally {
      write.mockRestore();
    }
    const r = JSON.parse(out.join(''));
    expect(r.ranking.map((v: { peer_id: string; tier: string }) => [v.peer_id, v.tier])).toEqual([
      [b.node.peerId, 'weighted'],
      [a.node.peerId, 'unweighted'],
    ]);
    for (const v of r.ranking) {
      expect(v.rtt_ms).toBeGreaterThan(0);
      expect(v.step_ms).toBeGreaterThan(v.rtt_ms); // the round trip plus the volunteer's own step time
      expect(v).toMatchObject({ open_sessions: 0, session_limit: 16, problem: null, inference_score: 0 });
    }
    expect(r.switches).toBe(1);
    expect(r.served).toHaveLength(2);
    expect(r.volunteer).toBe(`volunteer ${a.node.peerId.slice(-8)}`);
    expect(r.verification).toMatchObject({ verified: true });
    expect(code!).toBe(0);
    // The failover rebuilt the cache: the text equals unsplit greedy decoding.
    const local = await generate(rig.model, prompt, { maxTokens: 12, temperature: 0, topP: 1, seed: 0, tokenizer: rig.tokenizer });
    expect(r.text).toBe(local.text);
    expect(a.announced.pings.answered).toBe(2); // two pings each (the first also opens the stream), no session before its turn
  }, 120_000);

  it('with an inference score lookup, a volunteer with inconsistent sessions ranks below a clean one of the same tier', async () => {
    const a = volunteers[0]!; // still serving after the test above
    const c = await headlessVolunteer(113);
    const discover = (bad: string) =>
      discoverVolunteers({
        node: relay.node, // connected to both through their reservations
        relays: [],
        modelHash: rig.hash,
        k: 4,
        waitMs: 10_000,
        standing: () => undefined,
        inferenceScore: (key) => (key === bad ? -1 : 0),
        prefixTokensPerSecond: null,
      });
    for (const [bad, good] of [
      [a, c],
      [c, a],
    ] as const) {
      const found = await discover(bad.key);
      expect(found.order).toEqual([good.node.peerId, bad.node.peerId]);
      expect(found.ranked.map(rankingRow).map((r) => [r.tier, r.inference_score])).toEqual([
        ['unweighted', 0],
        ['unweighted', -1],
      ]);
      expect(rankingLine(found.ranked[1]!, 1)).toContain('inference score -1');
    }
  }, 60_000);

  it('stops listening after the bounded wait with a typed refusal when no volunteer serves the model', async () => {
    const start = Date.now();
    const e = await discoverVolunteers({
      node: relay.node,
      relays: [],
      modelHash: new Uint8Array(32).fill(3),
      k: 4,
      waitMs: 1_500,
      standing: () => undefined,
      prefixTokensPerSecond: null,
    }).catch((x: unknown) => x);
    expect(isSplitError(e, 'NO_VOLUNTEER')).toBe(true);
    expect((e as Error).message).toMatch(/no volunteer announced model 0303030303030303… for k = 4 within 2 s/);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});
