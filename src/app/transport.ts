/**
 * The protocol's `Transport` over a SprintnetNode: the Sprint gossip topics of src/node/topics
 * (opaque, size-limited message bytes) and the request/response protocol, both per genesis: topic
 * `t` is registered as `t-<genesis id>` (sprintTopic) and sync is `sprint-sync-<genesis id>`
 * (syncProtocol). Peers are named by their hex Ed25519 key, which is also their libp2p identity.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { GossipMessage, SprintnetNode } from '../node/index.ts';
import { sprintTopic, sprintTopicSpecs } from '../node/topics/index.ts';
import { peerIdFromPublicKeyBytes } from '../node/index.ts';
import { toHex, fromHex } from '../sprint/bytes.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import { TOPICS, type Topic, type Transport } from '../protocol/interfaces.ts';
import { syncProtocol } from '../protocol/sync.ts';

/** What the adapter uses of a node (SprintnetNode fits, and so does node-switch.ts's NodeSwitch). */
export type NodeLike = Pick<SprintnetNode, 'publish' | 'onGossip' | 'handle' | 'unhandle' | 'request' | 'addTopics' | 'removeTopics'> & {
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

/** A transport that holds its genesis's topics on the node until `close`. */
export interface NodeTransport extends Transport {
  /**
   * Detaches the gossip handlers subscribed through this transport and lets go of its hold on the
   * genesis's topics (node.removeTopics): the node unsubscribes from them once no other transport
   * (or NodeSwitch) of that genesis holds them, and from then on neither receives nor forwards that
   * genesis's gossip. Publishing and subscribing afterwards throw; sync (handle, request) is not
   * affected, and a handler registered with `handle` stays until its owner unhandles it. Idempotent.
   */
  close(): void;
}

/**
 * With a genesis, the node subscribes to that genesis's Sprint topics at once (node.addTopics,
 * reference-counted: the node stays subscribed while any transport of that genesis is open, and
 * `close` lets go). Every protocol message, `inference` included, belongs to one genesis's ledger
 * (its epoch is counted on that genesis's schedule), so none is gossiped per network. Without a
 * genesis (a page or host that serves split sessions but knows no ledger) the transport can be made,
 * but publishing, subscribing and sync all throw BAD_GENESIS.
 */
export function nodeTransport(node: NodeLike, genesis: Genesis | null = null): NodeTransport {
  const id = genesis ? genesisId(genesis) : null;
  if (id) node.addTopics(sprintTopicSpecs(id));
  let closed = false;
  const subscriptions = new Set<() => void>();
  const need = (what: string): string => {
    if (!id) throw new ProtocolError('BAD_GENESIS', `no genesis: ${what} is named per genesis`);
    return id;
  };
  const gossip = (): string => {
    const gid = need('Sprint gossip');
    if (closed) throw new Error(`the transport of genesis ${gid.slice(0, 8)} is closed`);
    return gid;
  };
  const sync = (): string => {
    need('the sync protocol');
    return syncProtocol(genesis!);
  };
  return {
    async publish(topic: Topic, bytes: Uint8Array) {
      const name = sprintTopic(topic, gossip());
      // The envelope's Sprint number is the message's epoch (bytes 1–8).
      const epoch = Number(new DataView(bytes.buffer, bytes.byteOffset + 1, 8).getBigUint64(0, true));
      await node.publish<Uint8Array>(name, bytes, { sprint: epoch });
    },
    subscribe(handler) {
      const gid = gossip();
      const offs = TOPICS.map((topic) =>
        node.onGossip<Uint8Array>(sprintTopic(topic, gid), (m: GossipMessage<Uint8Array>) => handler(topic, m.value, keyOfPeer(m.from) ?? undefined)),
      );
      const off = () => {
        subscriptions.delete(off);
        offs.forEach((o) => o());
      };
      subscriptions.add(off);
      return off;
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
    close() {
      if (closed) return;
      closed = true;
      for (const off of [...subscriptions]) off();
      if (id) node.removeTopics(sprintTopicSpecs(id).map((t) => t.name));
    },
  };
}
