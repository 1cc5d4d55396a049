/** split-ping: the codec, the volunteer's limits (rate, replay, table), the user's checks, and a round trip between two real libp2p nodes. */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../codec/binary.ts';
import type { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS } from '../node/test-helpers.ts';
import { SprintnetNode as Node } from '../node/node.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { seedSigner } from './local.ts';
import {
  decodePing,
  decodePingAnswer,
  encodePing,
  ping,
  PING_REQUEST_BYTES,
  PingError,
  pingPeer,
  PingServer,
  PONG_BYTES,
  servePing,
  stepMsFromRate,
  type PingServerOptions,
} from './ping.ts';
import { probeVolunteer } from './router.ts';
import { NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import { NodeTransport, serveSplit } from './transport.ts';
import { SplitVolunteer } from './volunteer.ts';

const HASH = new Uint8Array(32).fill(7);
const volunteerSigner = seedSigner(seedOf(91));
const userKey = seedSigner(seedOf(92)).publicKey;

function server(o: Partial<PingServerOptions> = {}) {
  return new PingServer({
    signer: volunteerSigner,
    networkId: NETWORK,
    modelHash: HASH,
    lowestK: 1,
    highestK: 7,
    load: () => ({ openSessions: 3, sessionLimit: 16 }),
    stepMs: (k) => 10 * (8 - k),
    ...o,
  });
}

/** The user's side straight against `s` (no network), with an optional tamper between them. */
const pingVia = (s: PingServer, tamper: (answer: Uint8Array, request: Uint8Array) => Uint8Array = (a) => a, k = 4) =>
  ping(async (request) => tamper(await s.handle(request, userKey), request), {
    volunteerKey: volunteerSigner.publicKey,
    userKey,
    networkId: NETWORK,
    modelHash: HASH,
    k,
  });

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof PingError ? e.code : `untyped: ${String(e)}`),
  );

describe('split-ping codec', () => {
  it('round-trips a ping and refuses other lengths, versions and k = 0', () => {
    const p = { nonce: new Uint8Array(16).fill(1), modelHash: HASH, k: 3 };
    const bytes = encodePing(p);
    expect(bytes.length).toBe(PING_REQUEST_BYTES);
    expect(decodePing(bytes)).toEqual(p);
    expect(() => decodePing(bytes.subarray(1))).toThrow(DecodeError);
    expect(() => decodePing(Uint8Array.from([...bytes, 0]))).toThrow(DecodeError);
    expect(() => decodePing(Uint8Array.from([2, ...bytes.subarray(1)]))).toThrow(DecodeError);
    const zeroK = bytes.slice();
    zeroK.set([0, 0], PING_REQUEST_BYTES - 2);
    expect(() => decodePing(zeroK)).toThrow(DecodeError);
  });
});

describe('the volunteer answers pings', () => {
  it('a pong carries its load and its step time for k, signed over this request', async () => {
    const s = server();
    const r = await pingVia(s);
    expect(r).toMatchObject({ openSessions: 3, sessionLimit: 16, stepMs: 40 });
    expect(r.rttMs).toBeGreaterThan(0);
    expect(s.answered).toBe(1);
  });

  it('an answer to another request (replayed), a forged nonce, an altered figure or another signer is rejected', async () => {
    const s = server({ burst: 100 });
    let old: Uint8Array | null = null;
    await pingVia(s, (a) => (old = a));
    expect(await refusal(pingVia(s, () => old!))).toBe('BAD_ANSWER'); // an earlier pong: its nonce is not ours
    const forgedNonce = (a: Uint8Array) => {
      const b = a.slice();
      b[2]! ^= 1;
      return b;
    };
    expect(await refusal(pingVia(s, forgedNonce))).toBe('BAD_ANSWER');
    // The right nonce, a better figure: the signature no longer covers it.
    const fasterClaim = (a: Uint8Array) => {
      const b = a.slice();
      new DataView(b.buffer).setFloat64(1 + 1 + 16 + 2 + 2, 0.5, true);
      return b;
    };
    expect(await refusal(pingVia(s, fasterClaim))).toBe('BAD_ANSWER');
    const impostor = server({ signer: seedSigner(seedOf(93)), burst: 100 });
    expect(await refusal(pingVia(impostor))).toBe('BAD_ANSWER');
    expect(await refusal(pingVia(s, (a) => a.subarray(0, PONG_BYTES - 1)))).toBe('BAD_ANSWER');
    expect(await pingVia(s)).toMatchObject({ stepMs: 40 }); // and the honest path still passes
  });

  it('refuses a nonce it has seen from the same user, but not from another', async () => {
    const s = server();
    const request = encodePing({ nonce: new Uint8Array(16).fill(5), modelHash: HASH, k: 2 });
    expect(decodePingAnswer(await s.handle(request, userKey)).kind).toBe('pong');
    expect(decodePingAnswer(await s.handle(request, userKey))).toMatchObject({ kind: 'refused', code: 'REPLAYED' });
    expect(decodePingAnswer(await s.handle(request, seedSigner(seedOf(94)).publicKey)).kind).toBe('pong');
  });

  it('rate-limits per user: a burst, then one per refill period; others are not affected', async () => {
    let now = 1_000_000;
    const s = server({ now: () => now, burst: 4, refillMs: 5_000 });
    for (let i = 0; i < 4; i++) await pingVia(s);
    const limited = await pingVia(s).catch((e: unknown) => e as PingError);
    expect(limited).toBeInstanceOf(PingError);
    expect((limited as PingError).code).toBe('RATE_LIMITED');
    expect((limited as PingError).retryAfterMs).toBe(5_000);
    const other = seedSigner(seedOf(95)).publicKey;
    const otherPing = encodePing({ nonce: new Uint8Array(16).fill(6), modelHash: HASH, k: 2 });
    expect(decodePingAnswer(await s.handle(otherPing, other)).kind).toBe('pong');
    now += 2_500;
    expect(await refusal(pingVia(s))).toBe('RATE_LIMITED');
    now += 2_500;
    expect(await pingVia(s)).toMatchObject({ openSessions: 3 });
    expect(await refusal(pingVia(s))).toBe('RATE_LIMITED');
    expect(s.answered).toBe(6);
    expect(s.refused).toBe(3);
  });

  it('keeps at most maxPeers users; an idle one is forgotten for a newcomer, an active table refuses it', async () => {
    let now = 0;
    const s = server({ now: () => now, maxPeers: 2 });
    const key = (n: number) => seedSigner(seedOf(n)).publicKey;
    const from = async (n: number, nonce: number) =>
      decodePingAnswer(await s.handle(encodePing({ nonce: new Uint8Array(16).fill(nonce), modelHash: HASH, k: 1 }), key(n)));
    expect((await from(101, 1)).kind).toBe('pong');
    expect((await from(102, 2)).kind).toBe('pong');
    expect(await from(103, 3)).toMatchObject({ kind: 'refused', code: 'RATE_LIMITED' });
    now += 61_000; // buckets full again, nonces expired: nothing to remember about 101 and 102
    expect((await from(103, 4)).kind).toBe('pong');
  });

  it('refuses another model, a k outside its range and malformed bytes, each typed', async () => {
    const s = server({ lowestK: 2, highestK: 6, burst: 100 });
    expect(await refusal(pingVia(s, undefined, 1))).toBe('WRONG_MODEL');
    expect(await refusal(pingVia(s, undefined, 7))).toBe('WRONG_MODEL');
    expect(
      await refusal(
        ping(async (r) => s.handle(r, userKey), { volunteerKey: volunteerSigner.publicKey, userKey, networkId: NETWORK, modelHash: new Uint8Array(32), k: 3 }),
      ),
    ).toBe('WRONG_MODEL');
    expect(decodePingAnswer(await s.handle(new Uint8Array(10), userKey))).toMatchObject({ kind: 'refused', code: 'MALFORMED' });
  });

  it('derives the step time of layers [k, L) from the measured whole-model rate', () => {
    const step = stepMsFromRate(100, 8); // 10 ms for all 8 layers
    expect(step(2)).toBeCloseTo(7.5, 12);
    expect(stepMsFromRate(0, 8)(2)).toBe(0);
  });
});

