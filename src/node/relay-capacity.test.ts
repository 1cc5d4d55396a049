/** The relay takes more than libp2p's default 15 reservations (relay-limits.ts). */
import { afterAll, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from './relay-server.ts';
import { testNode, waitFor } from './test-helpers.ts';
import type { SprintnetNode } from './node.ts';

const PEERS = 18;
let relay: RunningRelay | undefined;
const peers: SprintnetNode[] = [];

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await relay?.stop();
});

it(`reserves slots for ${PEERS} peers`, async () => {
  relay = await startRelay({ port: 0 });
  for (let i = 0; i < PEERS; i++) {
    peers.push(await testNode(100 + i, 'host', { relays: [relay.multiaddr], presenceIntervalMs: 60_000 }));
  }
  const reserved = () => peers.filter((p) => p.multiaddrs().some((m) => m.includes('/p2p-circuit'))).length;
  await waitFor(() => reserved() === PEERS, 30_000, 'all reservations');
  expect(reserved()).toBe(PEERS);
});
