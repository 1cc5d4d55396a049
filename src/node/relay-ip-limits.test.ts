/**
 * The relay's per-IP caps (relay-limits.ts): with loopback not exempt, peers from 127.0.0.1 get at
 * most `maxReservationsPerIp` reservations and `maxConnectionsPerIp` connections; the rest are
 * refused, and a peer renewing its own reservation is not.
 */
import './node-env.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { multiaddr } from '@multiformats/multiaddr';
import { ipKey } from './relay-limits.ts';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { waitFor } from './test-helpers.ts';

let relay: RunningRelay | undefined;
const clients: Libp2p[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await relay?.stop();
});

async function client(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  });
  clients.push(node);
  return node;
}

const reserved = (n: Libp2p) => n.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'));

describe('ipKey', () => {
  it('keys IPv4 by address, IPv6 by /64, mapped IPv4 as IPv4', () => {
    expect(ipKey(multiaddr('/ip4/10.1.2.3/tcp/1/ws'))).toBe('10.1.2.3');
    expect(ipKey(multiaddr('/ip6/2001:db8:1:2:aaaa::1/tcp/1'))).toBe('2001:db8:1:2::/64');
    expect(ipKey(multiaddr('/ip6/2001:db8:1:2:bbbb::7/tcp/1'))).toBe('2001:db8:1:2::/64');
    expect(ipKey(multiaddr('/ip6/::1/tcp/1'))).toBe('::1');
    expect(ipKey(multiaddr('/ip6/::ffff:10.0.0.1/tcp/1'))).toBe('10.0.0.1');
    expect(ipKey(multiaddr('/p2p-circuit'))).toBeUndefined();
  });
});

describe('relay per-IP caps', () => {
  it('refuses reservations and connections past the caps for one IP', async () => {
    relay = await startRelay({ port: 0, ipLimits: { maxConnectionsPerIp: 3, maxReservationsPerIp: 2, exempt: [] } });
    const relayAddr = multiaddr(relay.multiaddr);
    const [a, b, c] = [await client(), await client(), await client()];
    for (const n of [a, b, c]) await n.dial(relayAddr);
    await waitFor(() => reserved(a) && reserved(b), 15_000, 'two reservations');
    await waitFor(() => relay!.ipLimiter.refusedReservations > 0, 15_000, 'a refused reservation');
    expect(reserved(c)).toBe(false);
    expect(relay.ipLimiter.reservationsFrom('127.0.0.1')).toBe(2);
    expect(relay.ipLimiter.connectionsFrom('127.0.0.1')).toBe(3);

    // A fourth connection from the same IP is refused.
    const d = await client();
    await expect(d.dial(relayAddr, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
    expect(relay.ipLimiter.refusedConnections).toBeGreaterThan(0);
    expect(relay.ipLimiter.connectionsFrom('127.0.0.1')).toBe(3);

    // When a holder leaves and its reservation is gone, another peer from that IP may reserve.
    await a.stop();
    await waitFor(() => relay!.ipLimiter.connectionsFrom('127.0.0.1') === 2, 10_000, 'a gone');
    const relayService = (relay.node.libp2p.services as unknown as { relay: { reservations: { delete(p: unknown): void } } }).relay;
    relayService.reservations.delete(a.peerId);
    await d.dial(relayAddr, { signal: AbortSignal.timeout(10_000) });
    await waitFor(() => reserved(d), 15_000, 'reservation after a slot frees');
    expect(relay.ipLimiter.reservationsFrom('127.0.0.1')).toBe(2);
  });
});
