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

/** Sender keys are Ed25519 public keys. */
const SENDER_BYTES = 32;

export class ReplayCache {
  /**
   * Live entries, keyed by sender ‖ id as a one-byte (latin1) string: a flat 48-character string
   * per entry. Measured at 100 000 entries: 102 B per entry from 100 senders, 185 B from 100 000
   * (hex keys in per-sender maps took 777 B and 2 375 B).
   */
  private readonly seen = new Set<string>();
  /** sender (latin1) → number of its live entries */
  private readonly perSender = new Map<string, number>();
  /** bucket number → keys of the entries stamped inside it */
  private readonly buckets = new Map<number, string[]>();
  /** Bucket numbers in ascending order. */
  private readonly order: number[] = [];
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
    if (sender.length !== SENDER_BYTES) throw new RangeError(`sender must be ${SENDER_BYTES} bytes`);
    this.expire(nowMs);
    const key = latin1(sender, id);
    if (this.seen.has(key)) return 'replay';
    if (timestampMs < this.floor) return 'below-floor';
    const s = latin1(sender);
    if ((this.perSender.get(s) ?? 0) >= this.limits.maxPerSender) return 'sender-full';
    const bucket = Math.floor(timestampMs / this.bucketMs);
    // Every held entry sits in a bucket listed in `order`, so a full cache always has a lowest one.
    let lowest: number | undefined;
    while (this.seen.size >= this.limits.maxEntries && (lowest = this.order[0]) !== undefined) {
      // Older than everything held: it cannot displace newer entries.
      if (bucket <= lowest) return 'below-floor';
      this.dropBucket(lowest);
      this.floor = Math.max(this.floor, (lowest + 1) * this.bucketMs);
    }
    this.seen.add(key);
    this.perSender.set(s, (this.perSender.get(s) ?? 0) + 1);
    let list = this.buckets.get(bucket);
    if (!list) {
      list = [];
      this.buckets.set(bucket, list);
      this.order.splice(upperBound(this.order, bucket), 0, bucket);
    }
    list.push(key);
    return 'new';
  }

  get size(): number {
    return this.seen.size;
  }

  get senderCount(): number {
    return this.perSender.size;
  }

  /** Timestamps below this are refused (raised only by evictions under a flood). */
  get floorMs(): number {
    return this.floor;
  }

  private expire(nowMs: number): void {
    // A bucket is gone once its newest possible timestamp is outside the window.
    for (let first = this.order[0]; first !== undefined && (first + 1) * this.bucketMs + this.limits.windowMs <= nowMs; first = this.order[0]) {
      this.dropBucket(first);
    }
  }

  private dropBucket(bucket: number): void {
    for (const key of this.buckets.get(bucket) ?? []) {
      this.seen.delete(key);
      const s = key.slice(0, SENDER_BYTES);
      const left = (this.perSender.get(s) ?? 1) - 1;
      if (left > 0) this.perSender.set(s, left);
      else this.perSender.delete(s);
    }
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
    if (sorted[mid]! <= v)
      lo = mid + 1; // lo ≤ mid < hi ≤ length
    else hi = mid;
  }
  return lo;
}

/** The bytes as one flat one-byte string (a Map/Set key), one character per byte. */
function latin1(...parts: Uint8Array[]): string {
  const [only] = parts;
  const all = only && parts.length === 1 ? only : concatBytes(...parts);
  return String.fromCharCode(...all);
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
