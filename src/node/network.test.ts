/**
 * Three Node peers on loopback websockets: B and C dial A, C also dials B. Gossip, encrypted
 * request/response (1 MiB, timeout, vanished peer) and the validators' rejection + scoring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createLibp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { LOOPBACK_WS, testNode, waitFor } from './test-helpers.ts';
import type { GossipMessage, SprintnetNode } from './node.ts';
import { encodeEnvelope, randomEnvelopeId, signEnvelope } from './envelope.ts';
import { PeerGoneError, RemoteError, RequestError, RequestTimeoutError } from './errors.ts';
import { presenceCodec, presenceTopic, type Presence } from './topics/presence.ts';
import { at } from '../sprint/indexing.ts';

let a: SprintnetNode, b: SprintnetNode, c: SprintnetNode;

beforeAll(async () => {
  const node = (seed: number) => testNode(seed, 'host', { listen: [LOOPBACK_WS] });
  [a, b, c] = await Promise.all([node(10), node(11), node(12)]);
  const wsAddr = (n: SprintnetNode) => multiaddr(n.multiaddrs().find((m) => m.includes('/ws/'))!);
  await b.libp2p.dial(wsAddr(a));
  await c.libp2p.dial(wsAddr(a));
  await c.libp2p.dial(wsAddr(b));
  // Gossipsub needs a heartbeat or two to build its mesh.
  await waitFor(() => a.pubsub.getSubscribers(at(a.pubsub.getTopics(), 0, 'topic')).length >= 2, 10_000, 'subscriptions');
});

afterAll(async () => {
  await Promise.all([a, b, c].map((n) => n?.stop()));
});

describe('three peers on loopback', () => {
  it('exchange gossip, with the sender identified by its wallet key', async () => {
    const seenBy = new Map<string, Set<string>>();
    const unsubs = [a, b, c].map((n) =>
      n.onGossip<Presence>('presence', (m: GossipMessage<Presence>) => {
        if (!seenBy.has(n.peerId)) seenBy.set(n.peerId, new Set());
        seenBy.get(n.peerId)!.add(m.from);
      }),
    );
    await waitFor(() => [a, b, c].every((n) => (seenBy.get(n.peerId)?.size ?? 0) === 2), 15_000, 'presence from both others');
    unsubs.forEach((u) => u());
    expect([...seenBy.get(a.peerId)!].sort()).toEqual([b.peerId, c.peerId].sort());
  });

  it('request/response carries 1 MiB end to end encrypted', async () => {
    await b.handle('echo', async (req, ctx) => {
      expect(ctx.peerId).toBe(c.peerId);
      return req.map((v) => v ^ 0xff);
    });
    const payload = crypto.getRandomValues(new Uint8Array(64 * 1024));
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 16; i++) big.set(payload, i * payload.length);
    const res = await c.request(b.peerId, 'echo', big, { timeoutMs: 20_000 });
    expect(res.length).toBe(big.length);
    expect(res.every((v, i) => v === (at(big, i, 'byte') ^ 0xff))).toBe(true);
  });

  it('maps handler errors, size limits and deadlines to typed errors', async () => {
    await b.handle('fail', async () => {
      throw new Error('no model loaded');
    });
    await expect(c.request(b.peerId, 'fail', Uint8Array.of(1))).rejects.toThrow(RemoteError);
    await b.handle('small', async (r) => r, { maxRequestBytes: 10 });
    await expect(c.request(b.peerId, 'small', new Uint8Array(100))).rejects.toThrow(RemoteError);
    await b.handle('slow', (_r, ctx) => new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('gone')))), { timeoutMs: 5_000 });
    const started = Date.now();
    await expect(c.request(b.peerId, 'slow', Uint8Array.of(1), { timeoutMs: 500 })).rejects.toThrow(RequestTimeoutError);
    expect(Date.now() - started).toBeLessThan(3_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(c.request(b.peerId, 'slow', Uint8Array.of(1), { signal: controller.signal })).rejects.toThrow(RequestError);
  });

  it('offers only /meshsub (no /floodsub fallback)', () => {
    const protocols = a.libp2p.getProtocols();
    expect(protocols).toContain('/meshsub/1.2.0');
    expect(protocols.filter((p) => p.includes('floodsub'))).toEqual([]);
  });

  it('refuses connections from peers whose id is not an Ed25519 key', async () => {
    const wsA = multiaddr(a.multiaddrs().find((m) => m.includes('/ws/'))!);
    const client = async (type: 'Ed25519' | 'secp256k1') => {
      const node = await createLibp2p({
        privateKey: await generateKeyPair(type as 'Ed25519'),
        transports: [webSockets()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionGater: { denyDialMultiaddr: () => false },
      });
      await node.dial(wsA).catch(() => undefined);
      return node;
    };
    const [ed, secp] = await Promise.all([client('Ed25519'), client('secp256k1')]);
    try {
      expect(secp.peerId.type).toBe('secp256k1');
      // The Ed25519 client shows the path works; the secp256k1 one is refused by A's gater.
      await waitFor(() => a.connections().some((x) => x.peerId === ed.peerId.toString()), 5_000, 'Ed25519 client');
      await new Promise((r) => setTimeout(r, 300));
      expect(a.connections().some((x) => x.peerId === secp.peerId.toString())).toBe(false);
    } finally {
      await Promise.all([ed.stop(), secp.stop()]);
    }
  });

  it('drops another protocol version without scoring anyone (rolling upgrade)', async () => {
    const bSeed = new Uint8Array(32).fill(11);
    const fields = {
      networkId: 'sprintnet-local',
      topic: 'presence',
      sender: ed25519.getPublicKey(bSeed),
      sprint: 0,
      payload: presenceCodec.encode({ role: 'host', label: 'v2', multiaddrs: [] }),
    };
    const rejected: string[] = [];
    const onRejected = (e: Event) => rejected.push((e as CustomEvent<{ reason: string }>).detail.reason);
    a.addEventListener('rejected', onRejected);
    const marker = randomEnvelopeId();
    const markerHex = [...marker].map((x) => x.toString(16).padStart(2, '0')).join('');
    let markerSeen = false;
    const off = a.onGossip('presence', (m) => {
      if (m.id === markerHex) markerSeen = true;
    });
    try {
      await b.publishRaw('presence', encodeEnvelope(signEnvelope(bSeed, { ...fields, version: 2, id: randomEnvelopeId(), timestampMs: Date.now() })));
      await b.publishRaw('presence', encodeEnvelope(signEnvelope(bSeed, { ...fields, version: 1, id: marker, timestampMs: Date.now() })));
      // The valid message sent after the v2 one has arrived, so the v2 one was judged already.
      await waitFor(() => markerSeen, 10_000, 'the message after the v2 one');
      expect(rejected).toEqual([]);
      expect(a.scores.score(b.peerId)).toBe(0);
      expect(a.gossipScore(b.peerId)).toBe(0);
    } finally {
      off();
      a.removeEventListener('rejected', onRejected);
    }
  });

  it('rejects a wrong signature, a replay, an oversize message and a wrong network, and scores the sender down', async () => {
    const rejections: string[] = [];
    a.addEventListener('rejected', (e) => {
      const d = (e as CustomEvent<{ peerId: string; reason: string }>).detail;
      if (d.peerId === b.peerId) rejections.push(d.reason);
    });
    const bSeed = new Uint8Array(32).fill(11);
    const payload = presenceCodec.encode({ role: 'host', label: 'x', multiaddrs: [] });
    const fields = {
      version: 1,
      networkId: 'sprintnet-local',
      topic: 'presence',
      sender: ed25519.getPublicKey(bSeed),
      timestampMs: Date.now(),
      sprint: 0,
      payload,
    };
    const valid = encodeEnvelope(signEnvelope(bSeed, { ...fields, id: randomEnvelopeId() }));
    const forged = encodeEnvelope(signEnvelope(new Uint8Array(32).fill(99), { ...fields, id: randomEnvelopeId() }));
    const wrongNet = encodeEnvelope(signEnvelope(bSeed, { ...fields, networkId: 'other-net', id: randomEnvelopeId() }));
    const oversize = encodeEnvelope(signEnvelope(bSeed, { ...fields, id: randomEnvelopeId(), payload: new Uint8Array(presenceTopic.maxPayloadBytes + 100) }));
    await b.publishRaw('presence', valid);
    await b.publishRaw('presence', valid); // same envelope, new gossipsub seqno: a replay
    await b.publishRaw('presence', forged);
    await b.publishRaw('presence', wrongNet);
    await waitFor(() => rejections.length >= 3, 10_000, 'rejections');
    expect(a.scores.score(b.peerId)).toBeLessThan(0);
    await b.publishRaw('presence', oversize);
    await waitFor(() => rejections.includes('oversize'), 10_000, 'oversize rejection');
    expect(rejections).toEqual(expect.arrayContaining(['replay', 'bad-signature', 'wrong-network', 'oversize']));
    // 5 + 20 + 5 + 10 = 40 points: below the -30 threshold, so A hung up on B and refuses it.
    expect(a.scores.score(b.peerId)).toBeLessThan(-30);
    await waitFor(() => !a.connections().some((x) => x.peerId === b.peerId), 5_000, 'disconnect');
    await waitFor(() => !b.connections().some((x) => x.peerId === a.peerId), 5_000, 'disconnect seen by B');
    expect(a.scores.isBanned(b.peerId)).toBe(true);
    // A's connection gater refuses B for the ban period: a re-dial fails or is dropped at once.
    await b.libp2p.dial(multiaddr(a.multiaddrs().find((m) => m.includes('/ws/'))!)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.connections().some((x) => x.peerId === b.peerId)).toBe(false);
    expect(b.connections().some((x) => x.peerId === a.peerId)).toBe(false);
  });

  it('a peer that vanishes mid-request gives a typed error, not a hang', async () => {
    await c.handle('hang', () => new Promise(() => undefined), { timeoutMs: 60_000 });
    const started = Date.now();
    const pending = a.request(c.peerId, 'hang', Uint8Array.of(1), { timeoutMs: 4_000 });
    setTimeout(() => void c.stop(), 300);
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect(err instanceof PeerGoneError || err instanceof RequestTimeoutError).toBe(true);
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});
