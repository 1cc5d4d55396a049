/**
 * The ledger follower against real protocol hosts on an in-memory network of fake nodes (gossip and
 * request/response between NodeLike objects, real libp2p peer ids): two weighted participants and
 * one newcomer (SprintRuntime, CPU reference engine, real keys) run epoch 0 of a genesis of a few
 * seconds; the follower must reach their certified state, refuse what they refuse, send nothing,
 * hand over to a BrowserRuntime without losing messages, and let the followed weights decide who
 * may fetch split evidence.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { GossipMessage, RequestHandler, SprintnetNode } from '../node/index.ts';
import { peerIdFromPublicKeyBytes } from '../node/index.ts';
import { SPRINT_TOPICS, sprintTopic } from '../node/topics/index.ts';
import { hex } from '../protocol/bytes.ts';
import { walletSigner, walletVerifier } from '../protocol/crypto.ts';
import { fastTimings, genesisId, makeGenesis, schedule } from '../protocol/genesis.ts';
import { messageId, signMessage, type VoteMessage } from '../protocol/messages.ts';
import { encodeCertificate } from '../protocol/certificate.ts';
import { encodeState, stateHash } from '../protocol/ledger.ts';
import { decodeHead, decodeRequest, encodeRequest, encodeStateResponse, syncProtocol } from '../protocol/sync.ts';
import { isProtocolError } from '../protocol/errors.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { BrowserRuntime, type WalletKeys } from './browser-runtime.ts';
import { idleClient } from './runtime-test-support.ts';
import { referenceEngine } from './engines.ts';
import { certifiedOnly, LedgerFollower, LedgerRegistry, ledgerWeighs } from './ledger-follower.ts';
import { SprintRuntime } from './runtime.ts';
import type { NodeLike } from './transport.ts';

const NET = 'sprintnet-local';

/** A NodeLike on an in-memory hub: gossip reaches every other node after 5 ms; requests go to the named peer's handler. */
class FakeNode implements NodeLike {
  readonly peerId: string;
  published = 0;
  private readonly listeners = new Map<string, Set<(m: GossipMessage<never>) => void>>();
  private readonly handlers = new Map<string, RequestHandler>();
  constructor(
    private readonly hub: FakeNode[],
    publicKey: Uint8Array,
  ) {
    this.peerId = peerIdFromPublicKeyBytes(publicKey);
    hub.push(this);
  }
  readonly presence = { values: () => this.hub.filter((n) => n !== this).map((n) => ({ peerId: n.peerId, role: 'host' })) as never };
  leave(): void {
    this.hub.splice(this.hub.indexOf(this), 1);
  }
  async publish<T>(topic: string, value: T): Promise<void> {
    this.published++;
    for (const n of this.hub) if (n !== this) setTimeout(() => n.deliver(topic, value, this.peerId), 5);
  }
  deliver(topic: string, value: unknown, from: string): void {
    for (const fn of this.listeners.get(topic) ?? []) fn({ topic, from, value, timestampMs: Date.now(), sprint: 0, id: '' } as never);
  }
  onGossip<T>(topic: string, fn: (m: GossipMessage<T>) => void): () => void {
    const set = this.listeners.get(topic) ?? new Set();
    this.listeners.set(topic, set);
    set.add(fn as never);
    return () => set.delete(fn as never);
  }
  /** Holds on each topic (addTopics less removeTopics), as SprintnetNode counts them. */
  readonly holds = new Map<string, number>();
  /** How many times a topic's last hold was let go (the node would have unsubscribed). */
  unsubscribed = 0;
  addTopics(specs: readonly { name: string }[]): void {
    for (const { name } of specs) this.holds.set(name, (this.holds.get(name) ?? 0) + 1);
  }
  removeTopics(names: readonly string[]): void {
    for (const name of names) {
      this.holds.set(name, (this.holds.get(name) ?? 0) - 1);
      if (this.holds.get(name) === 0) this.unsubscribed++;
    }
  }
  async handle(name: string, handler: RequestHandler): Promise<void> {
    this.handlers.set(name, handler);
  }
  async unhandle(name: string): Promise<void> {
    this.handlers.delete(name);
  }
  handles(name: string): boolean {
    return this.handlers.has(name);
  }
  async request(peerId: string, name: string, payload: Uint8Array): Promise<Uint8Array> {
    const h = this.hub.find((n) => n.peerId === peerId)?.handlers.get(name);
    if (!h) throw new Error(`no ${name} handler at ${peerId}`);
    return h(payload.slice(), { peerId: this.peerId } as never);
  }
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const [p1, p2, p3, fid, forger] = [60, 61, 62, 63, 64].map((i) => simIdentity(i, NET));
// A skew of 500 ms: the CPU engines of three participants share this process's event loop, and a vote
// handled 300 ms after its stamp fails the live rule (then only the certify-time sync brings it).
const skewMs = 500;
const genesis = makeGenesis({
  networkId: NET,
  config: 'tiny',
  hitRateDenominator: 4,
  startMs: Date.now() + 2_000,
  skewMs,
  timings: fastTimings(1500, skewMs),
  initialWeights: [p1!, p2!].map((id) => ({ publicKey: id.publicKey, weight: 1 })),
});
const hub: FakeNode[] = [];
const participants = [p1!, p2!, p3!].map(
  (id) =>
    new SprintRuntime({
      genesis,
      signer: walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding }),
      engine: referenceEngine(),
      node: new FakeNode(hub, id.publicKey),
      store: new MemoryStore(),
      verifier: walletVerifier(),
    }),
);
const followerNode = new FakeNode(hub, fid!.publicKey);
const followerStore = new MemoryStore();
const registry = new LedgerRegistry();
const follower = new LedgerFollower({ genesis, publicKey: fid!.publicKey, openStore: async () => followerStore, registry, refreshMs: 100 });
const signerOf = (id: typeof fid) => walletSigner({ ed25519Seed: id!.seed, publicKey: id!.publicKey, blsSecretKey: id!.bls, keyBinding: id!.binding });
const initialOnly = (key: string) => genesis.initialWeights.some((w) => hex(w.publicKey) === key);
/** Holds on the genesis's Sprint topics at `node` (all five are held and let go together). */
const holds = (node: FakeNode) => {
  const counts = new Set(SPRINT_TOPICS.map((t) => node.holds.get(sprintTopic(t.name, genesisId(genesis))) ?? 0));
  expect(counts.size).toBe(1);
  return [...counts][0]!;
};

