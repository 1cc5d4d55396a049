/**
 * Interop: the docs-only client (client.ts, generic libp2p packages, no src/node) joins an in-process
 * relay and headless host, receives and verifies the host's presence, publishes its own presence,
 * which the host accepts, makes an end-to-end encrypted request, and sees a forged message dropped
 * and scored as docs/network.md says.
 */
import '../node/node-env.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type RunningRelay } from '../node/relay-server.ts';
import { SprintnetNode, type PeerPresence } from '../node/node.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { waitFor } from '../node/test-helpers.ts';
import { InteropClient, decodeEnvelope, encodePresence, signEnvelope, type VerifiedPresence } from './client.ts';
import { at } from '../sprint/indexing.ts';

let dir: string;
let relay: RunningRelay;
let host: SprintnetNode;
let client: InteropClient;
const hostSeen = new Map<string, PeerPresence>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sprintnet-interop-'));
  relay = await startRelay({ port: 0, seed: new Uint8Array(32).fill(70), networkJsonPaths: [join(dir, 'network.json')] });
  host = await SprintnetNode.create({
    identity: await identityFromEd25519Seed(new Uint8Array(32).fill(71)),
    role: 'host',
    label: 'interop-host',
    registry: defaultRegistry(),
    config: { relays: [relay.multiaddr], listen: ['/ip4/127.0.0.1/tcp/0/ws'], presenceIntervalMs: 500, webrtcUpgrade: false },
  });
  host.addEventListener('presence', (e) => {
    const p = (e as CustomEvent<PeerPresence>).detail;
    hostSeen.set(p.peerId, p);
  });
  await host.handle('echo', async (request) => request.slice().reverse());
  await host.start();
  // The client learns the network id and relay address the way the web app does: network.json.
  const json = JSON.parse(await readFile(join(dir, 'network.json'), 'utf8')) as { networkId: string; relays: string[] };
  client = await InteropClient.start({ seed: new Uint8Array(32).fill(72), networkId: json.networkId, relays: json.relays });
});

afterAll(async () => {
  await client?.stop();
  await host?.stop();
  await relay?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a client written from the docs', () => {
  it('imports nothing from the project', async () => {
    const source = await readFile(new URL('./client.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
    expect(imports.length).toBeGreaterThan(5);
    expect(imports.filter((i) => i.startsWith('.') || i.startsWith('/'))).toEqual([]);
  });

  it("receives the host's presence through the relay and verifies it", async () => {
    await waitFor(() => client.presences.has(host.peerId), 20_000, "host's presence at the client");
    const p = client.presences.get(host.peerId) as VerifiedPresence;
    expect(p.role).toBe('host');
    expect(p.label).toBe('interop-host');
    expect(p.envelope.version).toBe(1);
    expect(p.multiaddrs.length).toBeGreaterThan(0);
    expect(p.multiaddrs.every((a) => a.endsWith(`/p2p/${host.peerId}`))).toBe(true);
    expect(client.dropped).toEqual([]);
  });

  it('publishes its own presence, which the host accepts', async () => {
    const deadline = Date.now() + 20_000;
    while (!hostSeen.has(client.peerId) && Date.now() < deadline) {
      await client.publishPresence({ role: 'browser', label: 'docs-only client ✓', multiaddrs: [] });
      await new Promise((r) => setTimeout(r, 500));
    }
    const seen = hostSeen.get(client.peerId);
    expect(seen).toMatchObject({ role: 'browser', label: 'docs-only client ✓', multiaddrs: [] });
  });

  it('makes an end-to-end encrypted request to the host', async () => {
    const p = client.presences.get(host.peerId) as VerifiedPresence;
    const direct = p.multiaddrs.filter((a) => a.includes('/ws/') && !a.includes('/p2p-circuit'));
    expect(direct.length).toBeGreaterThan(0);
    const payload = new Uint8Array(40_000).map((_, i) => i & 0xff);
    const response = await client.request(host.peerId, direct, 'echo', payload);
    expect(response).toEqual(payload.slice().reverse());
  });

  it('a forged message is dropped and costs the publisher 20 points at the relay, as documented', async () => {
    const rejected: Array<{ peerId: string; reason: string }> = [];
    relay.node.addEventListener('rejected', (e) => rejected.push((e as CustomEvent<{ peerId: string; reason: string }>).detail));
    const before = relay.node.scores.score(client.peerId);
    const good = signEnvelope(new Uint8Array(32).fill(72), {
      networkId: relay.node.config.networkId,
      topic: 'presence',
      payload: encodePresence({ role: 'browser', label: 'forged', multiaddrs: [] }),
    });
    const forged = good.slice();
    forged[forged.length - 1] = at(forged, forged.length - 1, 'signature byte') ^ 1;
    expect(decodeEnvelope(forged).payload.length).toBeGreaterThan(0);
    await client.publishRaw(forged);
    await waitFor(() => rejected.some((r) => r.peerId === client.peerId && r.reason === 'bad-signature'), 10_000, 'relay rejection');
    expect(relay.node.scores.score(client.peerId)).toBeCloseTo(before - 20, 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(hostSeen.get(client.peerId)?.label).toBe('docs-only client ✓');
  });
});
