/**
 * Circuit relay v2 server limits for Sprintnet. The libp2p defaults (15 reservations, relayed
 * connections cut after 2 min or 128 KiB) are for public relays that only carry hole-punch
 * signalling; here a relayed connection also carries gossip and request/response until the WebRTC
 * upgrade finishes, and a small network puts every browser on the same relay.
 *
 * Per-IP caps (RelayIpLimiter): one host must not take every connection slot or every reservation.
 * libp2p already limits how fast one host may connect (`inboundConnectionThreshold`, 5 per second)
 * and how many connections may be mid-handshake (`maxIncomingPendingConnections`, 10); the limiter
 * caps how many one IP may hold.
 */
import type { CircuitRelayServerInit } from '@libp2p/circuit-relay-v2';
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';

export const RELAY_SERVER_LIMITS: CircuitRelayServerInit = {
  hopTimeout: 30_000,
  maxInboundHopStreams: 256,
  maxOutboundStopStreams: 256,
  reservations: {
    maxReservations: 512,
    reservationTtl: 2 * 60 * 60_000,
    applyDefaultLimit: true,
    /** 30 minutes per relayed connection: enough for signalling and for slow WebRTC set-ups. */
    defaultDurationLimit: 30 * 60_000,
    /** 64 MiB per relayed connection: well above SDP/ICE signalling and a few large requests. */
    defaultDataLimit: 64n * 1024n * 1024n,
  },
};

export interface RelayIpLimits {
  /** Open connections from one IP (IPv6: one /64), counted when a connection arrives and again after its handshake. */
  maxConnectionsPerIp: number;
  /** Reservations held by peers connected from one IP (IPv6: one /64). A peer renewing its own is always allowed. */
  maxReservationsPerIp: number;
  /** IPs the caps do not apply to. Default: loopback, so a whole test network can run on one machine. */
  exempt: string[];
}

export const RELAY_IP_LIMITS: RelayIpLimits = {
  maxConnectionsPerIp: 32,
  maxReservationsPerIp: 16,
  exempt: ['127.0.0.1', '::1'],
};

/** What the limiter reads from the running relay. */
export interface RelayView {
  connections(): Array<{ remoteAddr: Multiaddr; remotePeer: PeerId }>;
  /** The circuit relay server's reservations: peer and the address it reserved from. */
  reservations(): Iterable<[PeerId, { addr: Multiaddr }]>;
}

/**
 * The IP a multiaddr comes from, as the key the caps count by: IPv4 as is, IPv6 as its /64 prefix
 * (one subscriber usually holds a whole /64), IPv4-mapped IPv6 as the IPv4 address. Undefined for
 * addresses without an IP (relayed, WebRTC without one).
 */
export function ipKey(addr: Multiaddr): string | undefined {
  const first = addr.getComponents()[0];
  if (!first?.value) return undefined;
  if (first.name === 'ip4') return first.value;
  if (first.name !== 'ip6') return undefined;
  const v6 = first.value.toLowerCase().replace(/%.*$/, ''); // without the zone index
  const groups = expandIpv6(v6);
  if (!groups) return v6;
  if (groups.every((g, i) => (i < 7 ? g === 0 : g === 1))) return '::1';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

type Ipv6Groups = [number, number, number, number, number, number, number, number];

function expandIpv6(text: string): Ipv6Groups | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [before = '', after] = halves;
  const parse = (s: string) =>
    s === ''
      ? []
      : s.split(':').flatMap((g) => {
          const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(g); // a dotted IPv4 tail is two groups
          if (!v4) return [/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN];
          const [o1 = NaN, o2 = NaN, o3 = NaN, o4 = NaN] = v4.slice(1).map(Number);
          if (![o1, o2, o3, o4].every((o) => o <= 255)) return [NaN];
          return [(o1 << 8) | o2, (o3 << 8) | o4];
        });
  const head = parse(before);
  const tail = after === undefined ? [] : parse(after);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (after === undefined && missing !== 0)) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return isIpv6Groups(groups) && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function isIpv6Groups(groups: number[]): groups is Ipv6Groups {
  return groups.length === 8;
}

/** Connection-gater hooks that enforce RelayIpLimits; `attach` it to the relay once it exists. */
export class RelayIpLimiter {
  readonly limits: RelayIpLimits;
  private view: RelayView | undefined;
  private readonly exempt: Set<string>;
  /** Refusals so far, for logs and tests. */
  refusedConnections = 0;
  refusedReservations = 0;

  constructor(limits: Partial<RelayIpLimits> = {}) {
    this.limits = { ...RELAY_IP_LIMITS, ...limits };
    this.exempt = new Set(this.limits.exempt);
  }

  attach(view: RelayView): void {
    this.view = view;
  }

  /** Open connections whose remote address has this IP key. */
  connectionsFrom(key: string): number {
    return (this.view?.connections() ?? []).filter((c) => ipKey(c.remoteAddr) === key).length;
  }

  /** Reservations taken from this IP key. */
  reservationsFrom(key: string): number {
    let n = 0;
    for (const [, r] of this.view?.reservations() ?? []) if (ipKey(r.addr) === key) n++;
    return n;
  }

  private capped(key: string | undefined): key is string {
    return key !== undefined && !this.exempt.has(key);
  }

  private tooManyConnections(addr: Multiaddr): boolean {
    const key = ipKey(addr);
    if (!this.capped(key) || this.connectionsFrom(key) < this.limits.maxConnectionsPerIp) return false;
    this.refusedConnections++;
    return true;
  }

  readonly gater: Pick<ConnectionGater, 'denyInboundConnection' | 'denyInboundUpgradedConnection' | 'denyInboundRelayReservation'> = {
    // Cheap, before the handshake; checked again after it, because handshakes run in parallel.
    denyInboundConnection: (maConn: MultiaddrConnection) => this.tooManyConnections(maConn.remoteAddr),
    denyInboundUpgradedConnection: (_peer: PeerId, maConn: MultiaddrConnection) => this.tooManyConnections(maConn.remoteAddr),
    denyInboundRelayReservation: (peer: PeerId) => {
      const view = this.view;
      if (!view) return false;
      for (const [holder] of view.reservations()) if (holder.equals(peer)) return false; // a renewal
      // The server reserves for the connection the request came on; any direct one of this peer's shows its IP.
      const keys = new Set(
        view
          .connections()
          .filter((c) => c.remotePeer.equals(peer))
          .map((c) => ipKey(c.remoteAddr))
          .filter((k) => k !== undefined),
      );
      for (const key of keys) {
        if (this.capped(key) && this.reservationsFrom(key) >= this.limits.maxReservationsPerIp) {
          this.refusedReservations++;
          return true;
        }
      }
      return false;
    },
  };
}
