/**
 * Remembers envelope ids until they could no longer pass the clock check anyway, so a replayed
 * envelope is caught without unbounded memory: entries older than the window are dropped, and the
 * cache is capped (oldest first) against floods.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly retainMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** True when the id was new (and is now remembered); false for a replay. */
  remember(id: Uint8Array, nowMs: number): boolean {
    const key = toHex(id);
    if (this.seen.has(key)) return false;
    this.prune(nowMs);
    this.seen.set(key, nowMs + this.retainMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(nowMs: number): void {
    // Map iterates in insertion order, which is expiry order: stop at the first live entry.
    for (const [key, expiry] of this.seen) {
      if (expiry > nowMs && this.seen.size < this.maxEntries) break;
      this.seen.delete(key);
    }
  }
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
