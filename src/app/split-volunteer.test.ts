/**
 * The page volunteer (startPageVolunteer) on a stand-in node whose request handlers the test calls
 * directly: it serves a keyed session (steps and close as frames on split-session) and a per-call
 * one, counts both the same way, and stop() takes down everything start registered.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import type { SprintnetNode } from '../node/node.ts';
import type { RequestHandler } from '../node/reqresp.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME } from '../split/constants.ts';
import { seedSigner } from '../split/local.ts';
import { PING_RPC_NAME } from '../split/ping.ts';
import { NETWORK, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import type { SplitTransport } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { startPageVolunteer, type VolunteerStats } from './split-volunteer.ts';
import { fakeWorker } from './split-test-support.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const USER = seedOf(21);
const VOLUNTEER = seedOf(22);

function stubNode(peerId: string) {
  const handlers = new Map<string, RequestHandler>();
  const node = {
    peerId,
    config: { presenceIntervalMs: 60_000, networkId: NETWORK },
    handle: async (name: string, h: RequestHandler) => void handlers.set(name, h),
    unhandle: async (name: string) => void handlers.delete(name),
    publish: async () => undefined,
  };
  return { node: node as unknown as SprintnetNode, handlers };
}

describe('the page volunteer', () => {
  it('serves a keyed session as frames and a per-call one, counts both alike, and stop() unregisters every protocol', async () => {
    const [vid, uid] = await Promise.all([identityFromEd25519Seed(VOLUNTEER), identityFromEd25519Seed(USER)]);
    const { node, handlers } = stubNode(vid.peerId);
    const sim = simIdentity(0, NETWORK);
    let stats: VolunteerStats | null = null;
    const page = await startPageVolunteer({
      worker: fakeWorker(rig),
      node,
      identity: { ed25519Seed: VOLUNTEER, publicKey: vid.publicKey, blsSecretKey: sim.bls, keyBinding: sim.binding },
      networkId: NETWORK,
      genesis: null,
      mayFetchEvidence: () => false,
      onChange: (s) => (stats = s),
    });
    expect([...handlers.keys()].sort()).toEqual([PING_RPC_NAME, SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME].sort());
    const via = (name: string, bytes: Uint8Array) => {
      const h = handlers.get(name);
      if (!h) throw new Error(`${name} is not served`);
      return h(bytes, { peerId: uid.peerId, signal: new AbortController().signal } as never);
    };
    let frames = 0;
    const keyed: SplitTransport = {
      volunteerKey: vid.publicKey,
      label: 'page',
      call: (r) => via(SPLIT_RPC_NAME, r),
      callSession: (f) => (frames++, via(SPLIT_SESSION_RPC_NAME, f)),
    };
    const perCall: SplitTransport = { volunteerKey: vid.publicKey, label: 'page', call: (r) => via(SPLIT_RPC_NAME, r) };
    const run = (t: SplitTransport, prompt: number[]) =>
      splitGenerate(prompt, {
        model: rig.model,
        k: 4,
        privacy: 'allow-split',
        modelHash: rig.hash,
        volunteers: [t],
        thresholds: { ...rig.calibration, tau: 2, maxEntropy: 100 },
        signer: seedSigner(USER),
        networkId: NETWORK,
        maxTokens: 6,
        eosTokenIds: [],
      });

    const prompt = rig.prompts[4]!;
    const first = await run(keyed, prompt);
    expect(first.tokens).toEqual((await generate(rig.model, prompt, { maxTokens: 6, eosTokenIds: [] })).tokens);
    const steps1 = first.segments[0]!.steps.length;
    // Every step and the close went as frames: the page took the session key.
    expect(frames).toBe(steps1 + 1);
    expect(first.segments[0]!.proof).toBeTruthy();
    expect(stats).toMatchObject({ sessionsOpened: 1, sessionsServed: 1, stepsServed: steps1 });

    const second = await run(perCall, rig.prompts[5]!);
    expect(frames).toBe(steps1 + 1);
    expect(second.segments[0]!.proof).toBeTruthy();
    expect(stats).toMatchObject({ sessionsOpened: 2, sessionsServed: 2, stepsServed: steps1 + second.segments[0]!.steps.length });

    await page.stop();
    expect([...handlers.keys()]).toEqual([]);
  });
});
