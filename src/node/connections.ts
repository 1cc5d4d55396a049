/** Describes libp2p connections the way the network view and tests talk about them. */
import type { Connection } from '@libp2p/interface';

export type TransportKind = 'webrtc' | 'relayed' | 'websockets' | 'other';

export interface ConnectionInfo {
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
    peerId: c.remotePeer.toString(),
    remoteAddr,
    transport: classifyAddr(remoteAddr),
    direction: c.direction,
    limited: c.limits != null,
  };
}
