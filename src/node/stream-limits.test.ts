/**
 * Regression for "a body buffer is allocated from the announced length" (issue 9): over real libp2p
 * connections (websockets, noise, yamux), streams that announce 4 MiB and send only a head hold only
 * what they sent; the per-peer stream cap answers the excess with busy (PeerBusyError to a requester),
 * the byte budget refuses a peer that sends too much, and honest peers keep being served meanwhile.
 */
import './node-env.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Stream } from '@libp2p/interface';
import { FRAME_BODY, FRAME_REQUEST_HEAD, FrameReader, u32le, writeFrame } from './framing.ts';
import { PeerBusyError } from './errors.ts';
import { RequestResponse, STATUS_BUSY, type StreamLimits } from './reqresp.ts';
import { waitFor } from './test-helpers.ts';
import { at } from '../sprint/indexing.ts';

const NETWORK = 'limits-test';
const MiB = 1024 * 1024;

async function peer(seedByte: number, listen = false): Promise<{ libp2p: Libp2p; rpc: (limits?: Partial<StreamLimits>) => RequestResponse; seed: Uint8Array }> {
  const seed = new Uint8Array(32).fill(seedByte);
  const libp2p = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', seed),
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0/ws'] : [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
  });
  return { libp2p, seed, rpc: (limits) => new RequestResponse(libp2p, { ed25519Seed: seed }, NETWORK, limits) };
}

/** Opens a call and sends only the request head announcing `announced` bytes (plus `bodyBytes` of body). */
async function hold(stream: Stream, announced: number, bodyBytes = 0): Promise<void> {
  const head = new Uint8Array(37);
  head[0] = FRAME_REQUEST_HEAD;
  head.set(new Uint8Array(32).fill(9), 1);
  head.set(u32le(announced), 33);
  await writeFrame(stream, head);
  for (let sent = 0; sent < bodyBytes; sent += 16_000) {
    const n = Math.min(16_000, bodyBytes - sent);
    await writeFrame(stream, new Uint8Array(1 + n).fill(FRAME_BODY));
  }
}

async function firstStatus(stream: Stream): Promise<number> {
  const head = await new FrameReader(stream).next();
  return at(head, 1, 'status byte');
}

