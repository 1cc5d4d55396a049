/**
 * A `NodeLike` in front of whichever SprintnetNode the page runs now. The browser's node restarts
 * with another identity when the wallet is unlocked or locked (src/ui/session.ts), while the
 * protocol runtime keeps running: the switch re-registers the runtime's gossip listeners and its
 * request handler on each new node. With no node (offline, restarting) gossip is not sent (what we
 * published is kept in the store and served to peers by sync later) and requests fail at once.
 * Topics are held like on the node (SprintnetNode.addTopics/removeTopics, reference-counted): the
 * switch holds each topic its transports hold once on the node it is attached to, and lets go of
 * them there when it moves to another node or is detached, so a page's node stays subscribed to a
 * genesis only while some switch or transport on it still uses that genesis.
 */
import {
  topicName,
  type GossipMessage,
  type RequestHandler,
  type RequestLimits,
  type RequestOptions,
  type SprintnetNode,
  type TopicSpec,
} from '../node/index.ts';
import type { NodeLike } from './transport.ts';

interface Listener {
  readonly topic: string;
  readonly fn: (m: GossipMessage<never>) => void;
  off?: () => void;
}

export class NodeSwitch implements NodeLike {
  private node: SprintnetNode | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly handlers = new Map<string, { handler: RequestHandler; limits?: Partial<RequestLimits> }>();
  /** Topics added after creation (a genesis's Sprint topics) and how many holds each has here; added again to each new node. */
  private readonly topics = new Map<string, { readonly spec: TopicSpec<unknown>; holds: number }>();

  get current(): SprintnetNode | undefined {
    return this.node;
  }

  /** Moves every listener and handler to `node` (or detaches them all). */
  attach(node: SprintnetNode | undefined): void {
    if (node === this.node) return;
    const old = this.node;
    for (const l of this.listeners) {
      l.off?.();
      l.off = undefined;
    }
    if (old) {
      for (const name of this.handlers.keys()) void old.unhandle(name).catch(() => undefined);
      old.removeTopics([...this.topics.keys()]);
    }
    this.node = node;
    if (!node) return;
    node.addTopics([...this.topics.values()].map((t) => t.spec));
    for (const l of this.listeners) l.off = node.onGossip(l.topic, l.fn);
    for (const [name, h] of this.handlers) void node.handle(name, h.handler, h.limits).catch(() => undefined);
  }

  /**
   * Whether gossip published now reaches a peer: a node is attached and some peer (the relay, at
   * least) subscribes to one of the topics added here (the genesis's Sprint topics; the relay
   * subscribes back once it sees ours). A node with no relays configured has nobody to wait for.
   * Right after the node restarts (a wallet unlock) this is false for a moment.
   */
  canGossip(): boolean {
    const n = this.node;
    if (!n) return false;
    if (n.config.relays.length === 0) return true;
    return [...this.topics.keys()].some((name) => n.pubsub.getSubscribers(topicName(n.config.networkId, name)).length > 0);
  }

  /** Holds the topics once more; the node gets those held for the first time here. */
  addTopics(specs: readonly TopicSpec<unknown>[]): void {
    const fresh: TopicSpec<unknown>[] = [];
    for (const spec of specs) {
      const t = this.topics.get(spec.name);
      if (t) t.holds++;
      else {
        this.topics.set(spec.name, { spec, holds: 1 });
        fresh.push(spec);
      }
    }
    if (fresh.length > 0) this.node?.addTopics(fresh);
  }

  /** Lets go of one hold on each; the node lets go of those no longer held here. */
  removeTopics(names: readonly string[]): void {
    const gone: string[] = [];
    for (const name of names) {
      const t = this.topics.get(name);
      if (!t) continue;
      if (--t.holds > 0) continue;
      this.topics.delete(name);
      gone.push(name);
    }
    if (gone.length > 0) this.node?.removeTopics(gone);
  }

  readonly presence = {
    values: (): ReturnType<SprintnetNode['presence']['values']> => this.node?.presence.values() ?? [],
  };

  async publish<T>(name: string, value: T, options?: { sprint?: number }): Promise<void> {
    await this.node?.publish<T>(name, value, options);
  }

  onGossip<T>(name: string, listener: (message: GossipMessage<T>) => void): () => void {
    const l: Listener = { topic: name, fn: listener as (m: GossipMessage<never>) => void };
    this.listeners.add(l);
    if (this.node) l.off = this.node.onGossip(name, l.fn);
    return () => {
      l.off?.();
      this.listeners.delete(l);
    };
  }

  async handle(name: string, handler: RequestHandler, limits?: Partial<RequestLimits>): Promise<void> {
    this.handlers.set(name, { handler, limits });
    await this.node?.handle(name, handler, limits);
  }

  async unhandle(name: string): Promise<void> {
    this.handlers.delete(name);
    await this.node?.unhandle(name);
  }

  request(peerId: string, name: string, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    if (!this.node) return Promise.reject(new Error('not connected to the network'));
    return this.node.request(peerId, name, payload, options);
  }
}
