/**
 * The sync protocol is per genesis (docs/protocol.md §12): two geneses of one network id share the
 * network's gossip and presence, but a host of one never reaches the other's sync handler, over
 * real libp2p nodes on loopback.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, describe, expect, it } from 'vitest';
import '../node/node-env.ts';
import type { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS, testNode } from '../node/test-helpers.ts';
import { isProtocolError } from '../protocol/errors.ts';
import { fastTimings, genesisId, makeGenesis } from '../protocol/genesis.ts';
import { decodeHead, encodeHead, encodeRequest, syncProtocol } from '../protocol/sync.ts';
import { keyOfPeer, nodeTransport } from './transport.ts';

const NET = 'sprintnet-sync-name';
const genesisAt = (startMs: number) => makeGenesis({ networkId: NET, config: 'tiny', startMs, skewMs: 200, timings: fastTimings(2000, 200) });
const [first, second] = [genesisAt(1_000_000), genesisAt(2_000_000)];
const nodes: SprintnetNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('the sync protocol name', () => {
  it('names the genesis, not only the network', () => {
    expect(syncProtocol(first)).toBe(`sprint-sync-${genesisId(first)}`);
    expect(syncProtocol(second)).not.toBe(syncProtocol(first));
    expect(first.networkId).toBe(second.networkId);
  });

  it('a peer of the same genesis is answered; one of another genesis of the same network is not', async () => {
    const [server, same, other] = await Promise.all([70, 71, 72].map((b) => testNode(b, 'host', { networkId: NET, listen: [LOOPBACK_WS] })));
    nodes.push(server!, same!, other!);
    const ws = multiaddr(server!.multiaddrs().find((m) => m.includes('/ws/'))!);
    await Promise.all([same!.libp2p.dial(ws), other!.libp2p.dial(ws)]);
    nodeTransport(server!, first).handle(async () => encodeHead(7));
    const serverKey = keyOfPeer(server!.peerId)!;
    const head = encodeRequest({ op: 'head' });

    // The handler registers asynchronously (after an unhandle): ask until it answers.
    let answer: number | null = null;
    for (let i = 0; i < 40 && answer === null; i++) {
      answer = await nodeTransport(same!, first)
        .request(serverKey, head, { timeoutMs: 2_000 })
        .then(decodeHead, () => null);
      if (answer === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer).toBe(7);
    // Same network id, another genesis: protocol negotiation fails, nothing reaches the handler.
    await expect(nodeTransport(other!, second).request(serverKey, head, { timeoutMs: 2_000 })).rejects.toThrow();
  }, 60_000);

  it('a transport without a genesis neither serves nor asks (BAD_GENESIS)', async () => {
    const node = nodes[0]!;
    const t = nodeTransport(node, null);
    expect(() => t.handle(async () => encodeHead(0))).toThrow(expect.objectContaining({ code: 'BAD_GENESIS' }));
    const err = await t.request(keyOfPeer(nodes[1]!.peerId)!, encodeRequest({ op: 'head' })).catch((e: unknown) => e);
    expect(isProtocolError(err, 'BAD_GENESIS')).toBe(true);
  });
});