describe('split-ping between two real libp2p nodes', () => {
  let rig: TestRig;
  let volunteerNode: SprintnetNode;
  let userNode: SprintnetNode;
  const make = async (seedByte: number) => {
    const n = await Node.create({
      identity: await identityFromEd25519Seed(seedOf(seedByte)),
      role: 'host',
      registry: defaultRegistry(),
      config: { listen: [LOOPBACK_WS] },
    });
    await n.start();
    return n;
  };
  beforeAll(async () => {
    rig = await testRig();
    [volunteerNode, userNode] = await Promise.all([make(96), make(97)]);
    await userNode.libp2p.dial(multiaddr(volunteerNode.multiaddrs().find((m) => m.includes('/ws/'))!));
  });
  afterAll(async () => {
    await Promise.all([volunteerNode, userNode].map((n) => n?.stop()));
  });

  it('measures the round trip and the load without opening a session, and costs less than a probe session', async () => {
    const volunteer = new SplitVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      signer: seedSigner(seedOf(96)),
      networkId: NETWORK,
    });
    let sessionCalls = 0;
    await serveSplit(volunteerNode, { publicKey: volunteer.publicKey, handle: (r, p) => (sessionCalls++, volunteer.handle(r, p)) });
    const pings = new PingServer({
      signer: seedSigner(seedOf(96)),
      networkId: NETWORK,
      modelHash: rig.hash,
      lowestK: 1,
      highestK: 7,
      load: () => ({ openSessions: volunteer.openSessions, sessionLimit: 16 }),
      stepMs: stepMsFromRate(200, 8),
      burst: 1000,
    });
    await servePing(volunteerNode, pings);
    const o = { networkId: NETWORK, modelHash: rig.hash, k: 4 };
    const first = await pingPeer(userNode, volunteerNode.peerId, o);
    expect(first).toMatchObject({ openSessions: 0, sessionLimit: 16, stepMs: 2.5 });
    expect(sessionCalls).toBe(0); // no session opened, no layer run
    expect(volunteer.openSessions).toBe(0);

    // Same process, interleaved: a ping against a probe session (open, prefill, 2 decode steps, close).
    const pingMs: number[] = [];
    const probeMs: number[] = [];
    const transport = new NodeTransport(userNode, volunteerNode.peerId, 10_000);
    for (let round = 0; round < 6; round++) {
      pingMs.push((await pingPeer(userNode, volunteerNode.peerId, o)).rttMs);
      const start = performance.now();
      await probeVolunteer(transport, { modelHash: rig.hash, k: 4, hiddenSize: rig.model.config.hiddenSize, steps: 2 });
      probeMs.push(performance.now() - start);
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(sessionCalls).toBe(6 * 5); // the probes' calls only
    expect(pings.answered).toBe(7);
    console.log(
      JSON.stringify({
        bench: 'split-ping vs probe session',
        ping_median_ms: +median(pingMs).toFixed(2),
        probe_session_median_ms: +median(probeMs).toFixed(2),
        ratio: +(median(probeMs) / median(pingMs)).toFixed(2),
        probe_calls: 5,
        ping_calls: 1,
      }),
    );
    expect(median(pingMs)).toBeLessThan(median(probeMs));
  });
});
