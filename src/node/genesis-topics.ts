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
 * Each genesis taken on is held for one connected peer subscribed to it (its holder), and one peer id
 * holds at most `maxPerPeer` (MAX_GENESES_PER_PEER, 1) geneses: what a peer subscribes to beyond
 * that can only be taken on through other peers. A genesis counts as used only while some connected
 * peer subscribed to it can hold it. Every sweep (every `sweepMs`, and at most once per
 * GENESIS_RESCAN_GAP_MS sooner when a subscription is refused or a holder disconnects) rescans the
 * live subscriptions of connected peers (gossipsub's own peer → topics map, the one
 * `getSubscribers` reads), re-assigns
 * holders (a bipartite matching: a genesis whose holder left keeps its slot if another subscriber of
 * it is free), drops the geneses left without one, and fills free slots from the geneses peers
 * subscribe to, those of the peer refused longest ago first, then those with more subscribers. So a
 * refused genesis is taken on at the first sweep after a slot frees, as long as one of its peers is
 * still subscribed; nobody re-subscribes, and no bounded list of refused geneses can be flooded.
 *
 * Bound: an attacker with n peer ids connected (the per-IP caps of relay-limits.ts bound n per IP)
 * occupies at most min(n × maxPerPeer, maxGeneses) slots, and only while those peers stay
 * connected and subscribed (a holder that left is counted until the next sweep, at most
 * GENESIS_RESCAN_GAP_MS after it disconnects); the other maxGeneses − n × maxPerPeer slots go to
 * geneses of other peers. The relay carries at most 1 + maxGeneses geneses (5 topics each), and
 * the pinned genesis is never crowded out.
 */
import { topicName } from './config.ts';
import type { SprintnetNode } from './node.ts';
import { parseSprintTopic, sprintTopicSpecs } from './topics/index.ts';

/** Geneses a relay takes on from its peers' subscriptions, besides the one it was started with. */
export const MAX_RELAY_GENESES = 8;
/** Geneses one peer id's subscriptions can make a relay take on. */
export const MAX_GENESES_PER_PEER = 1;
export const GENESIS_SWEEP_MS = 5_000;
/** A refused subscription asks for a sweep; at most one such sweep per this many ms. */
export const GENESIS_RESCAN_GAP_MS = 1_000;
/** Refused geneses remembered only so that `refused` counts each once while it stays refused. */
const MAX_REFUSED_IDS = 64;

interface SubscriptionChange {
  peerId: { toString(): string };
  subscriptions: { topic: string; subscribe: boolean }[];
}

export class GenesisTopics {
  /** Geneses taken on from subscriptions (not the pinned one), in the order they were, → holder peer id. */
  private readonly served = new Map<string, string>();
  /** Connected peers with a refused genesis while under their own limit → order they were first refused in. */
  private waiting = new Map<string, number>();
  private waitSeq = 0;
  private refusedIds = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private lastSweep = -Infinity;
  private readonly head: string;
  private readonly tail: string;
  /** How many times a genesis was refused (no free slot, or its subscribers at their limit); once per genesis while it stays refused. */
  refused = 0;

  constructor(
    private readonly node: SprintnetNode,
    private readonly options: { pinned?: string; maxGeneses?: number; maxPerPeer?: number; sweepMs?: number } = {},
  ) {
    [this.head, this.tail] = topicName(node.config.networkId, '\0').split('\0') as [string, string];
    // Before the node starts, so start() subscribes to them with the rest.
    if (options.pinned) node.addTopics(sprintTopicSpecs(options.pinned));
  }

  get maxGeneses(): number {
    return this.options.maxGeneses ?? MAX_RELAY_GENESES;
  }

  get maxPerPeer(): number {
    return this.options.maxPerPeer ?? MAX_GENESES_PER_PEER;
  }

  /** Geneses served now: the pinned one first, then those taken on from subscriptions. */
  geneses(): string[] {
    return [...(this.options.pinned ? [this.options.pinned] : []), ...this.served.keys()];
  }

  /** The peer id a taken-on genesis is held for, if it is served. */
  holderOf(id: string): string | undefined {
    return this.served.get(id);
  }

