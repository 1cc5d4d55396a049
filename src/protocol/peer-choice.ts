/**
 * Whom a host asks when it syncs and catches up (docs/protocol.md §12, "Whom a host asks"). Many
 * peers a host sees run no sync protocol for its genesis (split volunteers, hosts of another
 * genesis), never answer (unreachable), or hold nothing yet (a page that has just started
 * following). A peer whose request failed is _benched_ for a while: it is asked only after every
 * peer that is not, so a few such peers at the front of the transport's list cannot hide the
 * hosts behind them. Benching only reorders; the number of peers asked per round is the caller's.
 */

/** Peers benched after a failure, and until when (clock time). */
export class PeerBook {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    /** How long a failed peer is asked last: one epoch. */
    private readonly benchMs: number,
  ) {}

  /**
   * A request to `peer` failed (no sync handler for this genesis, unreachable, timed out, an answer
   * that does not decode) or, while catching up, it did not serve a state that verifies.
   */
  bench(peer: string): void {
    const now = this.now();
    // Benches that ended are dropped here too, not only when their peer is listed again: peers that
    // failed and left (Sybils that churn ids) would otherwise stay in the map for ever.
    for (const [p, until] of this.until) if (until <= now) this.until.delete(p);
    this.until.set(peer, now + this.benchMs);
  }

  /** `peer` answered a request: it is no longer benched. */
  answered(peer: string): void {
    this.until.delete(peer);
  }

  benched(peer: string): boolean {
    const until = this.until.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(peer);
    return false;
  }

  /**
   * `peers` without repeats: first those of `first` that are listed and not benched (in that order),
   * then the other peers not benched (in the order given), then the benched ones, the one whose
   * bench ends soonest first.
   */
  order(peers: readonly string[], first: readonly string[] = []): string[] {
    const listed = new Set(peers);
    const free = [...first.filter((p) => listed.has(p)), ...peers].filter((p) => !this.benched(p));
    const benched = peers.filter((p) => this.benched(p)).sort((a, b) => this.until.get(a)! - this.until.get(b)!);
    return [...new Set([...free, ...benched])];
  }
}

/** `peers` rotated to start at index `start` (mod their number). */
export function rotate<T>(peers: readonly T[], start: number): T[] {
  if (peers.length === 0) return [];
  const s = ((start % peers.length) + peers.length) % peers.length;
  return [...peers.slice(s), ...peers.slice(0, s)];
}

/**
 * Asks each of `peers` for its head (op 6: newest certified epoch + 1) at once. Resolves `ready`
 * when every answer is in, or as soon as one peer reports a certified state of epoch `need` (head
 * > need); answers that arrive later still land in `heads`. A peer that fails is absent from it.
 */
export function probeHeads(
  peers: readonly string[],
  ask: (peer: string) => Promise<number | null>,
  need: number,
): { heads: Map<string, number>; ready: Promise<void> } {
  const heads = new Map<string, number>();
  const ready = new Promise<void>((resolve) => {
    let left = peers.length;
    if (left === 0) resolve();
    for (const peer of peers) {
      void ask(peer)
        .catch(() => null)
        .then((head) => {
          if (head !== null) heads.set(peer, head);
          if (--left === 0 || (head !== null && head > need)) resolve();
        });
    }
  });
  return { heads, ready };
}
