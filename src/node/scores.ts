/**
 * Our own peer score on top of gossipsub's: each rejected message costs its sender points, the
 * score recovers slowly, and a peer that falls below the threshold is disconnected and refused
 * (connection gater) for a while. Kept separate from libp2p so it is testable on its own.
 */
import type { RejectReason } from './validator.ts';

/** How much each kind of bad message costs. Forgeries cost most: no honest peer sends one. */
export const PENALTIES: Record<RejectReason, number> = {
  oversize: 10,
  malformed: 10,
  'wrong-network': 5,
  'wrong-version': 5,
  'wrong-topic': 10,
  'bad-signature': 20,
  'wrong-origin': 20,
  stale: 2,
  'wrong-sprint': 2,
  replay: 5,
  'invalid-payload': 10,
  'unknown-topic': 1,
};

export interface ScoreEvents {
  onScore?(peerId: string, score: number, reason: RejectReason): void;
  onDisconnect?(peerId: string, score: number): void;
}

export class PeerScores {
  private readonly scores = new Map<string, { score: number; at: number }>();
  private readonly bannedUntil = new Map<string, number>();

  constructor(
    private readonly threshold: number,
    private readonly banMs: number,
    private readonly events: ScoreEvents = {},
    /** Points recovered per minute, so an occasional stale message is forgiven. */
    private readonly recoveryPerMinute = 5,
    private readonly now: () => number = Date.now,
  ) {}

  score(peerId: string): number {
    const entry = this.scores.get(peerId);
    if (!entry) return 0;
    const recovered = ((this.now() - entry.at) / 60_000) * this.recoveryPerMinute;
    return Math.min(0, entry.score + recovered);
  }

  /** Returns true when the peer just crossed the threshold and must be disconnected. */
  penalize(peerId: string, reason: RejectReason): boolean {
    const score = this.score(peerId) - PENALTIES[reason];
    this.scores.set(peerId, { score, at: this.now() });
    this.events.onScore?.(peerId, score, reason);
    if (score < this.threshold && !this.isBanned(peerId)) {
      this.bannedUntil.set(peerId, this.now() + this.banMs);
      this.events.onDisconnect?.(peerId, score);
      return true;
    }
    return false;
  }

  isBanned(peerId: string): boolean {
    const until = this.bannedUntil.get(peerId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.bannedUntil.delete(peerId);
    return false;
  }

  snapshot(): Array<{ peerId: string; score: number }> {
    return [...this.scores.keys()].map((peerId) => ({ peerId, score: this.score(peerId) }));
  }
}
