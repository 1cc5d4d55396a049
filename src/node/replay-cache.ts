/**
 * Remembers which (sender, envelope id) pairs were accepted, for as long as the envelope could pass
 * the clock check: an envelope stamped t is acceptable while |t − now| ≤ window (the clock-skew
 * window), so its entry is kept until now > t + window, then the clock check rejects it anyway.
 * That outlives gossipsub's own seen-cache (2 min) for any sender whose clock is right.
 *
 * Keyed on the sender as well as the id, so nobody can burn another wallet's id: the cache only
 * runs after the envelope's signature has been verified, so a sender's entries are all its own.
 *
 * Bounded two ways, without ever forgetting an id that could still be accepted:
 * - per sender: at most `maxPerSender` live ids; more is a flood by that sender and is refused;
 * - in total: at most `maxEntries`. When full, the entries with the oldest timestamps are dropped
 *   and a floor is raised above them: an envelope stamped below the floor is refused (it might be
 *   one of the forgotten ones). Under a flood the accepted window shrinks from the old end; it
 *   never reopens a replay.
 */
export type ReplayVerdict =
  /** Not seen before; now remembered. */
  | 'new'
  /** This sender already sent this id inside the window. */
  | 'replay'
  /** The sender has `maxPerSender` live ids already. */
  | 'sender-full'
  /** Stamped below the floor raised by evictions: cannot be proven new. */
  | 'below-floor';

export interface ReplayCacheLimits {
  /** The clock-skew window: an entry stamped t is kept until t + windowMs. */
  windowMs: number;
  maxEntries: number;
  maxPerSender: number;
  /** Entries are grouped by timestamp into buckets this wide; eviction drops a whole bucket. */
  bucketMs?: number;
}

export const DEFAULT_REPLAY_LIMITS = { maxEntries: 100_000, maxPerSender: 1024 } as const;

export class ReplayCache {
  /** sender hex → (id hex → bucket number) */
  private readonly senders = new Map<string, Map<string, number>>();
  /** bucket number → entries stamped inside it */
  private readonly buckets = new Map<number, Array<[sender: string, id: string]>>();
  /** Bucket numbers in ascending order. */
  private readonly order: number[] = [];
  private entries = 0;
  private floor = Number.NEGATIVE_INFINITY;
  private readonly bucketMs: number;

  constructor(private readonly limits: ReplayCacheLimits) {
    if (!(limits.windowMs > 0) || !(limits.maxEntries >= 1) || !(limits.maxPerSender >= 1)) {
      throw new RangeError('replay cache limits must be positive');
    }
    this.bucketMs = limits.bucketMs ?? 1_000;
  }

  /**
   * Checks (sender, id) stamped `timestampMs` and remembers it when new. The caller has already
   * checked |timestampMs − nowMs| ≤ windowMs and the sender's signature.
   */
  check(sender: Uint8Array, id: Uint8Array, timestampMs: number, nowMs: number): ReplayVerdict {
    this.expire(nowMs);
    const s = toHex(sender);
    const key = toHex(id);
    const own = this.senders.get(s);
    if (own?.has(key)) return 'replay';
    if (timestampMs < this.floor) return 'below-floor';
    if (own && own.size >= this.limits.maxPerSender) return 'sender-full';
    const bucket = Math.floor(timestampMs / this.bucketMs);
    while (this.entries >= this.limits.maxEntries) {
      const lowest = this.order[0];
      // Older than everything held: it cannot displace newer entries.
      if (bucket <= lowest) return 'below-floor';
      this.dropBucket(lowest);
      this.floor = Math.max(this.floor, (lowest + 1) * this.bucketMs);
    }
    const senderMap = this.senders.get(s) ?? new Map<string, number>();
    this.senders.set(s, senderMap);
    senderMap.set(key, bucket);
    let list = this.buckets.get(bucket);
    if (!list) {
      list = [];
      this.buckets.set(bucket, list);
      this.order.splice(upperBound(this.order, bucket), 0, bucket);
    }
    list.push([s, key]);
    this.entries++;
    return 'new';
  }

  get size(): number {
    return this.entries;
  }

  get senderCount(): number {
    return this.senders.size;
  }

  /** Timestamps below this are refused (raised only by evictions under a flood). */
  get floorMs(): number {
    return this.floor;
  }

  private expire(nowMs: number): void {
    // A bucket is gone once its newest possible timestamp is outside the window.
    while (this.order.length > 0 && (this.order[0] + 1) * this.bucketMs + this.limits.windowMs <= nowMs) {
      this.dropBucket(this.order[0]);
    }
  }

  private dropBucket(bucket: number): void {
    const list = this.buckets.get(bucket) ?? [];
    for (const [s, key] of list) {
      const senderMap = this.senders.get(s);
      if (!senderMap) continue;
      senderMap.delete(key);
      if (senderMap.size === 0) this.senders.delete(s);
    }
    this.entries -= list.length;
    this.buckets.delete(bucket);
    this.order.splice(this.order.indexOf(bucket), 1);
  }
}

/** First index whose value is greater than `v` (the array is ascending). */
function upperBound(sorted: number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
