/**
 * Topic registry: the later Sprint/inference protocol registers its topics here, each with a payload
 * codec and a size limit, and the validator and publish path use the entry. Topic names given here
 * are short ("presence", "sprint-proof-<genesis id>"); the wire topic is namespaced by network
 * (config.topicName). Sprint topics are registered per genesis after start (node.addTopics).
 */
export interface PayloadCodec<T> {
  encode(value: T): Uint8Array;
  /** Must throw DecodeError (only) on malformed bytes. */
  decode(bytes: Uint8Array): T;
}

/** What a topic check may know besides the message: who sent it and this node's configuration. */
export interface TopicCheckContext {
  /** The sender's peer id (base58btc text), derived from the envelope's signing key. */
  senderPeerId: string;
  /** Peer ids of this node's configured relays (for `authorize`). */
  relayPeerIds: ReadonlySet<string>;
}

export interface TopicSpec<T> {
  name: string;
  codec: PayloadCodec<T>;
  /** Largest payload accepted on this topic, in bytes; bigger messages are rejected as oversize. */
  maxPayloadBytes: number;
  /**
   * Optional semantic check after decoding and signature verification: return a reason string
   * to reject. Keep it cheap; it runs for every message on every hop.
   */
  check?(value: T, sender: Uint8Array, context: TopicCheckContext): string | undefined;
  /**
   * Optional check against this node's own configuration (which relays it trusts, …): return a
   * reason to drop the message as `unauthorized`. Nodes configured differently judge differently,
   * so such a message is ignored (not forwarded) without scoring anyone.
   */
  authorize?(value: T, context: TopicCheckContext): string | undefined;
}

export class TopicRegistry {
  private readonly specs = new Map<string, TopicSpec<unknown>>();

  register<T>(spec: TopicSpec<T>): TopicSpec<T> {
    if (this.specs.has(spec.name)) throw new Error(`topic '${spec.name}' is already registered`);
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(spec.name)) throw new Error(`invalid topic name '${spec.name}'`);
    this.specs.set(spec.name, spec as TopicSpec<unknown>);
    return spec;
  }

  /** Forgets a topic (a relay dropping a genesis it no longer serves); false when it was not registered. */
  unregister(name: string): boolean {
    return this.specs.delete(name);
  }

  get(name: string): TopicSpec<unknown> | undefined {
    return this.specs.get(name);
  }

  names(): string[] {
    return [...this.specs.keys()];
  }
}
