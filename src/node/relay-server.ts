/**
 * Node-only: the relay/bootstrap node. A Sprintnet node in the `relay` role: websockets listener,
 * circuit relay v2 server (limits in relay-limits.ts), identify, gossipsub subscribed to every
 * registered topic so it validates and forwards gossip between peers that are not yet directly
 * connected. Sprint topics are per genesis: the relay serves its own genesis's and, within a cap,
 * those its peers subscribe to (genesis-topics.ts).
 */
import './node-env.ts';
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { SprintnetNode } from './node.ts';
import type { NetworkConfig } from './config.ts';
import type { TopicRegistry } from './registry.ts';
import { defaultRegistry } from './topics/index.ts';
import { GenesisTopics } from './genesis-topics.ts';
import { RelayIpLimiter, type RelayIpLimits } from './relay-limits.ts';
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2';

export const RELAY_MAX_CONNECTIONS = 1024;

export interface RelayOptions {
  port: number;
  host?: string;
  /** 32-byte seed for a stable relay peer id; random when absent. */
  seed?: Uint8Array;
  /** Files to write `{ "relays": [addr], "networkId": …, "genesis": … }` into, for the web app to fetch. */
  networkJsonPaths?: string[];
  /** The network's genesis in its JSON form (docs/protocol.md §3), copied into network.json as is. */
  genesis?: unknown;
  /**
   * Id of the genesis whose Sprint topics the relay always serves (`genesisId(g)`, 16 hex digits;
   * the CLI passes that of `genesis`). Other geneses' are served while peers subscribe to them, at
   * most `maxGeneses` (genesis-topics.ts MAX_RELAY_GENESES) at a time, and at most
   * `maxGenesesPerPeer` (MAX_GENESES_PER_PEER) for any one peer id's subscriptions.
   */
  genesisId?: string;
  maxGeneses?: number;
  maxGenesesPerPeer?: number;
  config?: Partial<NetworkConfig>;
  registry?: TopicRegistry;
  /** Per-IP connection and reservation caps; defaults in relay-limits.ts (RELAY_IP_LIMITS). */
  ipLimits?: Partial<RelayIpLimits>;
}

export interface RunningRelay {
  node: SprintnetNode;
  /** The relay's dialable multiaddr, including /p2p/<relay id>. */
  multiaddr: string;
  /** The per-IP caps in force, with their refusal counts. */
  ipLimiter: RelayIpLimiter;
  /** The geneses whose Sprint topics it serves. */
  geneses: GenesisTopics;
  stop(): Promise<void>;
}

export interface NetworkJson {
  networkId: string;
  relays: string[];
  /** Genesis JSON of the Sprint protocol (parsed and checked by src/app/network-json.ts). */
  genesis?: unknown;
}

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const identity = await identityFromEd25519Seed(options.seed ?? crypto.getRandomValues(new Uint8Array(32)));
  const host = options.host ?? '127.0.0.1';
  const ipLimiter = new RelayIpLimiter(options.ipLimits);
  const node = await SprintnetNode.create({
    identity,
    role: 'relay',
    label: 'relay',
    registry: options.registry ?? defaultRegistry(),
    // Every peer of a small network holds a connection (and a reservation) here.
    config: { maxConnections: RELAY_MAX_CONNECTIONS, ...options.config, listen: [`/ip4/${host}/tcp/${options.port}/ws`] },
    inboundGater: ipLimiter.gater,
  });
  const relayService = (node.libp2p.services as unknown as { relay: CircuitRelayService }).relay;
  ipLimiter.attach({
    connections: () => node.libp2p.getConnections(),
    reservations: () => relayService.reservations.entries(),
  });
  const geneses = new GenesisTopics(node, { pinned: options.genesisId, maxGeneses: options.maxGeneses, maxPerPeer: options.maxGenesesPerPeer });
  await node.start();
  geneses.start();
  const addr = node.multiaddrs().find((a) => a.includes('/ws'));
  if (!addr) throw new Error('relay has no websockets address');
  const json: NetworkJson = { networkId: node.config.networkId, relays: [addr], ...(options.genesis === undefined ? {} : { genesis: options.genesis }) };
  for (const path of options.networkJsonPaths ?? []) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(json, null, 2) + '\n');
  }
  return {
    node,
    multiaddr: addr,
    ipLimiter,
    geneses,
    stop: () => {
      geneses.stop();
      return node.stop();
    },
  };
}

/** Resolves on the first SIGINT/SIGTERM, so commands can shut down cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export function parseSeedHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new RangeError('seed must be 64 hex characters (32 bytes)');
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}