  start(): void {
    this.peerTopics(); // fail now, not in a timer, if gossipsub no longer exposes them
    this.node.pubsub.addEventListener('subscription-change', this.onChange);
    this.node.libp2p.addEventListener('peer:disconnect', this.onDisconnect);
    this.timer = setInterval(() => this.sweep(), this.options.sweepMs ?? GENESIS_SWEEP_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.soon = undefined;
    this.node.pubsub.removeEventListener('subscription-change', this.onChange);
    this.node.libp2p.removeEventListener('peer:disconnect', this.onDisconnect);
  }

  /** The genesis id of one of our network's per-genesis Sprint wire topics, or null. */
  genesisOf(wire: string): string | null {
    if (!wire.startsWith(this.head) || !wire.endsWith(this.tail)) return null;
    return parseSprintTopic(wire.slice(this.head.length, wire.length - this.tail.length))?.genesisId ?? null;
  }

  /**
   * Rescans connected peers' subscriptions, re-assigns holders, drops geneses no connected peer can
   * hold, then takes on subscribed ones while slots are free (longest-refused peer first).
   */
  sweep(): void {
    this.lastSweep = Date.now();
    clearTimeout(this.soon);
    this.soon = undefined;
    const subs = this.liveSubscriptions();
    const max = this.maxGeneses;
    const holder = new Map<string, string>();
    const held = new Map<string, string[]>();
    // Kuhn's augmenting paths; peers seen in a failed search stay seen until the matching changes
    // (none of them can reach a free peer meanwhile), so a pass costs O(subscriptions) per genesis
    // matched, however many made-up geneses peers subscribe to.
    let seen = new Set<string>();
    const augment = (id: string): boolean => {
      for (const peer of subs.get(id)!) {
        if (seen.has(peer)) continue;
        seen.add(peer);
        const mine = held.get(peer) ?? [];
        if (mine.length < this.maxPerPeer) {
          mine.push(id);
          held.set(peer, mine);
          holder.set(id, peer);
          return true;
        }
        for (let i = 0; i < mine.length; i++) {
          if (augment(mine[i]!)) {
            mine[i] = id;
            holder.set(id, peer);
            return true;
          }
        }
      }
      return false;
    };
    const tryMatch = (id: string): boolean => {
      if (!augment(id)) return false;
      seen = new Set();
      return true;
    };
    for (const id of this.served.keys()) if (subs.has(id)) tryMatch(id);
    for (const id of [...this.served.keys()]) {
      if (!holder.has(id)) {
        this.served.delete(id);
        this.node.removeTopics(sprintTopicSpecs(id).map((t) => t.name));
      }
    }
    const since = (id: string) => {
      let first = Infinity;
      for (const peer of subs.get(id)!) first = Math.min(first, this.waiting.get(peer) ?? Infinity);
      return first;
    };
    const candidates = [...subs.keys()]
      .filter((id) => !holder.has(id))
      .map((id) => ({ id, since: since(id), peers: subs.get(id)!.size }))
      .sort((a, b) => (a.since === b.since ? 0 : a.since - b.since) || b.peers - a.peers);
    for (const { id } of candidates) {
      if (holder.size >= max) break;
      if (tryMatch(id)) this.take(id, holder.get(id)!);
    }
    for (const id of this.served.keys()) this.served.set(id, holder.get(id)!);
    // Peers still waiting keep their place; those served or no longer refused lose it.
    const waiting = new Map<string, number>();
    const refusedIds = new Set<string>();
    for (const { id } of candidates) {
      if (holder.has(id)) continue;
      if (this.refusedIds.has(id)) refusedIds.add(id);
      for (const peer of subs.get(id)!) {
        if ((held.get(peer)?.length ?? 0) < this.maxPerPeer && !waiting.has(peer)) waiting.set(peer, this.waiting.get(peer) ?? ++this.waitSeq);
      }
    }
    this.waiting = waiting;
    this.refusedIds = refusedIds;
  }

  private readonly onChange = (evt: CustomEvent<SubscriptionChange>) => {
    const peer = evt.detail.peerId.toString();
    let refused = false;
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      if (!subscribe) continue;
      const id = this.genesisOf(topic);
      if (id === null || id === this.options.pinned || this.served.has(id)) continue;
      const mine = this.heldBy(peer);
      if (this.served.size < this.maxGeneses && mine < this.maxPerPeer) {
        this.take(id, peer);
        continue;
      }
      refused = true;
      if (!this.refusedIds.has(id)) {
        this.refused++;
        if (this.refusedIds.size < MAX_REFUSED_IDS) this.refusedIds.add(id);
      }
      if (mine < this.maxPerPeer && !this.waiting.has(peer)) this.waiting.set(peer, ++this.waitSeq);
    }
    // A slot may be held for a peer that left, or another subscriber may be free: rescan soon.
    if (refused) this.sweepSoon();
  };

  /** A holder gone frees its geneses' slots (or passes them to other subscribers) at the next sweep, soon. */
  private readonly onDisconnect = (evt: CustomEvent<{ toString(): string }>) => {
    if (this.heldBy(evt.detail.toString()) > 0) this.sweepSoon();
  };

  private sweepSoon(): void {
    if (this.soon !== undefined || this.timer === undefined) return;
    const wait = this.lastSweep + GENESIS_RESCAN_GAP_MS - Date.now();
    if (wait <= 0) this.sweep();
    else this.soon = setTimeout(() => this.sweep(), wait);
  }

  private heldBy(peer: string): number {
    let n = 0;
    for (const p of this.served.values()) if (p === peer) n++;
    return n;
  }

  private take(id: string, peer: string): void {
    this.served.set(id, peer);
    this.node.addTopics(sprintTopicSpecs(id));
  }

  /** Genesis id (not the pinned one) → connected peers subscribed to at least one of its topics. */
  private liveSubscriptions(): Map<string, Set<string>> {
    const connected = new Set(this.node.libp2p.getConnections().map((c) => c.remotePeer.toString()));
    const subs = new Map<string, Set<string>>();
    for (const [wire, peers] of this.peerTopics()) {
      const id = this.genesisOf(wire);
      if (id === null || id === this.options.pinned) continue;
      for (const peer of peers) {
        if (!connected.has(peer)) continue;
        let set = subs.get(id);
        if (!set) subs.set(id, (set = new Set()));
        set.add(peer);
      }
    }
    return subs;
  }

  /** Gossipsub's wire topic → ids of the peers subscribed to it (what getSubscribers reads, for all topics at once). */
  private peerTopics(): Map<string, Set<string>> {
    const topics = (this.node.pubsub as unknown as { topics?: unknown }).topics;
    if (!(topics instanceof Map)) throw new TypeError('the gossipsub router exposes no topics map');
    return topics as Map<string, Set<string>>;
  }
}
