/**
 * Which geneses' Sprint topics a relay serves. Sprint topics are per genesis (`sprint-proof-<genesis
 * id>`, topics/index.ts), and gossipsub forwards only topics the relay itself subscribes to, so the
 * relay subscribes to (and validates, with the base topics' size limits):
 *
 * - the genesis it was started with (`pinned`, `sprintnet relay --genesis`), always;
 * - besides it, at most `maxGeneses` (MAX_RELAY_GENESES) others, each taken on when a connected
 *   peer subscribes to one of its Sprint topics, matched exactly: our network's prefix, a base Sprint
 *   topic name, `-`, 16 lowercase hex digits. No other topic a peer names is ever subscribed to.
 *
 * A genesis taken on this way is dropped at the next sweep (every `sweepMs`, and whenever a slot is
 * needed) once no connected peer subscribes to any of its topics. While every slot is held by a
 * genesis some peer still uses, a new one is refused (counted in `refused`) and remembered (at most
 * MAX_PENDING_GENESES, the oldest forgotten first) so that a later sweep takes it on when a slot
 * frees and its peers are still subscribed. So peers can make a relay carry at most
 * 1 + maxGeneses geneses (5 topics each), and only while they hold connections to it (which the
 * per-IP caps of relay-limits.ts bound); the pinned genesis is never crowded out.
 */
import { topicName } from './config.ts';
import type { SprintnetNode } from './node.ts';
import { parseSprintTopic, sprintTopicSpecs } from './topics/index.ts';

/** Geneses a relay takes on from its peers' subscriptions, besides the one it was started with. */
export const MAX_RELAY_GENESES = 8;
/** Refused geneses remembered for a later sweep. */
export const MAX_PENDING_GENESES = 16;
export const GENESIS_SWEEP_MS = 5_000;

interface SubscriptionChange {
  subscriptions: { topic: string; subscribe: boolean }[];
}

export class GenesisTopics {
  /** Geneses taken on from subscriptions (not the pinned one), in the order they were. */
  private readonly served = new Set<string>();
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly head: string;
  private readonly tail: string;
  /** How many times a genesis was refused for want of a slot. */
  refused = 0;

  constructor(
    private readonly node: SprintnetNode,
    private readonly options: { pinned?: string; maxGeneses?: number; sweepMs?: number } = {},
  ) {
    [this.head, this.tail] = topicName(node.config.networkId, '\0').split('\0') as [string, string];
    // Before the node starts, so start() subscribes to them with the rest.
    if (options.pinned) node.addTopics(sprintTopicSpecs(options.pinned));
  }

  get maxGeneses(): number {
    return this.options.maxGeneses ?? MAX_RELAY_GENESES;
  }

  /** Geneses served now: the pinned one first, then those taken on from subscriptions. */
  geneses(): string[] {
    return [...(this.options.pinned ? [this.options.pinned] : []), ...this.served];
  }

  start(): void {
    this.node.pubsub.addEventListener('subscription-change', this.onChange);
    this.timer = setInterval(() => this.sweep(), this.options.sweepMs ?? GENESIS_SWEEP_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.node.pubsub.removeEventListener('subscription-change', this.onChange);
  }

  /** The genesis id of one of our network's per-genesis Sprint wire topics, or null. */
  genesisOf(wire: string): string | null {
    if (!wire.startsWith(this.head) || !wire.endsWith(this.tail)) return null;
    return parseSprintTopic(wire.slice(this.head.length, wire.length - this.tail.length))?.genesisId ?? null;
  }

  /** Drops geneses no connected peer subscribes to any more, then takes on remembered ones that fit. */
  sweep(): void {
    for (const id of this.served) {
      if (!this.inUse(id)) {
        this.served.delete(id);
        this.node.removeTopics(sprintTopicSpecs(id).map((t) => t.name));
      }
    }
    for (const id of this.pending) {
      if (!this.inUse(id)) this.pending.delete(id);
      else if (this.served.size < this.maxGeneses) {
        this.pending.delete(id);
        this.take(id);
      }
    }
  }

  private readonly onChange = (evt: CustomEvent<SubscriptionChange>) => {
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      if (!subscribe) continue;
      const id = this.genesisOf(topic);
      if (id === null || id === this.options.pinned || this.served.has(id)) continue;
      if (this.served.size >= this.maxGeneses) this.sweep();
      if (this.served.has(id)) continue;
      if (this.served.size < this.maxGeneses) {
        this.pending.delete(id);
        this.take(id);
      } else if (!this.pending.has(id)) {
        this.refused++;
        this.pending.add(id);
        if (this.pending.size > MAX_PENDING_GENESES) this.pending.delete(this.pending.values().next().value!);
      }
    }
  };

  private take(id: string): void {
    this.served.add(id);
    this.node.addTopics(sprintTopicSpecs(id));
  }

  private inUse(id: string): boolean {
    return sprintTopicSpecs(id).some((t) => this.node.pubsub.getSubscribers(topicName(this.node.config.networkId, t.name)).length > 0);
  }
}
