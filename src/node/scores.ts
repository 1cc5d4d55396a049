/**
 * Our own peer score on top of gossipsub's: each rejected message costs its sender points, the
 * score recovers slowly, and a peer that falls below the threshold is disconnected and refused
 * (connection gater) for a while. Kept separate from libp2p so it is testable on its own.
 *
 * The same score feeds gossipsub's peer scoring as P5 (application-specific score), next to P4
 * (invalid messages per topic) and P6 (IP colocation): `gossipScoreParams` below.
 */
import { createTopicScoreParams, type PeerScoreParams, type PeerScoreThresholds, type TopicScoreParams } from '@libp2p/gossipsub/score';
import type { RejectReason } from './validator.ts';

/**
 * How much each kind of bad message costs. Forgeries cost most: no honest peer sends one. 0: the
 * message is dropped (gossipsub `ignore`) at no cost to anyone: another protocol version (a rolling
 * upgrade), a replay cache too full to prove the envelope new, or a claim (the relay role) that
 * only this node's configuration refuses.
 */
export const PENALTIES: Record<RejectReason, number> = {
  oversize: 10,
  malformed: 10,
  'wrong-network': 5,
  'wrong-version': 0,
  'wrong-topic': 10,
  'bad-signature': 20,
  'wrong-origin': 20,
  stale: 2,
  'wrong-sprint': 2,
  replay: 5,
  flood: 5,
  overloaded: 0,
  'invalid-payload': 10,
  unauthorized: 0,
  'unknown-topic': 1,
};

export interface ScoreEvents {
  onScore?(peerId: string, score: number, reason: RejectReason): void;
  onDisconnect?(peerId: string, score: number): void;
}

export class PeerScores {
  private readonly scores = new Map<string, { score: number; at: number }>();
  private readonly bannedUntil = new Map<string, number>();
  /** Table size at which `penalize` next sweeps; doubles with what a sweep keeps, so sweeps stay amortised O(1). */
  private sweepAt = SWEEP_AT;

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
    if (this.size >= this.sweepAt) this.sweep();
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

  /** Peers with a score or a ban on record (bounded: recovered scores and past bans are dropped). */
  get size(): number {
    return Math.max(this.scores.size, this.bannedUntil.size);
  }

  /** Forgets scores that have recovered to 0 and bans that have ended: they mean nothing any more. */
  private sweep(): void {
    const now = this.now();
    for (const peerId of [...this.scores.keys()]) if (this.score(peerId) >= 0) this.scores.delete(peerId);
    for (const [peerId, until] of [...this.bannedUntil]) if (until <= now) this.bannedUntil.delete(peerId);
    this.sweepAt = Math.max(SWEEP_AT, 2 * this.size);
  }
}

/** Table size at which `penalize` first sweeps out recovered entries (many peer ids are free to make). */
const SWEEP_AT = 1_024;

/**
 * gossipsub score thresholds. A peer's gossipsub score is
 *   Σ_topics P4 + P5 + P6 + P7
 * (P1-P3b, the delivery rewards and quotas, are off: Sprintnet topics are too quiet for P3's
 * delivery quota, and rewards would let a peer bank credit to spend on invalid messages).
 * - below 0 a peer is pruned from every mesh at the next heartbeat and never grafted;
 * - below `gossipThreshold` no IHAVE/IWANT gossip is exchanged with it;
 * - below `publishThreshold` our own messages are not flood-published to it;
 * - below `graylistThreshold` every RPC from it is dropped unread.
 */
export const GOSSIP_SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  // Peer exchange is off (doPX false); nobody is trusted with it.
  acceptPXThreshold: 1_000,
  opportunisticGraftThreshold: 1,
};

/**
 * P4, per registered topic: (invalid messages)² × −10. The counter decays by 0.99 each second
 * (half-life 69 s): 1 invalid message → −10, 2 → −40, 3 → −90 (graylisted).
 */
export const TOPIC_SCORE_PARAMS: Partial<TopicScoreParams> = {
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.99,
};

/** P5 weight: our own score (0 down to about −30 before we hang up) counts one for one. */
export const APP_SCORE_WEIGHT = 1;
/** P6: more than 10 peers on one IP cost (surplus)² × −1 each: 11 → −1, 14 → −16, 19 → −81. */
export const IP_COLOCATION_THRESHOLD = 10;
export const IP_COLOCATION_WEIGHT = -1;

export interface GossipScoreInputs {
  /** Wire topic names to score (P4). */
  topics: string[];
  /** P5 source: our own score of a peer (≤ 0). */
  appScore(peerId: string): number;
  /**
   * IPs exempt from P6. Passed by reference: gossipsub keeps this Set, so adding to it later (the
   * IP of a relay connection, once known) takes effect.
   */
  ipWhitelist: Set<string>;
}

export function gossipScoreParams(inputs: GossipScoreInputs): Partial<PeerScoreParams> {
  return {
    topics: Object.fromEntries(inputs.topics.map((t) => [t, createTopicScoreParams(TOPIC_SCORE_PARAMS)])),
    topicScoreCap: 0,
    appSpecificScore: inputs.appScore,
    appSpecificWeight: APP_SCORE_WEIGHT,
    IPColocationFactorWeight: IP_COLOCATION_WEIGHT,
    IPColocationFactorThreshold: IP_COLOCATION_THRESHOLD,
    IPColocationFactorWhitelist: inputs.ipWhitelist,
    // P7 (GRAFT during backoff, broken IWANT promises) and retention: gossipsub's defaults
    // (−10 × excess², decaying by 0.2 per second; scores of disconnected peers kept 1 h).
  };
}