describe('request/response resource limits over libp2p', () => {
  let server: Awaited<ReturnType<typeof peer>>;
  let attacker: Awaited<ReturnType<typeof peer>>;
  let honest: Awaited<ReturnType<typeof peer>>;
  let serverRpc: RequestResponse;
  const protocols = ['echo', 'echo2', 'echo3'];

  beforeAll(async () => {
    [server, attacker, honest] = await Promise.all([peer(31, true), peer(32), peer(33)]);
    serverRpc = server.rpc(); // the defaults: 64 MiB in all, 16 MiB and 16 calls per peer
    for (const p of protocols) await serverRpc.handle(p, async (r) => r, { timeoutMs: 20_000 });
    const addr = at(server.libp2p.getMultiaddrs(), 0, 'listen address');
    await Promise.all([attacker.libp2p.dial(addr), honest.libp2p.dial(addr)]);
  });

  afterAll(async () => {
    await Promise.all([server, attacker, honest].map((p) => p?.libp2p.stop()));
  });

  it('24 streams announcing 4 MiB each: 16 are held at what they sent, 8 are answered busy, honest calls still work', async () => {
    const baseline = process.memoryUsage().arrayBuffers;
    const streams: Stream[] = [];
    // libp2p itself allows 8 inbound streams per protocol and connection; three protocols make 24.
    for (const p of protocols) {
      for (let i = 0; i < 8; i++) {
        const s = await attacker.libp2p.dialProtocol(server.libp2p.peerId, `/sprintnet/${NETWORK}/rpc/${p}/1`);
        await hold(s, 4 * MiB);
        streams.push(s);
      }
    }
    const attackerId = attacker.libp2p.peerId.toString();
    await waitFor(() => serverRpc.guard.openStreams(attackerId) === 16, 10_000, '16 held calls');
    const statuses = await Promise.all(streams.map((s) => Promise.race([firstStatus(s), new Promise<number>((r) => setTimeout(() => r(-1), 3_000))])));
    expect(statuses.filter((s) => s === STATUS_BUSY)).toHaveLength(8);
    expect(statuses.filter((s) => s === -1)).toHaveLength(16); // held: no answer yet
    expect(serverRpc.guard.openStreams(attackerId)).toBe(16);
    // Each held stream has sent a 38-byte frame; before the fix each allocated its 4 MiB at once (64 MiB).
    expect(serverRpc.guard.budget.usedBytes(attackerId)).toBe(16 * 38);
    expect(process.memoryUsage().arrayBuffers - baseline).toBeLessThan(16 * MiB);

    const honestRpc = honest.rpc();
    const payload = new Uint8Array(200_000).fill(4);
    expect(await honestRpc.request(server.libp2p.peerId.toString(), 'echo', payload, { timeoutMs: 10_000 })).toEqual(payload);

    // The attacker's own requester sees the cap as a typed PeerBusyError ('echo3': its refused
    // streams are gone, while libp2p's 8-per-protocol limit still holds 'echo' full).
    const attackerRpc = attacker.rpc();
    await expect(attackerRpc.request(server.libp2p.peerId.toString(), 'echo3', Uint8Array.of(1), { timeoutMs: 10_000 })).rejects.toThrow(PeerBusyError);
    for (const s of streams) s.abort(new Error('done'));
    await waitFor(() => serverRpc.guard.openStreams() === 0 && serverRpc.guard.budget.usedBytes() === 0, 5_000, 'release');
  });

  it('the per-peer byte budget refuses a peer that sends more than its share; the global budget bounds all peers', async () => {
    const small = await peer(34, true);
    const rpc = small.rpc({ maxBufferedBytes: 3 * MiB, maxBufferedBytesPerPeer: 2 * MiB, maxStreamsPerPeer: 16 });
    await rpc.handle('echo', async (r) => r, { timeoutMs: 20_000 });
    try {
      const addr = at(small.libp2p.getMultiaddrs(), 0, 'listen address');
      await Promise.all([attacker.libp2p.dial(addr), honest.libp2p.dial(addr)]);
      const protocol = `/sprintnet/${NETWORK}/rpc/echo/1`;
      const attackerId = attacker.libp2p.peerId.toString();
      const open = async (who: typeof attacker, bytes: number) => {
        const s = await who.libp2p.dialProtocol(small.libp2p.peerId, protocol);
        await hold(s, 4 * MiB, bytes);
        return s;
      };
      // Two streams of 900 KB fit the attacker's 2 MiB share; the third crosses it and is refused.
      const a1 = await open(attacker, 900_000);
      const a2 = await open(attacker, 900_000);
      await waitFor(() => rpc.guard.budget.usedBytes(attackerId) > 1_800_000, 10_000, 'two bodies arriving');
      const a3 = await open(attacker, 900_000);
      expect(await firstStatus(a3)).toBe(STATUS_BUSY);
      expect(rpc.guard.budget.usedBytes(attackerId)).toBeLessThanOrEqual(2 * MiB);
      // Another peer fills the rest of the 3 MiB global budget and is refused past it.
      const h1 = await open(honest, 900_000);
      await waitFor(() => rpc.guard.budget.usedBytes() > 2_700_000, 10_000, 'third body arriving');
      const h2 = await open(honest, 900_000);
      expect(await firstStatus(h2)).toBe(STATUS_BUSY);
      expect(rpc.guard.budget.usedBytes()).toBeLessThanOrEqual(3 * MiB);
      for (const s of [a1, a2, a3, h1, h2]) s.abort(new Error('done'));
      await waitFor(() => rpc.guard.budget.usedBytes() === 0, 5_000, 'release');
      // With the budget free again, a normal call goes through.
      const payload = new Uint8Array(1_000_000).fill(6);
      expect(await honest.rpc().request(small.libp2p.peerId.toString(), 'echo', payload, { timeoutMs: 10_000 })).toEqual(payload);
    } finally {
      await small.libp2p.stop();
    }
  });
});
