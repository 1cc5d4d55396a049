/**
 * Sync and Sprint gossip are per genesis (docs/protocol.md §5, §12): two geneses of one network id
 * share the network's presence, but a host of one never reaches the other's sync handler nor
 * receives its Sprint gossip, while hosts of one genesis gossip through a relay that was started
 * without any genesis. Real libp2p nodes on loopback.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, describe, expect, it } from 'vitest';
import '../node/node-env.ts';
import type { SprintnetNode } from '../node/node.ts';
import { startRelay, type RunningRelay } from '../node/relay-server.ts';
import { LOOPBACK_WS, testNode, waitFor } from '../node/test-helpers.ts';
import { topicName } from '../node/config.ts';
import type { GossipMessage } from '../node/index.ts';
import { parseSprintTopic, sprintTopic, sprintTopicSpecs } from '../node/topics/index.ts';
import { isProtocolError } from '../protocol/errors.ts';
import { fastTimings, genesisId, makeGenesis } from '../protocol/genesis.ts';
import { decodeHead, encodeHead, encodeRequest, syncProtocol } from '../protocol/sync.ts';
import type { Topic } from '../protocol/interfaces.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { BrowserRuntime, type WalletKeys } from './browser-runtime.ts';
import { idleClient } from './runtime-test-support.ts';
import { LedgerFollower, LedgerRegistry } from './ledger-follower.ts';
import { keyOfPeer, nodeTransport } from './transport.ts';

const NET = 'sprintnet-sync-name';
const genesisAt = (startMs: number) => makeGenesis({ networkId: NET, config: 'tiny', startMs, skewMs: 200, timings: fastTimings(2000, 200) });
const [first, second] = [genesisAt(1_000_000), genesisAt(2_000_000)];
const nodes: SprintnetNode[] = [];
const relays: RunningRelay[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(relays.map((r) => r.stop()));
});

describe('the sync protocol name', () => {
  it('names the genesis, not only the network', () => {
    expect(syncProtocol(first)).toBe(`sprint-sync-${genesisId(first)}`);
    expect(syncProtocol(second)).not.toBe(syncProtocol(first));
    expect(first.networkId).toBe(second.networkId);
  });

  it('a peer of the same genesis is answered; one of another genesis of the same network is not', async () => {
    const [server, same, other] = await Promise.all([70, 71, 72].map((b) => testNode(b, 'host', { networkId: NET, listen: [LOOPBACK_WS] })));
    nodes.push(server!, same!, other!);
    const ws = multiaddr(server!.multiaddrs().find((m) => m.includes('/ws/'))!);
    await Promise.all([same!.libp2p.dial(ws), other!.libp2p.dial(ws)]);
    nodeTransport(server!, first).handle(async () => encodeHead(7));
    const serverKey = keyOfPeer(server!.peerId)!;
    const head = encodeRequest({ op: 'head' });

    // The handler registers asynchronously (after an unhandle): ask until it answers.
    let answer: number | null = null;
    for (let i = 0; i < 40 && answer === null; i++) {
      answer = await nodeTransport(same!, first)
        .request(serverKey, head, { timeoutMs: 2_000 })
        .then(decodeHead, () => null);
      if (answer === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer).toBe(7);
    // Same network id, another genesis: protocol negotiation fails, nothing reaches the handler.
    await expect(nodeTransport(other!, second).request(serverKey, head, { timeoutMs: 2_000 })).rejects.toThrow();
  }, 60_000);

  it('a transport without a genesis neither serves nor asks (BAD_GENESIS)', async () => {
    const node = nodes[0]!;
    const t = nodeTransport(node, null);
    expect(() => t.handle(async () => encodeHead(0))).toThrow(expect.objectContaining({ code: 'BAD_GENESIS' }));
    const err = await t.request(keyOfPeer(nodes[1]!.peerId)!, encodeRequest({ op: 'head' })).catch((e: unknown) => e);
    expect(isProtocolError(err, 'BAD_GENESIS')).toBe(true);
  });
});

describe('Sprint gossip topics', () => {
  it('are named per genesis', () => {
    expect(sprintTopic('sprint-proof', genesisId(first))).toBe(`sprint-proof-${genesisId(first)}`);
    expect(sprintTopic('sprint-proof', genesisId(second))).not.toBe(sprintTopic('sprint-proof', genesisId(first)));
  });

  it('reach the same genesis through a relay started without one, and never another genesis of the same network', async () => {
    const relay = await startRelay({ port: 0, config: { networkId: NET } });
    relays.push(relay);
    // No WebRTC upgrade and no listener: the hosts meet only in the relay's gossipsub mesh.
    const config = { networkId: NET, relays: [relay.multiaddr], webrtcUpgrade: false, presenceIntervalMs: 60_000 };
    const [a1, a2, b1, b2] = await Promise.all([73, 74, 75, 76].map((b) => testNode(b, 'host', config)));
    nodes.push(a1!, a2!, b1!, b2!);
    const received = new Map<SprintnetNode, { topic: Topic; text: string; from?: string }[]>();
    const transports = new Map<SprintnetNode, ReturnType<typeof nodeTransport>>();
    for (const [node, genesis] of [
      [a1!, first],
      [a2!, first],
      [b1!, second],
      [b2!, second],
    ] as const) {
      const t = nodeTransport(node, genesis);
      transports.set(node, t);
      const got: { topic: Topic; text: string; from?: string }[] = [];
      received.set(node, got);
      // The first byte is a kind, bytes 1–8 the epoch (the transport reads it); the rest says who sent it.
      t.subscribe((topic, bytes, from) => got.push({ topic, text: new TextDecoder().decode(bytes.subarray(9)), from }));
    }
    await waitFor(() => [a1!, a2!, b1!, b2!].every((n) => n.relayState === 'connected'), 15_000, 'relay connections');
    await waitFor(() => relay.geneses.geneses().length === 2, 15_000, 'the relay takes on both geneses');
    expect(relay.geneses.geneses().sort()).toEqual([genesisId(first), genesisId(second)].sort());
    for (const n of [a1!, a2!, b1!, b2!]) {
      expect(n.connections().map((c) => c.peerId)).toEqual([relay.node.peerId]);
    }

    const message = (text: string) => Uint8Array.from([1, ...new Uint8Array(8), ...new TextEncoder().encode(text)]);
    const from = (node: SprintnetNode, text: string) => received.get(node)!.some((m) => m.text === text);
    const any = (node: SprintnetNode, prefix: string) => received.get(node)!.some((m) => m.text.startsWith(prefix));
    // Publish until each host has one from the other host of its genesis (meshes form at the relay's next heartbeat).
    for (let i = 0; !(from(a2!, `a1-${i - 1}`) && from(b2!, `b1-${i - 1}`) && any(a1!, 'a2-') && any(b1!, 'b2-')); i++) {
      if (i > 100) throw new Error('no gossip within a genesis');
      await Promise.all([
        transports.get(a1!)!.publish('sprint-proof', message(`a1-${i}`)),
        transports.get(b1!)!.publish('sprint-proof', message(`b1-${i}`)),
        transports.get(a2!)!.publish('sprint-vote', message(`a2-${i}`)),
        transports.get(b2!)!.publish('sprint-vote', message(`b2-${i}`)),
      ]);
      await new Promise((r) => setTimeout(r, 200));
    }
    // A few more rounds on every topic, then whatever crossed would have arrived.
    for (const topic of ['sprint-seed', 'sprint-validation', 'inference-proof'] as const) {
      await transports.get(a1!)!.publish(topic, message(`a1-${topic}`));
      await transports.get(b1!)!.publish(topic, message(`b1-${topic}`));
    }
    await waitFor(() => from(a2!, 'a1-inference-proof') && from(b2!, 'b1-inference-proof'), 10_000, 'the last messages');
    await new Promise((r) => setTimeout(r, 500));

    const texts = (n: SprintnetNode) => received.get(n)!.map((m) => m.text);
    for (const [node, ours, theirs] of [
      [a1!, 'a', 'b'],
      [a2!, 'a', 'b'],
      [b1!, 'b', 'a'],
      [b2!, 'b', 'a'],
    ] as const) {
      expect(texts(node).filter((t) => t.startsWith(theirs))).toEqual([]);
      expect(texts(node).filter((t) => t.startsWith(ours)).length).toBeGreaterThan(0);
    }
    expect(received.get(a2!)!.find((m) => m.text === 'a1-sprint-seed')).toEqual({ topic: 'sprint-seed', text: 'a1-sprint-seed', from: keyOfPeer(a1!.peerId) });
    expect(texts(b2!)).toEqual(expect.arrayContaining(['b1-sprint-seed', 'b1-sprint-validation', 'b1-inference-proof']));
  }, 90_000);

  it('a transport without a genesis neither publishes nor subscribes (BAD_GENESIS)', async () => {
    const t = nodeTransport(nodes[0]!, null);
    const err = await t.publish('sprint-proof', new Uint8Array(20)).catch((e: unknown) => e);
    expect(isProtocolError(err, 'BAD_GENESIS')).toBe(true);
    expect(() => t.subscribe(() => {})).toThrow(expect.objectContaining({ code: 'BAD_GENESIS' }));
  });
});

describe('a page that stops using a genesis', () => {
  // Geneses whose epoch 0 is an hour away: the page's hosts start, listen and wait.
  const [old, next] = [0, 1].map((i) =>
    makeGenesis({ networkId: NET, config: 'tiny', startMs: Date.now() + 3_600_000 + i, skewMs: 200, timings: fastTimings(2000, 200) }),
  ) as [ReturnType<typeof makeGenesis>, ReturnType<typeof makeGenesis>];
  const wire = (genesis: typeof old) => sprintTopicSpecs(genesisId(genesis)).map((t) => topicName(NET, t.name));

  it('unsubscribes from its topics once neither its Sprint runtime nor its ledger follower uses it: its gossip is neither received nor forwarded, and the new genesis works', async () => {
    const relay = await startRelay({ port: 0, config: { networkId: NET } });
    relays.push(relay);
    const config = { networkId: NET, relays: [relay.multiaddr], webrtcUpgrade: false, presenceIntervalMs: 60_000 };
    // The page's node also listens, for `behind`: a peer of the old genesis that reaches the network only through the page.
    const [page, a1, a2, b1] = await Promise.all([
      testNode(77, 'browser', { ...config, listen: [LOOPBACK_WS] }),
      ...[78, 79, 80].map((b) => testNode(b, 'host', config)),
    ]);
    const behind = await testNode(81, 'host', { networkId: NET, webrtcUpgrade: false, presenceIntervalMs: 60_000 });
    nodes.push(page!, a1!, a2!, b1!, behind);
    await behind.libp2p.dial(multiaddr(page!.multiaddrs().find((m) => m.includes('/ws/') && !m.includes('p2p-circuit'))!));

    type Got = string[];
    const listen = (t: ReturnType<typeof nodeTransport>): Got => {
      const got: Got = [];
      t.subscribe((_topic, bytes) => got.push(new TextDecoder().decode(bytes.subarray(9))));
      return got;
    };
    const withPrefix = (got: Got, prefix: string) => got.filter((t) => t.startsWith(prefix));
    const [atBehind, atA2] = [listen(nodeTransport(behind, old)), listen(nodeTransport(a2!, old))];
    const fromA1 = nodeTransport(a1!, old);
    const fromB1 = nodeTransport(b1!, next);
    // Every Sprint message the page's node delivers, by genesis.
    const delivered = new Map<string, Got>([genesisId(old), genesisId(next)].map((g) => [g, []]));
    page!.addEventListener('gossip', (e) => {
      const m = (e as CustomEvent<GossipMessage<Uint8Array>>).detail;
      const g = parseSprintTopic(m.topic)?.genesisId;
      if (g) delivered.get(g)?.push(new TextDecoder().decode(m.value.subarray(9)));
    });
    const atPage = (g: typeof old) => delivered.get(genesisId(g))!;

    // The page as src/app builds it: the ledger follower of `old`, then Contribute's Sprint runtime taking it over.
    const registry = new LedgerRegistry();
    const follower = (genesis: typeof old) =>
      new LedgerFollower({ genesis, publicKey: null, openStore: async () => new MemoryStore(), registry, refreshMs: 60_000 });
    const oldFollower = follower(old);
    await oldFollower.start(page!);
    const id = simIdentity(82, NET);
    const wallet: WalletKeys = { publicKey: id.publicKey, unlocked: () => ({ ed25519Seed: id.seed, blsSecretKey: id.bls }), subscribe: () => () => {} };
    const contribute = new BrowserRuntime({ genesis: old, wallet, backend: 'cpu', newEngineClient: idleClient, ledgers: registry });
    await contribute.start(page!);
    expect(contribute.snapshot.status).toBe('running');
    expect(oldFollower.snapshot.mode).toBe('handed-over');

    await waitFor(() => [page!, a1!, a2!, b1!].every((n) => n.relayState === 'connected'), 15_000, 'relay connections');
    expect(behind.connections().map((c) => c.peerId)).toEqual([page!.peerId]);
    const message = (text: string) => Uint8Array.from([1, ...new Uint8Array(8), ...new TextEncoder().encode(text)]);
    const publishUntil = async (what: string, done: () => boolean, send: (i: number) => Promise<void>) => {
      for (let i = 0; !done(); i++) {
        if (i > 100) throw new Error(`timed out waiting for ${what}`);
        await send(i);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // Before: the page receives `old`, and forwards it to the peer behind it.
    await publishUntil(
      'gossip through the page',
      () => withPrefix(atBehind, 'before').length > 0 && withPrefix(atPage(old), 'before').length > 0,
      (i) => fromA1.publish('sprint-proof', message(`before-${i}`)),
    );

    // Contribute stops: the follower of the same genesis takes back and still uses it.
    await contribute.dispose();
    await waitFor(() => oldFollower.snapshot.mode === 'following', 5_000, 'the follower takes back');
    expect(page!.pubsub.getTopics()).toEqual(expect.arrayContaining(wire(old)));
    const received = oldFollower.ownHost!.counters.received;
    await publishUntil(
      'gossip to the follower',
      () => oldFollower.ownHost!.counters.received > received && withPrefix(atBehind, 'follower').length > 0,
      (i) => fromA1.publish('sprint-vote', message(`follower-${i}`)),
    );

    // The page switches genesis: the old follower stops, one of `next` starts on the same node.
    await oldFollower.stop();
    const nextFollower = follower(next);
    await nextFollower.start(page!);
    for (const t of wire(old)) expect(page!.pubsub.getTopics()).not.toContain(t);
    expect(page!.pubsub.getTopics()).toEqual(expect.arrayContaining(wire(next)));
    for (const t of sprintTopicSpecs(genesisId(old))) expect(page!.registry.get(t.name)).toBeUndefined();
    // Its peers learn it: neither the relay nor the peer behind counts the page as a subscriber of `old` any more.
    const subscribes = (n: SprintnetNode, topics: string[]) => topics.some((t) => n.pubsub.getSubscribers(t).some((p) => p.toString() === page!.peerId));
    await waitFor(() => !subscribes(relay.node, wire(old)) && !subscribes(behind, wire(old)), 10_000, 'the unsubscription');
    atPage(old).length = 0;
    // `old` goes on without the page (a2 gets it through the relay), and `next` reaches the page's new follower.
    const nextReceived = nextFollower.ownHost!.counters.received;
    await publishUntil(
      'both geneses after the switch',
      () => withPrefix(atA2, 'after').length >= 3 && nextFollower.ownHost!.counters.received > nextReceived,
      async (i) => {
        await fromA1.publish('sprint-proof', message(`after-${i}`));
        await fromB1.publish('sprint-proof', message(`next-${i}`));
      },
    );
    for (const topic of ['sprint-seed', 'sprint-validation', 'sprint-vote', 'inference-proof'] as const) await fromA1.publish(topic, message(`after-${topic}`));
    await waitFor(() => withPrefix(atA2, 'after-inference-proof').length > 0, 10_000, 'the last messages of the old genesis');
    await new Promise((r) => setTimeout(r, 500));
    expect(atPage(old)).toEqual([]);
    expect(withPrefix(atBehind, 'after')).toEqual([]);
    expect(withPrefix(atPage(next), 'next').length).toBeGreaterThan(0);
    await nextFollower.stop();
    for (const t of wire(next)) expect(page!.pubsub.getTopics()).not.toContain(t);
  }, 90_000);

  it('two transports of one genesis on one node: the topics stay until both close', async () => {
    const node = nodes[0]!;
    const names = wire(next);
    const [one, two] = [nodeTransport(node, next), nodeTransport(node, next)];
    expect(node.pubsub.getTopics()).toEqual(expect.arrayContaining(names));
    one.close();
    one.close(); // idempotent: it lets go once
    expect(node.pubsub.getTopics()).toEqual(expect.arrayContaining(names));
    await two.publish('sprint-proof', Uint8Array.from([1, ...new Uint8Array(8)]));
    two.close();
    for (const t of names) expect(node.pubsub.getTopics()).not.toContain(t);
    await expect(two.publish('sprint-proof', new Uint8Array(20))).rejects.toThrow(/closed/);
    expect(() => two.subscribe(() => {})).toThrow(/closed/);
  });
});
