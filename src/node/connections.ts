/** Describes libp2p connections the way the network view and tests talk about them. */
import type { Connection } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

export type TransportKind = 'webrtc' | 'relayed' | 'websockets' | 'other';

export interface ConnectionInfo {
  /** libp2p's connection id: two connections to one peer may share the remote address (one each way). */
  id: string;
  peerId: string;
  remoteAddr: string;
  transport: TransportKind;
  direction: 'inbound' | 'outbound';
  /** Relayed connections carry data/time limits; direct ones do not. */
  limited: boolean;
}

/**
 * A browser-to-browser WebRTC address is `<relay addr>/p2p-circuit/webrtc/p2p/<peer>`: the
 * circuit part only says how signalling was routed, the data flows directly. A plain relayed
 * connection has `/p2p-circuit` without `/webrtc`.
 */
export function classifyAddr(addr: string): TransportKind {
  if (addr.includes('/webrtc')) return 'webrtc';
  if (addr.includes('/p2p-circuit')) return 'relayed';
  if (addr.includes('/ws') || addr.includes('/wss')) return 'websockets';
  return 'other';
}

export function describeConnection(c: Connection): ConnectionInfo {
  const remoteAddr = c.remoteAddr.toString();
  return {
    id: c.id,
    peerId: c.remotePeer.toString(),
    remoteAddr,
    transport: classifyAddr(remoteAddr),
    direction: c.direction,
    limited: c.limits != null,
  };
}

/**
 * The peer ids of configured relay multiaddrs (their last `/p2p/<id>`). An address without one is
 * skipped: the relay role and discovery dials are only granted to relays named by id.
 */
export function relayPeerIds(relays: readonly string[]): Map<string, string> {
  const byId = new Map<string, string>();
  for (const addr of relays) {
    let id: string | undefined;
    try {
      id = multiaddr(addr)
        .getComponents()
        .findLast((c) => c.name === 'p2p')?.value;
    } catch {
      continue;
    }
    if (id && !byId.has(id)) byId.set(id, addr);
  }
  return byId;
}

/**
 * The IP an address's first component names (`/ip4/…` or `/ip6/…`), the way gossipsub records a
 * peer's IP for its colocation score; undefined for DNS names and anything else.
 */
export function addrIp(addr: string | Multiaddr): string | undefined {
  let first: { name: string; value?: string } | undefined;
  try {
    first = (typeof addr === 'string' ? multiaddr(addr) : addr).getComponents()[0];
  } catch {
    return undefined;
  }
  return first && (first.name === 'ip4' || first.name === 'ip6') ? first.value : undefined;
}
