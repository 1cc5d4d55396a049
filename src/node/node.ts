/**
 * The Sprintnet peer: one libp2p node (WebRTC + websockets + circuit relay, noise, yamux, identify,
 * gossipsub) whose peer id is the wallet's Ed25519 key, plus the signed-envelope gossip layer,
 * request/response, presence-based discovery and relay re-dial. The same code runs in the browser
 * and in Node (headless host); protocol logic stays in the callers.
 */
import './polyfills.ts';
import { createLibp2p } from 'libp2p';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { RELAY_SERVER_LIMITS } from './relay-limits.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub, TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';
import type { Connection, Ed25519PrivateKey, Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { networkConfig, topicName, type NetworkConfig } from './config.ts';
import { addrIp, describeConnection, relayPeerIds, type ConnectionInfo } from './connections.ts';
import { decodeEnvelope, encodeEnvelope, randomEnvelopeId, signEnvelope } from './envelope.ts';
import { TopicRegistry, type TopicSpec } from './registry.ts';
import { RelayKeeper, type RelayState } from './relay-keeper.ts';
import { RequestResponse, type RequestHandler, type RequestLimits, type RequestOptions } from './reqresp.ts';
import { GOSSIP_SCORE_THRESHOLDS, PENALTIES, PeerScores, TOPIC_SCORE_PARAMS, gossipScoreParams } from './scores.ts';
import { MAX_SPRINT_PAYLOAD_BYTES } from './topics/index.ts';
import { PRESENCE_TOPIC, presenceTopic, type NodeRole, type Presence } from './topics/presence.ts';
import { PresenceTable, TokenBucket, webrtcDialAddr, type PeerPresence } from './topics/presence-table.ts';
import { EnvelopeValidator, gossipOrigin, type RejectReason } from './validator.ts';

export type { PeerPresence };

/** What the node needs from the wallet: `SigningIdentity` from src/wallet/identity.ts fits. */
export interface NodeIdentity {
  readonly ed25519Seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly libp2pKey: Ed25519PrivateKey;
  readonly peerId: string;
}

export interface GossipMessage<T = unknown> {
  topic: string;
  /** Sender's peer id (derived from the envelope's signing key). */
  from: string;
  value: T;
  timestampMs: number;
  sprint: number;
  /** Hex envelope id. */
  id: string;
}

export interface SprintnetNodeEvents {
  gossip: CustomEvent<GossipMessage>;
  rejected: CustomEvent<{ peerId: string; topic: string; reason: RejectReason; detail?: string; score: number }>;
  connections: CustomEvent<ConnectionInfo[]>;
  relay: CustomEvent<RelayState>;
  presence: CustomEvent<PeerPresence>;
}

export interface SprintnetNodeOptions {
  identity: NodeIdentity;
  role: NodeRole;
  label?: string;
  config?: Partial<NetworkConfig>;
  /** Topics beyond `presence`; every role must register the same ones so relays can validate and forward. */
  registry?: TopicRegistry;
  /** Extra inbound checks, e.g. the relay's per-IP caps (relay-limits.ts). */
  inboundGater?: Pick<import('@libp2p/interface').ConnectionGater, 'denyInboundConnection' | 'denyInboundUpgradedConnection' | 'denyInboundRelayReservation'>;
}

/** Rejections that depend on the receiver's clock or history rather than on the bytes alone. */
const LOCAL_VIEW_REASONS = new Set<RejectReason>(['stale', 'wrong-sprint', 'replay', 'flood']);

/** What we read off the gossipsub router beyond its public interface (present in @libp2p/gossipsub 17). */
interface GossipRouterView {
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
}

/** SDP/ICE exchange over the relay normally takes well under a second on a LAN. */
const WEBRTC_DIAL_TIMEOUT_MS = 15_000;

export type Services = { identify: unknown; pubsub: GossipSub };

export class SprintnetNode extends EventTarget {
  readonly config: NetworkConfig;
  readonly registry: TopicRegistry;
  readonly scores: PeerScores;
  readonly peerId: string;
  /** Peers seen on the presence topic: capped at `maxPresencePeers`, entries expire after `presenceTtlMs`. */
  readonly presence: PresenceTable;
  private readonly validator: EnvelopeValidator;
  private readonly rpc: RequestResponse;
  private readonly relays: RelayKeeper;
  /** Configured relays: peer id → our multiaddr for it. */
  private readonly relayAddrs: ReadonlyMap<string, string>;
  /** IPs exempt from gossipsub's P6; shared with gossipsub's score parameters. */
  private readonly ipWhitelist: Set<string>;
  private readonly dialing = new Map<string, number>();
  private readonly dialBudget: TokenBucket;
  private presenceTimer: ReturnType<typeof setInterval> | undefined;
  private expiryTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private started = false;
  /** Topics added with `addTopics` → how many holders added them; subscribed while above zero. */
  private readonly topicHolds = new Map<string, number>();

  private constructor(
    readonly libp2p: Libp2p<Services>,
    private readonly options: SprintnetNodeOptions,
    config: NetworkConfig,
    registry: TopicRegistry,
    scores: PeerScores,
    ipWhitelist: Set<string>,
  ) {
    super();
    this.config = config;
    this.registry = registry;
    this.scores = scores;
    this.ipWhitelist = ipWhitelist;
    this.peerId = options.identity.peerId;
    this.relayAddrs = relayPeerIds(config.relays);
    this.presence = new PresenceTable(config.maxPresencePeers, config.presenceTtlMs);
    this.dialBudget = new TokenBucket(config.discoveryDialBurst, config.discoveryDialsPerMinute);
    this.validator = new EnvelopeValidator(config, registry);
    this.rpc = new RequestResponse(libp2p, options.identity, config.networkId);
    this.relays = new RelayKeeper(libp2p, config.relays, config.redialInitialMs, config.redialMaxMs, (state) => this.emit('relay', state));
  }

  static async create(options: SprintnetNodeOptions): Promise<SprintnetNode> {
    const config = networkConfig(options.config);
    const registry = options.registry ?? new TopicRegistry();
    if (!registry.get(PRESENCE_TOPIC)) registry.register(presenceTopic);
    // The gater consults the score table, so a banned peer can neither dial us nor be dialled.
    let scores: PeerScores | undefined;
    const banned = (peer: PeerId) => scores?.isBanned(peer.toString()) ?? false;
    // Every Sprintnet identity is an Ed25519 wallet key; any other peer id cannot sign envelopes.
    const refused = (peer: PeerId) => peer.type !== 'Ed25519' || banned(peer);
    const isRelay = options.role === 'relay';
    // P6 exemptions: every peer reached through a relay (relayed or WebRTC) shows the relay's IP.
    const ipWhitelist = new Set<string>(config.ipColocationWhitelist);
    for (const addr of config.relays) {
      const ip = addrIp(addr);
      if (ip) ipWhitelist.add(ip);
    }
    const libp2p = await createLibp2p<Services>({
      privateKey: options.identity.libp2pKey,
      // Peers listen on the relay (a reservation) and for WebRTC offers signalled through it; the
      // relay itself only listens on its websockets address.
      addresses: { listen: isRelay ? config.listen : ['/p2p-circuit', '/webrtc', ...config.listen] },
      transports: isRelay
        ? [webSockets()]
        : [webSockets(), webRTC({ rtcConfiguration: { iceServers: config.iceServers } }), circuitRelayTransport({ reservationCompletionTimeout: 20_000 })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: {
        ...options.inboundGater,
        // Browsers refuse ws:// and private addresses by default; a local relay is both.
        denyDialMultiaddr: () => false,
        denyDialPeer: refused,
        denyInboundEncryptedConnection: refused,
        denyOutboundEncryptedConnection: refused,
      },
      connectionManager: { maxConnections: config.maxConnections },
      services: {
        ...(isRelay ? { relay: circuitRelayServer(RELAY_SERVER_LIMITS) } : {}),
        identify: identify(),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          // Gossip only over unlimited connections (websockets to the relay, direct WebRTC). A stream
          // on a relayed connection would die with the relay while gossipsub still counted the peer
          // as connected through its WebRTC connection, silently cutting the pair off.
          runOnLimitedConnection: false,
          // Our envelope is signed by the wallet; the libp2p signature binds it to the publishing peer.
          globalSignaturePolicy: 'StrictSign',
          // Sprint topics are added per genesis after start (addTopics), so their limit counts too.
          maxInboundDataLength: Math.max(maxTopicBytes(registry), MAX_SPRINT_PAYLOAD_BYTES) + 4096,
          // Only /meshsub/1.x: floodsub would be one more way in, with no scoring or mesh limits.
          fallbackToFloodsub: false,
          scoreParams: gossipScoreParams({
            topics: registry.names().map((n) => topicName(config.networkId, n)),
            appScore: (peerId) => scores?.score(peerId) ?? 0,
            ipWhitelist,
          }),
          scoreThresholds: GOSSIP_SCORE_THRESHOLDS,
        }),
      },
      start: false,
    });
    const node: SprintnetNode = new SprintnetNode(
      libp2p,
      options,
      config,
      registry,
      (scores = new PeerScores(config.scoreDisconnectThreshold, config.banMs)),
      ipWhitelist,
    );
    return node;
  }

  get pubsub(): GossipSub {
    return this.libp2p.services.pubsub;
  }

  async start(): Promise<void> {
    const { pubsub } = this;
    for (const name of this.registry.names()) {
      const wire = topicName(this.config.networkId, name);
      pubsub.topicValidators.set(wire, (peer, msg) => this.validate(name, peer, msg));
    }
    pubsub.addEventListener('message', this.onMessage);
    this.libp2p.addEventListener('connection:open', this.onConnectionsChanged);
    this.libp2p.addEventListener('connection:close', this.onConnectionsChanged);
    this.libp2p.addEventListener('self:peer:update', this.onSelfUpdate);
    await this.libp2p.start();
    // A relay's own IPs: peers on the relay's host (a local test network) are not Sybils.
    if (this.options.role === 'relay') {
      for (const addr of this.libp2p.getMultiaddrs()) {
        const ip = addrIp(addr);
        if (ip) this.ipWhitelist.add(ip);
      }
    }
    // Topics added before start (addTopics) get their score parameters here too.
    for (const name of this.registry.names()) this.listen(name);
    this.started = true;
    this.relays.start();
    this.expiryTimer = setInterval(() => this.expirePresence(), Math.max(1_000, this.config.presenceTtlMs / 2));
    if (this.options.role !== 'relay') {
      this.presenceTimer = setInterval(() => void this.announce(), this.config.presenceIntervalMs);
      void this.announce();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.presenceTimer);
    clearInterval(this.expiryTimer);
    this.relays.stop();
    this.pubsub.removeEventListener('message', this.onMessage);
    this.libp2p.removeEventListener('connection:open', this.onConnectionsChanged);
    this.libp2p.removeEventListener('connection:close', this.onConnectionsChanged);
    this.libp2p.removeEventListener('self:peer:update', this.onSelfUpdate);
    await this.libp2p.stop();
  }

  get relayState(): RelayState {
    return this.relays.state;
  }

  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  connections(): ConnectionInfo[] {
    return this.libp2p.getConnections().map(describeConnection);
  }

  /**
   * Registers topics after creation (a genesis's Sprint topics, src/node/topics sprintTopicSpecs):
   * validated, scored (P4) and subscribed like the topics registered at start. Reference-counted:
   * each call holds the topics once more, and each `removeTopics` of them lets go of one hold, so
   * two users of one genesis (a page's Sprint runtime and its ledger follower, two transports) keep
   * it subscribed until both have let go. A name registered at creation is left as it is.
   */
  addTopics(specs: readonly TopicSpec<unknown>[]): void {
    if (this.stopped) return;
    for (const spec of specs) {
      const held = this.topicHolds.get(spec.name);
      if (held !== undefined) {
        this.topicHolds.set(spec.name, held + 1);
        continue;
      }
      if (this.registry.get(spec.name)) continue;
      this.registry.register(spec);
      this.topicHolds.set(spec.name, 1);
      if (this.started) this.listen(spec.name);
    }
  }

  /**
   * Lets go of one hold on each topic added with `addTopics`; the last one unsubscribes from the topic
   * and forgets it (a relay dropping a genesis, a page no longer using one): its gossip is then neither
   * received nor forwarded. Names never added (those registered at creation) are ignored.
   */
  removeTopics(names: readonly string[]): void {
    for (const name of names) {
      const held = this.topicHolds.get(name);
      if (held === undefined) continue;
      if (held > 1) {
        this.topicHolds.set(name, held - 1);
        continue;
      }
      this.topicHolds.delete(name);
      this.registry.unregister(name);
      if (!this.started || this.stopped) continue;
      const wire = topicName(this.config.networkId, name);
      this.pubsub.unsubscribe(wire);
      this.pubsub.topicValidators.delete(wire);
      delete this.scoredTopics()?.[wire];
    }
  }

  /** Validates, scores and subscribes one registered topic. */
  private listen(name: string): void {
    const wire = topicName(this.config.networkId, name);
    this.pubsub.topicValidators.set(wire, (peer, msg) => this.validate(name, peer, msg));
    const scored = this.scoredTopics();
    if (scored && !scored[wire]) scored[wire] = createTopicScoreParams(TOPIC_SCORE_PARAMS);
    this.pubsub.subscribe(wire);
  }

  /**
   * Gossipsub's per-topic score parameters (P4), which its scorer reads by topic at each event: a
   * topic added after creation is scored once it has an entry. Undefined if the router keeps them
   * elsewhere (then such topics go without P4; our own scores still count through P5).
   */
  private scoredTopics(): Record<string, unknown> | undefined {
    const topics = (this.pubsub as unknown as { score?: { params?: { topics?: unknown } } }).score?.params?.topics;
    return topics && typeof topics === 'object' ? (topics as Record<string, unknown>) : undefined;
  }

  /** Signs `value` in an envelope and gossips it on the registered topic `name`. */
  async publish<T>(name: string, value: T, options: { sprint?: number } = {}): Promise<void> {
    const spec = this.registry.get(name) as TopicSpec<T> | undefined;
    if (!spec) throw new Error(`topic '${name}' is not registered`);
    const payload = spec.codec.encode(value);
    if (payload.length > spec.maxPayloadBytes) {
      throw new RangeError(`payload of ${payload.length} bytes exceeds the ${name} limit of ${spec.maxPayloadBytes}`);
    }
    await this.publishRaw(name, this.sealEnvelope(name, payload, options.sprint));
  }

  /** The signed envelope bytes for `payload`, without publishing (tests and re-broadcast use it). */
  sealEnvelope(name: string, payload: Uint8Array, sprint = this.config.currentSprint() ?? 0): Uint8Array {
    const { identity } = this.options;
    const envelope = signEnvelope(identity.ed25519Seed, {
      version: this.config.protocolVersion,
      networkId: this.config.networkId,
      topic: name,
      sender: identity.publicKey,
      id: randomEnvelopeId(),
      timestampMs: Date.now(),
      sprint,
      payload,
    });
    return encodeEnvelope(envelope);
  }

  /** Publishes bytes as they are: no signing, no checks. For tests of peers' validators. */
  async publishRaw(name: string, data: Uint8Array): Promise<void> {
    await this.pubsub.publish(topicName(this.config.networkId, name), data);
  }

  /** Typed subscription helper: calls `listener` for each accepted message on topic `name`. */
  onGossip<T>(name: string, listener: (message: GossipMessage<T>) => void): () => void {
    const handler = (evt: Event) => {
      const message = (evt as CustomEvent<GossipMessage<T>>).detail;
      if (message.topic === name) listener(message);
    };
    this.addEventListener('gossip', handler);
    return () => this.removeEventListener('gossip', handler);
  }

  handle(name: string, handler: RequestHandler, limits?: Partial<RequestLimits>): Promise<void> {
    return this.rpc.handle(name, handler, limits);
  }

  unhandle(name: string): Promise<void> {
    return this.rpc.unhandle(name);
  }

  request(peerId: string, name: string, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    return this.rpc.request(peerId, name, payload, options);
  }

  /** This peer's gossipsub score as our router sees it (P4 + P5 + P6 + P7). */
  gossipScore(peerId: string): number {
    return this.router().getScore(peerId);
  }

  /** Peers in our gossipsub mesh for the registered topic `name`. */
  meshPeers(name: string): string[] {
    return this.router().getMeshPeers(topicName(this.config.networkId, name));
  }

  /** IPs currently exempt from gossipsub's IP-colocation penalty (P6). */
  ipColocationWhitelist(): string[] {
    return [...this.ipWhitelist];
  }

  private router(): GossipRouterView {
    const router = this.pubsub as unknown as Partial<GossipRouterView>;
    if (typeof router.getScore !== 'function' || typeof router.getMeshPeers !== 'function') {
      throw new TypeError('the gossipsub router exposes no getScore/getMeshPeers');
    }
    return router as GossipRouterView;
  }

  private validate(name: string, peer: PeerId, msg: Message): TopicValidatorResult {
    const verdict = this.validator.validate(name, msg.data, gossipOrigin(msg));
    if (verdict.ok) return TopicValidatorResult.Accept;
    const { reason } = verdict;
    // Another protocol version (a rolling upgrade), a replay cache too full to prove the envelope
    // new, or a claim only our configuration refuses: nobody is at fault. Dropped, not forwarded,
    // not scored.
    if (PENALTIES[reason] === 0) return TopicValidatorResult.Ignore;
    if (LOCAL_VIEW_REASONS.has(reason)) {
      // Clock, Sprint-window, replay and flood verdicts depend on what this node has seen and its
      // clock; an honest peer forwarding the message may have judged differently. Dropped with
      // `ignore` (so gossipsub charges no P4 to anyone who forwarded it), and scored only against
      // the origin, when it sent the message to us itself.
      const forwarded = msg.type !== 'signed' || !msg.from.equals(peer);
      if (!forwarded) this.penalize(peer, name, verdict);
      return TopicValidatorResult.Ignore;
    }
    // Judged on the bytes alone: the propagating peer validated them too and should have dropped
    // them. `reject` also counts against it in gossipsub (P4).
    this.penalize(peer, name, verdict);
    return TopicValidatorResult.Reject;
  }

  private penalize(peer: PeerId, topic: string, verdict: { reason: RejectReason; detail?: string }): void {
    const peerId = peer.toString();
    const disconnect = this.scores.penalize(peerId, verdict.reason);
    this.emit('rejected', { peerId, topic, reason: verdict.reason, detail: verdict.detail, score: this.scores.score(peerId) });
    if (disconnect) void this.libp2p.hangUp(peer).catch(() => undefined);
  }

  private readonly onMessage = (evt: CustomEvent<Message>) => {
    const msg = evt.detail;
    const name = this.registry.names().find((n) => topicName(this.config.networkId, n) === msg.topic);
    const spec = name ? this.registry.get(name) : undefined;
    if (!name || !spec) return;
    // Already validated (signature, limits, replay) by the topic validator; only decode here.
    const envelope = decodeEnvelope(msg.data, spec.maxPayloadBytes);
    const message: GossipMessage = {
      topic: name,
      from: peerIdFromPublicKeyBytes(envelope.sender),
      value: spec.codec.decode(envelope.payload),
      timestampMs: envelope.timestampMs,
      sprint: envelope.sprint,
      id: toHex(envelope.id),
    };
    if (name === PRESENCE_TOPIC) this.onPresence(message as GossipMessage<Presence>);
    this.emit('gossip', message);
  };

  private onPresence(message: GossipMessage<Presence>): void {
    if (message.from === this.peerId) return;
    // A full table refuses newcomers; the peers already in it keep refreshing their entries.
    const entry = this.presence.upsert(message.from, message.value);
    if (!entry) return;
    this.emit('presence', entry);
    void this.upgradeToWebRTC(entry);
  }

  private expirePresence(): void {
    for (const peerId of this.presence.expire()) this.dialing.delete(peerId);
  }

  /**
   * Discovery: a peer's presence says on which relay it holds a reservation; we dial
   * `<our address of that relay>/p2p-circuit/webrtc/p2p/<peer>`, which signals over the relay and
   * ends with a direct data channel. Only relays we are configured with are used, so a presence
   * cannot make us dial a host or port of its choosing. Only the smaller peer id dials, so two peers
   * do not race each other into two connections, and dials are rate-limited (`discoveryDial*`).
   */
  private async upgradeToWebRTC(peer: PeerPresence): Promise<void> {
    if (!this.config.webrtcUpgrade || this.options.role === 'relay' || peer.role === 'relay' || this.stopped) return;
    if (this.peerId > peer.peerId) return;
    if (this.connections().some((c) => c.peerId === peer.peerId && c.transport === 'webrtc')) return;
    const retryAt = this.dialing.get(peer.peerId) ?? 0;
    if (retryAt > Date.now()) return;
    const addr = webrtcDialAddr(peer, peer.peerId, this.relayAddrs);
    if (!addr || !this.dialBudget.take()) return;
    // One dial at a time per peer; after it ends, the next presence may try again.
    this.dialing.set(peer.peerId, Number.POSITIVE_INFINITY);
    try {
      await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(WEBRTC_DIAL_TIMEOUT_MS) });
    } catch {
      // Retried on a later presence.
    } finally {
      if (this.presence.has(peer.peerId)) this.dialing.set(peer.peerId, Date.now() + this.config.presenceIntervalMs);
      else this.dialing.delete(peer.peerId);
    }
  }

  private async announce(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.publish<Presence>(PRESENCE_TOPIC, {
        role: this.options.role,
        label: this.options.label ?? this.options.role,
        multiaddrs: this.multiaddrs(),
      });
    } catch {
      // No peers yet or shutting down: the next tick tries again.
    }
  }

  private readonly onConnectionsChanged = (evt: CustomEvent<Connection>) => {
    // A relay named by DNS in the configuration: its IP is known once we are connected to it.
    const c = evt.detail;
    if (evt.type === 'connection:open' && this.relayAddrs.has(c.remotePeer.toString())) {
      const ip = addrIp(c.remoteAddr);
      if (ip) this.ipWhitelist.add(ip);
    }
    this.emit('connections', this.connections());
  };

  private readonly onSelfUpdate = () => {
    // New addresses (e.g. a fresh relay reservation): tell peers at once rather than at the next tick.
    void this.announce();
  };

  private emit<K extends keyof SprintnetNodeEvents>(type: K, detail: SprintnetNodeEvents[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function maxTopicBytes(registry: TopicRegistry): number {
  return Math.max(...registry.names().map((n) => registry.get(n)?.maxPayloadBytes ?? 0));
}

export function peerIdFromPublicKeyBytes(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
