/**
 * Topic registry: the later Sprint/inference protocol registers its topics here, each with a payload
 * codec and a size limit, and the validator and publish path use the entry. Topic names given here
 * are short ("presence", "sprint-proof"); the wire topic is namespaced by network (config.topicName).
 */
export interface PayloadCodec<T> {
  encode(value: T): Uint8Array;
  /** Must throw DecodeError (only) on malformed bytes. */
  decode(bytes: Uint8Array): T;
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
  check?(value: T, sender: Uint8Array): string | undefined;
}

export class TopicRegistry {
  private readonly specs = new Map<string, TopicSpec<unknown>>();

  register<T>(spec: TopicSpec<T>): TopicSpec<T> {
    if (this.specs.has(spec.name)) throw new Error(`topic '${spec.name}' is already registered`);
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(spec.name)) throw new Error(`invalid topic name '${spec.name}'`);
    this.specs.set(spec.name, spec as TopicSpec<unknown>);
    return spec;
  }

  get(name: string): TopicSpec<unknown> | undefined {
    return this.specs.get(name);
  }

  names(): string[] {
    return [...this.specs.keys()];
  }
}
