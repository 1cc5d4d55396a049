/**
 * Presence-based discovery in the node: the presence table is capped and expires, and a presence
 * cannot make a node dial a host or port of the sender's choosing.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LOOPBACK_WS, testNode, waitFor } from './test-helpers.ts';
import { peerIdFromPublicKeyBytes, type SprintnetNode } from './node.ts';
import type { NetworkConfig } from './config.ts';

let nodes: SprintnetNode[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});
afterAll(() => servers.forEach((s) => s.close()));

const wsAddr = (n: SprintnetNode) => multiaddr(n.multiaddrs().find((m) => m.includes('/ws/'))!);

/** One started node per seed, the first listening on loopback websockets; a tuple as long as `seeds`. */
async function start<const Seeds extends readonly number[]>(
  seeds: Seeds,
  config: Partial<NetworkConfig>,
): Promise<{ -readonly [K in keyof Seeds]: SprintnetNode }> {
  const started = await Promise.all(seeds.map((s, i) => testNode(s, 'host', i === 0 ? { ...config, listen: [LOOPBACK_WS] } : config)));
  nodes.push(...started);
  return started as { -readonly [K in keyof Seeds]: SprintnetNode };
}

/** A TCP server that counts connection attempts and answers none of them. */
function sink(): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((socket) => {
    hits++;
    socket.destroy();
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, hits: () => hits })));
}

describe('presence table in the node', () => {
  it('holds at most maxPresencePeers entries and expires silent peers, making room for others', async () => {
    const [a, ...others] = await start([80, 81, 82, 83], { maxPresencePeers: 2, presenceTtlMs: 1_500, webrtcUpgrade: false });
    for (const o of others) await o.libp2p.dial(wsAddr(a));
    const heardFrom = new Set<string>();
    a.onGossip('presence', (m) => heardFrom.add(m.from));
    await waitFor(() => heardFrom.size === 3, 10_000, 'presence from all three');
    expect(a.presence.size).toBe(2);
    const left = others.find((o) => !a.presence.has(o.peerId))!;
    // One listed peer goes silent: its entry expires and the peer left out gets its place.
    const quiet = others.find((o) => a.presence.has(o.peerId))!;
    await quiet.stop();
    await waitFor(() => !a.presence.has(quiet.peerId), 5_000, 'silent peer expired');
    await waitFor(() => a.presence.has(left.peerId), 5_000, 'the peer left out is listed');
    expect(a.presence.size).toBe(2);
  });
});

describe('discovery dials', () => {
  it("never dial the host and port a presence names, only our configured relay's circuit address", async () => {
    const trap = await sink();
    const relayId = peerIdFromPublicKeyBytes(ed25519.getPublicKey(new Uint8Array(32).fill(90)));
    // Our relay is configured at a closed port: discovery may dial it, never the sink.
    const closed = await sink();
    servers.at(-1)!.close();
    const config: Partial<NetworkConfig> = { relays: [`/ip4/127.0.0.1/tcp/${closed.port}/ws/p2p/${relayId}`], redialInitialMs: 60_000 };
    const [x, y] = await start([84, 85], config);
    await y.libp2p.dial(wsAddr(x));
    // Only the smaller peer id dials; the larger one publishes the bait.
    const [dialer, sender] = x.peerId < y.peerId ? [x, y] : [y, x];
    const bait = [
      // Tied to the sender and naming our relay's id, but at the sink's host and port.
      `/ip4/127.0.0.1/tcp/${trap.port}/ws/p2p/${relayId}/p2p-circuit/webrtc/p2p/${sender.peerId}`,
      // A relay we do not know, at the sink.
      `/ip4/127.0.0.1/tcp/${trap.port}/ws/p2p/${dialer.peerId}/p2p-circuit/webrtc/p2p/${sender.peerId}`,
    ];
    const dialled: string[] = [];
    const dial = dialer.libp2p.dial.bind(dialer.libp2p);
    dialer.libp2p.dial = ((target: Parameters<typeof dial>[0], options?: Parameters<typeof dial>[1]) => {
      dialled.push(target.toString());
      return dial(target, options);
    }) as typeof dial;
    let seen = 0;
    dialer.onGossip('presence', (m) => {
      if (m.from === sender.peerId && (m.value as { label: string }).label === 'bait') seen++;
    });
    for (let i = 0; i < 3; i++) {
      await sender.publish('presence', { role: 'host', label: 'bait', multiaddrs: bait });
      await new Promise((r) => setTimeout(r, 600));
    }
    await waitFor(() => seen >= 1, 5_000, 'the bait presence');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(trap.hits()).toBe(0);
    expect(dialled.length).toBeGreaterThan(0);
    for (const target of dialled) expect(target).toBe(`${config.relays![0]}/p2p-circuit/webrtc/p2p/${sender.peerId}`);
  });
});
