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
import type { Ed25519PrivateKey, Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { networkConfig, topicName, type NetworkConfig } from './config.ts';
import { describeConnection, type ConnectionInfo } from './connections.ts';
import { decodeEnvelope, encodeEnvelope, randomEnvelopeId, signEnvelope } from './envelope.ts';
import { TopicRegistry, type TopicSpec } from './registry.ts';
import { RelayKeeper, type RelayState } from './relay-keeper.ts';
import { RequestResponse, type RequestHandler, type RequestLimits, type RequestOptions } from './reqresp.ts';
import { PeerScores } from './scores.ts';
import { PRESENCE_TOPIC, presenceTopic, type NodeRole, type Presence } from './topics/presence.ts';
import { EnvelopeValidator, type RejectReason } from './validator.ts';

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

export interface PeerPresence extends Presence {
  peerId: string;
  lastSeenMs: number;
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
  inboundGater?: Pick<
    import('@libp2p/interface').ConnectionGater,
    'denyInboundConnection' | 'denyInboundUpgradedConnection' | 'denyInboundRelayReservation'
  >;
}

/** Rejections that depend on the receiver's clock or history rather than on the bytes alone. */
const LOCAL_VIEW_REASONS = new Set<RejectReason>(['stale', 'wrong-sprint', 'replay']);

/** SDP/ICE exchange over the relay normally takes well under a second on a LAN. */
const WEBRTC_DIAL_TIMEOUT_MS = 15_000;

export type Services = { identify: unknown; pubsub: GossipSub };

export class SprintnetNode extends EventTarget {
  readonly config: NetworkConfig;
  readonly registry: TopicRegistry;
  readonly scores: PeerScores;
  readonly peerId: string;
  readonly presence = new Map<string, PeerPresence>();
  private readonly validator: EnvelopeValidator;
  private readonly rpc: RequestResponse;
  private readonly relays: RelayKeeper;
  private readonly dialing = new Map<string, number>();
  private presenceTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  private constructor(
    readonly libp2p: Libp2p<Services>,
    private readonly options: SprintnetNodeOptions,
    config: NetworkConfig,
    registry: TopicRegistry,
    scores: PeerScores,
  ) {
    super();
    this.config = config;
    this.registry = registry;
    this.scores = scores;
    this.peerId = options.identity.peerId;
    this.validator = new EnvelopeValidator(config, registry);
    this.rpc = new RequestResponse(libp2p, options.identity, config.networkId);
    this.relays = new RelayKeeper(libp2p, config.relays, config.redialInitialMs, config.redialMaxMs, (state) =>
      this.emit('relay', state),
    );
  }

  static async create(options: SprintnetNodeOptions): Promise<SprintnetNode> {
    const config = networkConfig(options.config);
    const registry = options.registry ?? new TopicRegistry();
    if (!registry.get(PRESENCE_TOPIC)) registry.register(presenceTopic);
    // The gater consults the score table, so a banned peer can neither dial us nor be dialled.
    let scores: PeerScores | undefined;
    const banned = (peer: PeerId) => scores?.isBanned(peer.toString()) ?? false;
    const isRelay = options.role === 'relay';
    const libp2p = await createLibp2p<Services>({
      privateKey: options.identity.libp2pKey,
      // Peers listen on the relay (a reservation) and for WebRTC offers signalled through it; the
      // relay itself only listens on its websockets address.
      addresses: { listen: isRelay ? config.listen : ['/p2p-circuit', '/webrtc', ...config.listen] },
      transports: isRelay
        ? [webSockets()]
        : [
            webSockets(),
            webRTC({ rtcConfiguration: { iceServers: config.iceServers } }),
            circuitRelayTransport({ reservationCompletionTimeout: 20_000 }),
          ],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: {
        ...options.inboundGater,
        // Browsers refuse ws:// and private addresses by default; a local relay is both.
        denyDialMultiaddr: () => false,
        denyDialPeer: banned,
        denyInboundEncryptedConnection: banned,
        denyOutboundEncryptedConnection: banned,
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
          maxInboundDataLength: maxTopicBytes(registry) + 4096,
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
    for (const name of this.registry.names()) pubsub.subscribe(topicName(this.config.networkId, name));
    this.relays.start();
    if (this.options.role !== 'relay') {
      this.presenceTimer = setInterval(() => void this.announce(), this.config.presenceIntervalMs);
      void this.announce();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.presenceTimer);
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

  private validate(name: string, peer: PeerId, msg: Message): TopicValidatorResult {
    const origin = msg.type === 'signed' && msg.key.type === 'Ed25519' ? msg.key.raw : undefined;
    const verdict = this.validator.validate(name, msg.data, origin);
    if (verdict.ok) return TopicValidatorResult.Accept;
    const peerId = peer.toString();
    // Clock, Sprint-window and replay verdicts depend on what this node has seen and its clock; an
    // honest peer forwarding someone else's message may have judged differently. Drop those
    // silently (ignore) and score only the origin, when it sent the message to us itself.
    const forwarded = msg.type !== 'signed' || !msg.from.equals(peer);
    if (forwarded && LOCAL_VIEW_REASONS.has(verdict.reason)) return TopicValidatorResult.Ignore;
    const disconnect = this.scores.penalize(peerId, verdict.reason);
    this.emit('rejected', { peerId, topic: name, reason: verdict.reason, detail: verdict.detail, score: this.scores.score(peerId) });
    if (disconnect) void this.libp2p.hangUp(peer).catch(() => undefined);
    return TopicValidatorResult.Reject;
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
    const entry: PeerPresence = { ...message.value, peerId: message.from, lastSeenMs: Date.now() };
    this.presence.set(message.from, entry);
    this.emit('presence', entry);
    void this.upgradeToWebRTC(entry);
  }

  /**
   * Discovery: a peer's presence lists its relayed `/webrtc` address; dialling it signals over the
   * relay and ends with a direct data channel. Only the smaller peer id dials, so two peers do not
   * race each other into two connections.
   */
  private async upgradeToWebRTC(peer: PeerPresence): Promise<void> {
    if (!this.config.webrtcUpgrade || this.options.role === 'relay' || peer.role === 'relay' || this.stopped) return;
    if (this.peerId > peer.peerId) return;
    if (this.connections().some((c) => c.peerId === peer.peerId && c.transport === 'webrtc')) return;
    const retryAt = this.dialing.get(peer.peerId) ?? 0;
    if (retryAt > Date.now()) return;
    const addr = peer.multiaddrs.find((a) => a.includes('/p2p-circuit/webrtc'));
    if (!addr) return;
    // One dial at a time per peer; after it ends, the next presence may try again.
    this.dialing.set(peer.peerId, Number.POSITIVE_INFINITY);
    try {
      await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(WEBRTC_DIAL_TIMEOUT_MS) });
    } catch {
      // Retried on a later presence.
    } finally {
      this.dialing.set(peer.peerId, Date.now() + this.config.presenceIntervalMs);
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

  private readonly onConnectionsChanged = () => {
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