afterAll(async () => {
  participants.forEach((r) => r.stop());
  await follower.stop();
  await Promise.all(participants.map((r) => r.host.idle()));
});

describe('LedgerFollower', () => {
  it('reaches the participants’ certified state, sends and signs nothing, refuses what they refuse', async () => {
    await Promise.all(participants.map((r) => r.start()));
    await follower.start(followerNode as unknown as SprintnetNode);
    expect(follower.snapshot.mode).toBe('following');
    // Before any state the fallback (the genesis's initial weights) decides.
    expect(ledgerWeighs(genesis, hex(p3!.publicKey), initialOnly, registry)).toBe(false);
    expect(ledgerWeighs(genesis, hex(p1!.publicKey), initialOnly, registry)).toBe(true);

    const s0 = schedule(genesis, 0);
    // A participant's commit with one signature byte flipped, gossiped by a stranger: the follower refuses it as the participants do.
    await until('a commit', () => participants[0]!.host.pool.messages(0).some((m) => m.kind === 'commit'), s0.commitEnd - Date.now() + 2_000);
    const commit = participants[0]!.host.pool.messages(0).find((m) => m.kind === 'commit')!;
    const bad = commit.bytes.slice();
    bad[bad.length - 1]! ^= 1;
    // Its header and body are the genuine commit's, its id another: refused BAD_SIGNATURE when that id
    // is the smaller, else SUPERSEDED (the pool bound refuses it before verifying), the same code everywhere.
    const code = messageId(bad) < commit.id ? 'BAD_SIGNATURE' : 'SUPERSEDED';
    const before = [participants[1]!.host, follower.ownHost!].map((h) => h.counters.rejected[code] ?? 0);
    const stranger = new FakeNode(hub, forger!.publicKey);
    await stranger.publish(sprintTopic('sprint-seed', genesisId(genesis)), bad);
    await until('refusals', () => (follower.ownHost!.counters.rejected[code] ?? 0) > before[1]!, 2_000);
    expect((participants[1]!.host.counters.rejected[code] ?? 0) - before[0]!).toBe(1);
    expect((follower.ownHost!.counters.rejected[code] ?? 0) - before[1]!).toBe(1);

    // Votes for an invented state by a key without weight, validly signed: no certificate for it anywhere.
    const fakeHash = new Uint8Array(32).fill(7);
    const forgerSigner = walletSigner({ ed25519Seed: forger!.seed, publicKey: forger!.publicKey, blsSecretKey: forger!.bls, keyBinding: forger!.binding });
    await until('the close', () => Date.now() > s0.close + 50, s0.close - Date.now() + 2_000);
    const vote = await signMessage(forgerSigner, genesis, { epoch: 0, sender: forger!.publicKey, timestampMs: Date.now(), kind: 'vote', stateHash: fakeHash });
    await stranger.publish(sprintTopic('sprint-vote', genesisId(genesis)), vote.bytes);
    await new Promise((r) => setTimeout(r, 20));
    stranger.leave(); // not a peer to sync from

    const everyone = () => [...participants.map((r) => r.host), follower.ownHost!];
    await until('epoch 0 certified everywhere', () => everyone().every((h) => h.view(0)?.certificate === 'certified'), s0.end - Date.now() + 8_000).catch(
      (e: unknown) => {
        console.log(
          everyone().map(
            (h) => `${h.view(0)?.certificate} ${h.view(0)?.hash.slice(0, 8)} votes ${h.pool.votes(0).length} ${JSON.stringify(h.counters.rejected)}`,
          ),
        );
        throw e;
      },
    );
    expect(follower.snapshot.runtime!.certified).toContain(0);
    const hashes = participants.map((r) => r.host.view(0)!.hash);
    expect(new Set(hashes).size).toBe(1);
    const mine = follower.ownHost!.view(0)!;
    expect(mine.hash).toBe(hashes[0]);
    expect(mine.certificate).toBe('certified');
    expect(hex(follower.ownHost!.certificate(0)!.stateHash)).toBe(hashes[0]);
    expect(follower.snapshot.runtime!.ledger!.hash).toBe(hashes[0]);
    // The forged vote (its signature holds) is refused by the follower as by the participants: its key
    // has no weight in epoch 0 (NOT_ELIGIBLE, docs/protocol.md §13 "Weightless senders").
    for (const h of everyone()) {
      expect(h.pool.votes(0).some((v) => hex(v.stateHash) === hex(fakeHash))).toBe(false);
      expect(h.counters.rejected.NOT_ELIGIBLE ?? 0).toBeGreaterThanOrEqual(1);
    }

    // Nothing sent, nothing signed: no message from its key in any pool, the node never published, the engine never searched.
    expect(followerNode.published).toBe(0);
    for (const h of [...participants.map((r) => r.host), follower.ownHost!]) {
      for (const e of h.pool.epochs()) expect(h.pool.messages(e).filter((m) => hex(m.sender) === hex(fid!.publicKey))).toEqual([]);
    }
    expect(follower.snapshot.refused.searches).toBeGreaterThanOrEqual(1);
    // The certified state is on disk; no pending state was written by the follower.
    expect(await followerStore.get('cert/000000000000')).toBeDefined();
    expect(await followerStore.get('state/000000000000')).toBeDefined();
  }, 60_000);

  it('lets the followed weights decide who may fetch split evidence', () => {
    const state = follower.ownHost!.view(0)!.state;
    const newcomer = state.hosts.find((h) => hex(h.publicKey) === hex(p3!.publicKey));
    expect(newcomer?.weight ?? 0).toBeGreaterThan(0); // it earned weight in epoch 0 without an initial one
    expect(initialOnly(hex(p3!.publicKey))).toBe(false);
    expect(ledgerWeighs(genesis, hex(p3!.publicKey), initialOnly, registry)).toBe(true);
    expect(ledgerWeighs(genesis, hex(forger!.publicKey), () => true, registry)).toBe(false);
  });

  it('hands over to the Sprint runtime with its state and pool, and takes back when it stops', async () => {
    const own = follower.ownHost!;
    const ids = new Map(own.pool.epochs().map((e) => [e, own.pool.ids(e)]));
    const head = own.head;
    const listeners = new Set<() => void>();
    const wallet: WalletKeys = {
      publicKey: fid!.publicKey,
      unlocked: () => ({ ed25519Seed: fid!.seed, blsSecretKey: fid!.bls }),
      subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
    };
    const page = new BrowserRuntime({ genesis, wallet, backend: 'cpu', newEngineClient: idleClient, ledgers: registry });
    // The node's one sync handler answers from whichever host follows: the follower's, then the runtime's, then the follower's again.
    const asker = new FakeNode(hub, simIdentity(68, NET).publicKey);
    const answeredBy = async (h: () => { counters: { requestsServed: number } }) => {
      await until('a sync handler on the node', () => followerNode.handles(syncProtocol(genesis)), 2_000);
      const before = h().counters.requestsServed;
      expect(decodeHead(await asker.request(followerNode.peerId, syncProtocol(genesis), encodeRequest({ op: 'head' })))).toBe(1);
      return h().counters.requestsServed - before;
    };
    expect(await answeredBy(() => own)).toBe(1);
    expect(holds(followerNode)).toBe(1); // the follower's switch
    const unsubscribed = followerNode.unsubscribed;
    await page.start(followerNode as unknown as SprintnetNode);
    const host = page.sprintRuntime!.host;
    // Now the runtime's switch holds the topics too (the handed-over follower keeps its own hold), and they were held throughout the handover.
    expect(holds(followerNode)).toBe(2);
    expect(followerNode.unsubscribed).toBe(unsubscribed);
    const ownServed = own.counters.requestsServed;
    expect(await answeredBy(() => host)).toBe(1);
    expect(own.counters.requestsServed).toBe(ownServed); // the stopped follower host no longer answers
    expect(follower.snapshot.mode).toBe('handed-over');
    expect(follower.ownHost).toBeNull();
    expect(registry.host(follower.genesisId)).toBe(host);
    expect(host.head).toBeGreaterThanOrEqual(head);
    expect(host.view(0)!.hash).toBe(participants[0]!.host.view(0)!.hash);
    expect(host.view(0)!.certificate).toBe('certified');
    for (const [e, list] of ids) for (const id of list) expect(host.pool.has(e, id)).toBe(true);

    await page.dispose();
    await until('the follower back on its own host', () => follower.snapshot.mode === 'following', 5_000);
    expect(holds(followerNode)).toBe(1); // the stopped runtime's switch let go; the follower's own host holds them again
    // And the follower, which never stopped, held them throughout: the node never unsubscribed.
    expect(followerNode.unsubscribed).toBe(unsubscribed);
    expect(follower.ownHost).not.toBeNull();
    expect(follower.ownHost!.view(0)!.certificate).toBe('certified');
    expect(registry.host(follower.genesisId)).toBe(follower.ownHost);
    const hostServed = host.counters.requestsServed;
    expect(await answeredBy(() => follower.ownHost!)).toBe(1);
    expect(host.counters.requestsServed).toBe(hostServed);
    expect(own.counters.requestsServed).toBe(ownServed);
    asker.leave();
  }, 30_000);

  it('keeps the gossip that arrives during the switch for the runtime’s host', async () => {
    const gid = follower.genesisId;
    const switching = (await registry.handOver(gid))!;
    expect(follower.snapshot.mode).toBe('handed-over');
    const stranger = new FakeNode(hub, forger!.publicKey);
    await stranger.publish(sprintTopic('sprint-seed', genesisId(genesis)), new Uint8Array([1, 2, 3]));
    await new Promise((r) => setTimeout(r, 50)); // delivered while no host listens
    stranger.leave();
    const full = new SprintRuntime({
      genesis,
      signer: signerOf(fid),
      engine: referenceEngine(),
      node: followerNode,
      store: followerStore,
      verifier: walletVerifier(),
    });
    await full.start();
    const received = full.host.counters.received;
    switching.complete(full.host);
    // Participants' gossip of the same moment (epoch 1's commits, if the switch falls on its start) is kept too.
    expect(full.host.counters.received).toBeGreaterThanOrEqual(received + 1);
    expect(full.host.counters.rejected.MALFORMED).toBe(1);
    registry.runtimeStarted(gid, full.host);
    full.stop();
    await full.host.idle();
    await registry.runtimeStopped(gid, full.host);
    expect(follower.snapshot.mode).toBe('following');
    expect(holds(followerNode)).toBe(1); // the stopped runtime's transport let go
  }, 20_000);

  it('takes back when Contribute stops while the runtime’s host is still loading the store', async () => {
    const gid = follower.genesisId;
    await until('the follower on its own host', () => follower.snapshot.mode === 'following', 5_000);
    const wallet: WalletKeys = {
      publicKey: fid!.publicKey,
      unlocked: () => ({ ed25519Seed: fid!.seed, blsSecretKey: fid!.bls }),
      subscribe: () => () => undefined,
    };
    const page = new BrowserRuntime({ genesis, wallet, backend: 'cpu', newEngineClient: idleClient, ledgers: registry });
    // The runtime's host waits in its load until the page has been disposed.
    const keys = followerStore.keys.bind(followerStore);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let loading = false;
    followerStore.keys = async (prefix) => {
      loading = true;
      await gate;
      return keys(prefix);
    };
    const started = page.start(followerNode as unknown as SprintnetNode).then(
      () => null,
      (e: unknown) => e,
    );
    try {
      await until('the runtime’s host loading', () => loading && page.sprintRuntime !== null, 5_000);
    } finally {
      followerStore.keys = keys;
    }
    const disposed = page.dispose();
    open();
    await disposed;
    await started;
    // Before: dispose found no registered runtime to hand back, and the follower stayed handed over, with no host, for good.
    await until('the follower back on its own host', () => follower.snapshot.mode === 'following' && follower.ownHost !== null, 5_000);
    expect(registry.runtimeHost(gid)).toBeNull();
    expect(registry.host(gid)).toBe(follower.ownHost);
    expect(holds(followerNode)).toBe(1);
  }, 20_000);

  it('refuses a forged certified state from a lying peer, as a late participant does', async () => {
    await until('epoch 0 over', () => Date.now() > schedule(genesis, 0).end + 100, 30_000);
    const honest = participants[0]!.host.view(0)!;
    const forged = { ...honest.state, hosts: honest.state.hosts.map((h, i) => (i === 0 ? { ...h, weight: h.weight + 1_000 } : h)) };
    const forgedHash = stateHash(forged);
    const vote = (await signMessage(signerOf(forger), genesis, {
      epoch: 0,
      sender: forger!.publicKey,
      timestampMs: schedule(genesis, 0).close + 1,
      kind: 'vote',
      stateHash: forgedHash,
    })) as unknown as VoteMessage;
    const lie = encodeStateResponse(encodeState(forged), encodeCertificate({ epoch: 0, stateHash: forgedHash, votes: [vote] }));
    // Another network: the liar answers `state` with the forgery and everything else as an honest participant.
    const hub2: FakeNode[] = [];
    const liar = new FakeNode(hub2, simIdentity(66, NET).publicKey);
    await liar.handle(syncProtocol(genesis), async (req, ctx) => (decodeRequest(req).op === 'state' ? lie : participants[0]!.host.serve(req, ctx.peerId)));
    const late = new SprintRuntime({
      genesis,
      signer: signerOf(simIdentity(65, NET)),
      engine: referenceEngine(),
      node: new FakeNode(hub2, simIdentity(65, NET).publicKey),
      store: new MemoryStore(),
      verifier: walletVerifier(),
    });
    const lateFollower = new LedgerFollower({
      genesis,
      publicKey: null,
      openStore: async () => new MemoryStore(),
      registry: new LedgerRegistry(),
      refreshMs: 100,
    });
    await late.start();
    await lateFollower.start(new FakeNode(hub2, simIdentity(67, NET).publicKey) as unknown as SprintnetNode);
    try {
      const hosts = [late.host, lateFollower.ownHost!];
      // Both refuse the forgery, then sync the messages and derive; the honest votes give them the honest certificate.
      await until('both past epoch 0', () => hosts.every((h) => h.view(0) && h.certificate(0)), 15_000);
      for (const h of hosts) {
        expect(h.counters.rejected.BAD_CERTIFICATE).toBeGreaterThanOrEqual(1);
        expect(h.view(0)!.hash).not.toBe(hex(forgedHash));
        expect(hex(h.certificate(0)!.stateHash)).toBe(honest.hash);
        // Synced votes arrive before the rest of the epoch: the messages after them still count.
        expect(h.view(0)!.hash).toBe(honest.hash);
        expect(h.counters.rejected.EPOCH_CLOSED ?? 0).toBe(0);
      }
      expect(lateFollower.ownHost!.view(0)!.hash).toBe(late.host.view(0)!.hash);
      expect(lateFollower.ownHost!.view(0)!.certificate).toBe(late.host.view(0)!.certificate);
      expect(lateFollower.ownHost!.counters.rejected.BAD_CERTIFICATE).toBe(late.host.counters.rejected.BAD_CERTIFICATE);
    } finally {
      late.stop();
      await lateFollower.stop();
    }
  }, 45_000);

  it('answers sync: a late participant that reaches only the follower catches up from it; forged requests get a participant’s answers', async () => {
    const own = follower.ownHost!;
    const certified = participants[0]!.host.view(0)!;
    expect(own.view(0)!.hash).toBe(certified.hash);
    // The follower's node restarts onto a network where no participant answers (as the page's node does at a wallet unlock).
    const hub3: FakeNode[] = [];
    const moved = new FakeNode(hub3, fid!.publicKey);
    follower.node.attach(moved as unknown as SprintnetNode);
    // The switch moves its hold with it.
    expect([holds(followerNode), holds(moved)]).toEqual([0, 1]);
    const refusedBefore = { ...follower.snapshot.refused };
    const servedBefore = own.counters.requestsServed;
    const lateId = simIdentity(69, NET);
    const lateNode = new FakeNode(hub3, lateId.publicKey);
    const lines: string[] = [];
    const late = new SprintRuntime({
      genesis,
      signer: signerOf(lateId),
      engine: referenceEngine(),
      node: lateNode,
      store: new MemoryStore(),
      verifier: walletVerifier(),
      log: (l) => lines.push(l),
    });
    let stranger: FakeNode | undefined;
    try {
      await until('the follower’s handler on its new node', () => moved.handles(syncProtocol(genesis)), 2_000);
      expect(await late.host.peerHead(hex(fid!.publicKey))).toBe(1);
      await late.start();
      await until('epoch 0 caught up from the follower', () => late.host.view(0) !== undefined, 10_000);
      await late.host.idle();
      const view = late.host.view(0)!;
      // Derived from the messages the follower served (not adopted), and certified by the votes it served.
      expect(view.hash).toBe(certified.hash);
      expect(view.certificate).toBe('certified');
      expect(hex(late.host.certificate(0)!.stateHash)).toBe(certified.hash);
      expect(lines.some((l) => l.includes('epoch 0: caught up (derived certified state)'))).toBe(true);
      for (const id of participants[0]!.host.pool.ids(0)) expect(late.host.pool.has(0, id)).toBe(true);
      expect(own.counters.requestsServed - servedBefore).toBeGreaterThanOrEqual(5); // head, state, summary, ids, get
      late.stop();

      // Forged requests: the follower answers (or refuses) exactly as a participant does.
      const participantPeer = peerIdFromPublicKeyBytes(p1!.publicKey);
      stranger = new FakeNode(hub, forger!.publicKey);
      const ask = (from: FakeNode, to: string, req: Uint8Array) =>
        from.request(to, syncProtocol(genesis), req).then(
          (bytes) => ({ bytes: hex(bytes) }),
          (e: unknown) => ({ code: isProtocolError(e) ? e.code : 'not typed', message: (e as Error).message }),
        );
      const tooMany = new Uint8Array(1 + 8 + 2 + 513 * 32);
      tooMany.set([3, 0, 0, 0, 0, 0, 0, 0, 0, 513 & 0xff, 513 >> 8]);
      const forged: Record<string, Uint8Array> = {
        'unknown op': Uint8Array.of(99),
        'trailing bytes': Uint8Array.of(6, 0),
        'get of 513 ids': tooMany,
        'summary of an unknown epoch': encodeRequest({ op: 'summary', epoch: 999 }),
        'ids of an unknown epoch': encodeRequest({ op: 'ids', epoch: 999, mask: 0xffff }),
        'state of an unknown epoch': encodeRequest({ op: 'state', epoch: 999 }),
        'list of an unknown root': encodeRequest({ op: 'list', root: new Uint8Array(32).fill(5) }),
      };
      for (const [what, req] of Object.entries(forged)) {
        const fromFollower = await ask(lateNode, moved.peerId, req);
        expect(fromFollower, what).toEqual(await ask(stranger, participantPeer, req));
        if (what.startsWith('unknown op') || what.startsWith('trailing') || what.startsWith('get of'))
          expect(fromFollower, what).toMatchObject({ code: 'BAD_REQUEST' });
      }
      expect(await ask(lateNode, moved.peerId, forged['state of an unknown epoch']!)).toEqual({ bytes: '01' }); // not found

      // Serving signed and sent nothing.
      expect(moved.published + followerNode.published).toBe(0);
      expect(follower.snapshot.refused).toEqual(refusedBefore);
      for (const e of late.host.pool.epochs()) expect(late.host.pool.messages(e).filter((m) => hex(m.sender) === hex(fid!.publicKey))).toEqual([]);
    } finally {
      late.stop();
      stranger?.leave();
      follower.node.attach(followerNode as unknown as SprintnetNode);
    }
    expect([holds(followerNode), holds(moved)]).toEqual([1, 0]);
  }, 30_000);

  it('lets go of the genesis’s topics on the node when it stops', async () => {
    expect(holds(followerNode)).toBe(1);
    await follower.stop();
    expect(holds(followerNode)).toBe(0);
  });
});

describe('certifiedOnly', () => {
  it('writes a derived state only once a stored certificate names it, and flushes every write', async () => {
    const inner = new MemoryStore();
    const { store, flush } = certifiedOnly(inner);
    const view = participants[0]!.host.view(0)!;
    const cert = encodeCertificate(participants[0]!.host.certificate(0)!);
    const other = encodeState({ ...view.state, seed: new Uint8Array(32).fill(9) });
    void store.put('state/000000000000', other);
    void store.put('msg/000000000000/ab', new Uint8Array([1]));
    await flush();
    expect(await inner.get('state/000000000000')).toBeUndefined();
    expect(await store.get('state/000000000000')).toEqual(other); // the host still reads what it derived
    expect(await inner.get('msg/000000000000/ab')).toEqual(new Uint8Array([1]));
    void store.put('cert/000000000000', cert);
    await flush();
    expect(await inner.get('state/000000000000')).toBeUndefined(); // the certificate names another state
    void store.put('state/000000000000', encodeState(view.state));
    await flush();
    expect(await inner.get('state/000000000000')).toEqual(encodeState(view.state));
  });
});
