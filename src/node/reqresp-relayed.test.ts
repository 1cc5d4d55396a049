/**
 * A call to a peer reached through the relay rides the relayed connection it has, even while
 * another dial to that peer is under way. libp2p joins dials by peer id, so a call that dialled
 * would share that dial's fate: in the browser it is discovery's WebRTC upgrade, whose signalling
 * on a loaded machine outlasts libp2p's 6 s per-address limit, and the split user saw "cannot
 * reach <volunteer>: TimeoutError" with a working relayed connection in hand (e2e/split.spec.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { testNode, waitFor } from './test-helpers.ts';
import type { Connection } from '@libp2p/interface';
import type { SprintnetNode } from './node.ts';

let relay: RunningRelay;
let x: SprintnetNode, y: SprintnetNode;
/** Accepts TCP connections, never answers the websocket handshake and drops them after HOLD_MS: a dial to it fails then. */
let blackhole: Server;
const HOLD_MS = 3_000;
const held: Socket[] = [];

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

beforeAll(async () => {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  relay = await startRelay({ port, seed: new Uint8Array(32).fill(44) });
  const config = { relays: [relay.multiaddr], webrtcUpgrade: false };
  [x, y] = await Promise.all([testNode(26, 'host', config), testNode(27, 'host', config)]);
  blackhole = createServer((s) => {
    s.on('error', () => undefined);
    held.push(s);
    setTimeout(() => s.destroy(), HOLD_MS);
  });
});

afterAll(async () => {
  for (const s of held) s.destroy();
  blackhole?.close();
  await Promise.all([x?.stop(), y?.stop(), relay?.stop()]);
});

it('a call uses the open relayed connection instead of joining a pending dial that fails', async () => {
  await y.handle('echo', async (r) => r);
  await waitFor(() => y.multiaddrs().some((m) => m.endsWith(`/p2p-circuit/p2p/${y.peerId}`)), 10_000, 'reservation');
  await x.libp2p.dial(multiaddr(y.multiaddrs().find((m) => m.endsWith(`/p2p-circuit/p2p/${y.peerId}`))!));
  expect(
    x
      .connections()
      .filter((c) => c.peerId === y.peerId)
      .map((c) => c.transport),
  ).toEqual(['relayed']);

  // Another dial to y is under way (as discovery's would be), and it will fail.
  const pending = x.libp2p.dial(multiaddr(`/ip4/127.0.0.1/tcp/${await listen(blackhole)}/ws/p2p/${y.peerId}`)).then(
    () => null,
    (e: unknown) => e ?? new Error('the dial failed'),
  );
  const started = Date.now();
  const payload = new Uint8Array(1000).fill(7);
  const answer = await x.request(y.peerId, 'echo', payload, { timeoutMs: 10_000 });
  expect(answer).toEqual(payload);
  // Answered over the relay before the other dial gave up, and that dial did fail.
  expect(Date.now() - started).toBeLessThan(HOLD_MS);
  expect(await pending).not.toBeNull();
});

it('a stream that fails to open on the direct connection is opened on the relayed one', async () => {
  // x holds the relayed connection of the test above. A direct connection libp2p counts open but
  // whose data channel closes before it opens rejects with the close Event, as @libp2p/webrtc does.
  let tried = 0;
  const dying = {
    status: 'open',
    limits: undefined,
    remoteAddr: multiaddr(`/ip4/127.0.0.1/udp/9/webrtc-direct/p2p/${y.peerId}`),
    newStream: async () => {
      tried++;
      throw new Event('close');
    },
  } as unknown as Connection;
  const real = x.libp2p.getConnections.bind(x.libp2p);
  x.libp2p.getConnections = (peer) => [dying, ...real(peer)];
  try {
    const payload = new Uint8Array(500).fill(9);
    expect(await x.request(y.peerId, 'echo', payload, { timeoutMs: 10_000 })).toEqual(payload);
    expect(tried).toBe(1);
  } finally {
    x.libp2p.getConnections = real;
  }
});
