/**
 * The protocol's `Transport` over a SprintnetNode: the four Sprint gossip topics registered in
 * src/node/topics (opaque, size-limited message bytes) and one request/response protocol per
 * genesis, `sprint-sync-<genesis id>` (syncProtocol). Peers are named by their hex Ed25519 key,
 * which is also their libp2p identity.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { GossipMessage, SprintnetNode } from '../node/index.ts';
import { peerIdFromPublicKeyBytes } from '../node/index.ts';
import { toHex, fromHex } from '../sprint/bytes.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { Genesis } from '../protocol/genesis.ts';
import { TOPICS, type Topic, type Transport } from '../protocol/interfaces.ts';
import { syncProtocol } from '../protocol/sync.ts';

/** What the adapter uses of a node (SprintnetNode fits, and so does node-switch.ts's NodeSwitch). */
export type NodeLike = Pick<SprintnetNode, 'publish' | 'onGossip' | 'handle' | 'unhandle' | 'request'> & {
  readonly presence: Pick<SprintnetNode['presence'], 'values'>;
};

/** Hex Ed25519 key of a peer id, or null for a key type the protocol cannot use. */
export function keyOfPeer(peerId: string): string | null {
  try {
    const raw = peerIdFromString(peerId).publicKey?.raw;
    return raw && raw.length === 32 ? toHex(raw) : null;
  } catch {
    return null;
  }
}

/**
 * Without a genesis (a page that only publishes, e.g. a split volunteer's proofs) the transport
 * gossips but neither serves nor asks sync: both throw BAD_GENESIS.
 */
export function nodeTransport(node: NodeLike, genesis: Genesis | null = null): Transport {
  const sync = (): string => {
    if (!genesis) throw new ProtocolError('BAD_GENESIS', 'no genesis: the sync protocol is named per genesis');
    return syncProtocol(genesis);
  };
  return {
    async publish(topic: Topic, bytes: Uint8Array) {
      // The envelope's Sprint number is the message's epoch (bytes 1–8).
      const epoch = Number(new DataView(bytes.buffer, bytes.byteOffset + 1, 8).getBigUint64(0, true));
      await node.publish<Uint8Array>(topic, bytes, { sprint: epoch });
    },
    subscribe(handler) {
      const offs = TOPICS.map((topic) =>
        node.onGossip<Uint8Array>(topic, (m: GossipMessage<Uint8Array>) => handler(topic, m.value, keyOfPeer(m.from) ?? undefined)),
      );
      return () => offs.forEach((off) => off());
    },
    handle(handler) {
      const name = sync();
      // A restarted runtime on the same node replaces the previous handler.
      void node
        .unhandle(name)
        .catch(() => {})
        .then(() =>
          node.handle(name, async (request, context) => {
            const from = keyOfPeer(context.peerId);
            if (!from) throw new Error('peer id is not an Ed25519 key');
            return handler(request, from);
          }),
        );
    },
    async request(peer, request, options = {}) {
      const name = sync();
      const peerId = peerIdFromPublicKeyBytes(fromHex(peer, 32, 'BAD_PUBLIC_KEY', 'peer key'));
      return node.request(peerId, name, request, { timeoutMs: options.timeoutMs });
    },
    peers() {
      return node.presence
        .values()
        .filter((p) => p.role !== 'relay')
        .map((p) => keyOfPeer(p.peerId))
        .filter((k): k is string => k !== null)
        .sort();
    },
  };
}
