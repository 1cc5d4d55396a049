/**
 * Relay resilience in Node: two hosts meet through the relay, upgrade to direct WebRTC
 * (node-datachannel), keep gossiping and calling each other when the relay dies, and re-dial the
 * relay with backoff when it comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { testNode, waitFor } from './test-helpers.ts';
import type { SprintnetNode } from './node.ts';

const RELAY_SEED = new Uint8Array(32).fill(42);
let port: number;
let relay: RunningRelay | undefined;
let a: SprintnetNode, b: SprintnetNode;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  relay = await startRelay({ port, seed: RELAY_SEED });
  const config = { relays: [relay.multiaddr], redialInitialMs: 200, redialMaxMs: 1_000 };
  [a, b] = await Promise.all([testNode(20, 'host', config), testNode(21, 'host', config)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), relay?.stop()]);
});

const webrtcBetween = (x: SprintnetNode, y: SprintnetNode) => x.connections().some((c) => c.peerId === y.peerId && c.transport === 'webrtc');

describe('relay and direct connections', () => {
  it('reserve a relay slot, discover each other and upgrade to WebRTC', async () => {
    await waitFor(() => a.relayState === 'connected' && b.relayState === 'connected', 10_000, 'relay');
    await waitFor(() => a.multiaddrs().some((m) => m.includes('/p2p-circuit/webrtc')), 10_000, 'reservation');
    await waitFor(() => webrtcBetween(a, b) && webrtcBetween(b, a), 20_000, 'WebRTC');
  });

  it('keep gossiping and calling over WebRTC after the relay stops, then re-dial it', async () => {
    await b.handle('echo', async (r) => r);
    await relay!.stop();
    relay = undefined;
    await waitFor(() => a.relayState !== 'connected', 5_000, 'relay loss noticed');
    let fromB = 0;
    const off = a.onGossip('presence', (m) => {
      if (m.from === b.peerId) fromB++;
    });
    await waitFor(() => fromB >= 2, 10_000, 'gossip without relay');
    off();
    const res = await a.request(b.peerId, 'echo', new Uint8Array(100_000).fill(3), { timeoutMs: 5_000 });
    expect(res.length).toBe(100_000);
    expect(webrtcBetween(a, b)).toBe(true);

    relay = await startRelay({ port, seed: RELAY_SEED });
    await waitFor(() => a.relayState === 'connected' && b.relayState === 'connected', 15_000, 'relay re-dialled');
  });

  it('carries more than 128 KiB over a relayed connection (raised relay data limit)', async () => {
    const config = { relays: [relay!.multiaddr], webrtcUpgrade: false };
    const [x, y] = await Promise.all([testNode(22, 'host', config), testNode(23, 'host', config)]);
    try {
      await y.handle('echo', async (r) => r);
      await waitFor(() => y.multiaddrs().some((m) => m.endsWith(`/p2p-circuit/p2p/${y.peerId}`)), 10_000, 'reservation');
      const circuit = y.multiaddrs().find((m) => m.endsWith(`/p2p-circuit/p2p/${y.peerId}`))!;
      await x.libp2p.dial(multiaddr(circuit));
      expect(
        x
          .connections()
          .filter((c) => c.peerId === y.peerId)
          .map((c) => c.transport),
      ).toEqual(['relayed']);
      const big = new Uint8Array(1024 * 1024).fill(5);
      const res = await x.request(y.peerId, 'echo', big, { timeoutMs: 20_000 });
      expect(res.length).toBe(big.length);
    } finally {
      await Promise.all([x.stop(), y.stop()]);
    }
  });
});
