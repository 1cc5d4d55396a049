/** Helpers for Node tests of the network layer (not shipped to the browser). */
import './node-env.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { SprintnetNode, type SprintnetNodeOptions } from './node.ts';
import type { NetworkConfig } from './config.ts';

export const LOOPBACK_WS = '/ip4/127.0.0.1/tcp/0/ws';

export async function testNode(seedByte: number, role: SprintnetNodeOptions['role'], config: Partial<NetworkConfig> = {}): Promise<SprintnetNode> {
  const identity = await identityFromEd25519Seed(new Uint8Array(32).fill(seedByte));
  const node = await SprintnetNode.create({ identity, role, label: `test-${seedByte}`, config: { presenceIntervalMs: 500, ...config } });
  await node.start();
  return node;
}

export async function waitFor(check: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
