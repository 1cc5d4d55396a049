/**
 * Network state for the UI. The store owns the browser's SprintnetNode and turns its events into
 * plain state; components only read it. The Sprint runtime reaches the node via getNode() (and
 * follows restarts through `nodeGeneration`). It also holds what network.json says: the relays and
 * the network's genesis (checked; `genesisProblem` says why one was refused).
 */
import { create } from 'zustand';
import { SprintnetNode, defaultRegistry, type ConnectionInfo, type GossipMessage, type PeerPresence, type RelayState } from '../../node/index.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { currentIdentitySource, discoverNetwork, iceServersFromUrl, type NetworkDiscovery } from './sources.ts';

export interface PeerView {
  peerId: string;
  role: string;
  label: string;
  lastSeenMs: number;
  /** Gossip messages received from this peer since we started. */
  received: number;
}

export interface GossipView {
  id: string;
  topic: string;
  from: string;
  atMs: number;
}

/**
 * `online` only while this node has a connection to the network (the relay, or any peer): a started
 * node with none is `offline`, which the screens call "Not connected to the network".
 */
export type NetworkStatus = 'idle' | 'starting' | 'online' | 'offline' | 'stopped' | 'error';

export interface NetworkState {
  status: NetworkStatus;
  error?: string;
  peerId?: string;
  relays: string[];
  relayState: RelayState;
  multiaddrs: string[];
  connections: ConnectionInfo[];
  peers: Record<string, PeerView>;
  gossip: GossipView[];
  rejected: number;
  /** network.json has been read (or found missing). */
  networkKnown: boolean;
  /** The network's genesis, or null: no network.json, none in it, or refused (see genesisProblem). */
  genesis: Genesis | null;
  genesisProblem: string | null;
  /** Bumped whenever getNode() changes (start, stop, restart with another identity). */
  nodeGeneration: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stop and start again, e.g. after `setIdentitySource` gave a new (wallet) identity. */
  restart(): Promise<void>;
}

const RECENT_GOSSIP = 20;
let node: SprintnetNode | undefined;
let refreshTimer: ReturnType<typeof setInterval> | undefined;
/** Read once per page: a relay restarted with a new genesis is a new network, and needs a reload. */
let discovery: Promise<NetworkDiscovery> | null = null;

export function getNode(): SprintnetNode | undefined {
  return node;
}

export const useNetworkStore = create<NetworkState>()((set, get) => ({
  status: 'idle',
  relays: [],
  relayState: 'idle',
  multiaddrs: [],
  connections: [],
  peers: {},
  gossip: [],
  rejected: 0,
  networkKnown: false,
  genesis: null,
  genesisProblem: null,
  nodeGeneration: 0,

  async start() {
    if (get().status === 'starting' || get().status === 'online' || get().status === 'offline') return;
    set({ status: 'starting', error: undefined });
    try {
      discovery ??= discoverNetwork();
      const network = await discovery;
      set({ networkKnown: true, genesis: network.genesis, genesisProblem: network.problem });
      const identity = await currentIdentitySource()();
      if (!identity) {
        set({ status: 'idle' });
        return;
      }
      const relays = network.relays;
      const n = await SprintnetNode.create({
        identity,
        role: 'browser',
        registry: defaultRegistry(),
        label: navigator.userAgent.includes('Headless') ? 'headless browser' : 'browser',
        // Topic names carry the network id: the genesis's, else the relay's, else the default.
        config: {
          relays,
          iceServers: iceServersFromUrl(),
          ...((network.genesis?.networkId ?? network.networkId) ? { networkId: network.genesis?.networkId ?? network.networkId! } : {}),
        },
      });
      node = n;
      wire(n, set, get);
      await n.start();
      set((s) => ({
        status: connectedStatus(n),
        peerId: n.peerId,
        relays,
        relayState: n.relayState,
        connections: n.connections(),
        nodeGeneration: s.nodeGeneration + 1,
      }));
    } catch (e) {
      set({ status: 'error', error: (e as Error).message });
    }
  },

  async stop() {
    clearInterval(refreshTimer);
    const n = node;
    node = undefined;
    set((s) => ({ nodeGeneration: s.nodeGeneration + 1 }));
    await n?.stop();
    set({ status: 'stopped', connections: [], relayState: 'idle', peers: {}, gossip: [], peerId: undefined });
  },

  async restart() {
    await get().stop();
    await get().start();
  },
}));

type Set = (partial: Partial<NetworkState> | ((s: NetworkState) => Partial<NetworkState>)) => void;

/**
 * The peers the node's presence table still holds: a peer not heard from for `presenceTtlMs` has
 * left, and the Network screen and the peer count on Contribute stop naming it (they kept every
 * peer ever seen). Returns `peers` itself when nothing expired, so the store does not re-render.
 */
export function livePeers(peers: Record<string, PeerView>, n: Pick<SprintnetNode, 'presence'>): Record<string, PeerView> {
  const gone = Object.keys(peers).filter((id) => !n.presence.has(id));
  if (gone.length === 0) return peers;
  const kept = { ...peers };
  for (const id of gone) delete kept[id];
  return kept;
}

/** Connected means a live connection: the relay reached, or a peer (a network without relays). */
export function connectedStatus(n: Pick<SprintnetNode, 'relayState' | 'connections'>): 'online' | 'offline' {
  return n.relayState === 'connected' || n.connections().length > 0 ? 'online' : 'offline';
}

function wire(n: SprintnetNode, set: Set, get: () => NetworkState): void {
  const refresh = () => {
    if (node !== n) return;
    const started = get().status === 'online' || get().status === 'offline';
    set({
      connections: n.connections(),
      multiaddrs: n.multiaddrs(),
      relayState: n.relayState,
      peers: livePeers(get().peers, n),
      ...(started ? { status: connectedStatus(n) } : {}),
    });
  };
  n.addEventListener('connections', refresh);
  n.addEventListener('relay', refresh);
  refreshTimer = setInterval(refresh, 2_000);
  n.addEventListener('presence', (e) => {
    const p = (e as CustomEvent<PeerPresence>).detail;
    set((s) => ({
      peers: {
        ...s.peers,
        [p.peerId]: { peerId: p.peerId, role: p.role, label: p.label, lastSeenMs: p.lastSeenMs, received: s.peers[p.peerId]?.received ?? 0 },
      },
    }));
  });
  n.addEventListener('gossip', (e) => {
    const m = (e as CustomEvent<GossipMessage>).detail;
    set((s) => {
      const peer = s.peers[m.from];
      return {
        gossip: [{ id: m.id, topic: m.topic, from: m.from, atMs: Date.now() }, ...s.gossip].slice(0, RECENT_GOSSIP),
        peers: peer ? { ...s.peers, [m.from]: { ...peer, received: peer.received + 1 } } : s.peers,
      };
    });
  });
  n.addEventListener('rejected', () => set((s) => ({ rejected: s.rejected + 1 })));
}
