/**
 * Ranking volunteers (docs/split-inference.md §9): trust first, speed among equals.
 *
 * 1. Tier: unflagged and weighted in the Sprint ledger (the Sprint weights say who is capable and
 *    has something to lose) → unflagged, no weight → flagged (fraud or withholding in the ledger)
 *    → it announces another genesis than the user follows (it would serve, but the user signs it no
 *    proof: docs/split-inference.md §6) → its probe failed (unreachable, or it refused).
 * 2. Within a tier: the higher inference score (its split sessions as the weighted validators judged
 *    them, src/protocol/inference-reputation.ts `inferenceScore`: a volunteer caught with
 *    inconsistent or invalid sessions drops below those with a clean record), then higher ledger
 *    reputation (accepted epochs), then the lower step time (ping.ts: the measured round trip plus
 *    the volunteer's own step time; or a probe session's measured step, router.ts probeVolunteer),
 *    then the higher weight, then the peer id, so the order is total.
 * split sits below nothing that computes the score (protocol imports split), so callers pass it in.
 * Later entries are the failover order. The user may override the first choice by hand.
 */
import type { PingResult } from './ping.ts';
import { splitRate, type VolunteerProbe } from './router.ts';

/** What the Sprint ledger says of a key (src/app/activity.ts WeightRow's fields). */
export interface LedgerStanding {
  readonly weight: number;
  readonly votingWeight: number;
  readonly reputation: number;
  readonly flags: readonly string[];
}

export interface RankInput {
  readonly peerId: string;
  readonly standing: LedgerStanding | undefined;
  /** The probe's result, its failure, or undefined when it was not probed. */
  readonly probe: VolunteerProbe | Error | undefined;
  /** Announced decode rate of the volunteer (0 = none): shown, not trusted for the order. */
  readonly announcedTokensPerSecond?: number;
  /** Its last ping, shown with the ranking (the step estimate it gave is in `probe`). */
  readonly ping?: PingResult;
  /** Consistent − 2 × (inconsistent + invalid) judged sessions (protocol's `inferenceScore`); 0 or absent: no record. */
  readonly inferenceScore?: number;
  /** It announced another genesis than the one the user follows (or none): its sessions would not be credited there. */
  readonly otherGenesis?: boolean;
}

export type RankTier = 'weighted' | 'unweighted' | 'flagged' | 'other-genesis' | 'unreachable';
const TIERS: readonly RankTier[] = ['weighted', 'unweighted', 'flagged', 'other-genesis', 'unreachable'];

/** The problem shown for an 'other-genesis' volunteer. */
export const OTHER_GENESIS_PROBLEM = 'announces another genesis than this ledger’s: it would serve, but no proof would be signed';

export interface RankedVolunteer {
  readonly peerId: string;
  readonly tier: RankTier;
  /** The larger of its weight for the next epoch and the weight it votes with now. */
  readonly weight: number;
  readonly reputation: number;
  /** Its inference score (0 without a record): the first key within a tier. */
  readonly inferenceScore: number;
  readonly flags: readonly string[];
  /** Measured step time, ms; null when not probed or unreachable. */
  readonly stepMs: number | null;
  /** The probe's failure, if it failed. */
  readonly problem: string | null;
  /** Expected split decode rate with this volunteer (router.ts splitRate), when its step time and the local [0, k) rate are known. */
  readonly expectedTokensPerSecond: number | null;
  readonly announcedTokensPerSecond: number;
  /** From its last ping: the measured round trip (ms) and its load; null when not pinged. */
  readonly rttMs: number | null;
  readonly openSessions: number | null;
  readonly sessionLimit: number | null;
}

/** A volunteer not probed keeps its ledger tier (it is not known to be unreachable); its step time sorts last. */
function tierOf(i: RankInput): RankTier {
  if (i.probe instanceof Error) return 'unreachable';
  if (i.otherGenesis) return 'other-genesis';
  const s = i.standing;
  if (s && s.flags.length > 0) return 'flagged';
  return s && (s.weight > 0 || s.votingWeight > 0) ? 'weighted' : 'unweighted';
}

export function rankVolunteers(inputs: readonly RankInput[], prefixTokensPerSecond: number | null): RankedVolunteer[] {
  const ranked = inputs.map((i): RankedVolunteer => {
    const stepMs = i.probe && !(i.probe instanceof Error) ? i.probe.stepMs : null;
    return {
      peerId: i.peerId,
      tier: tierOf(i),
      weight: Math.max(i.standing?.weight ?? 0, i.standing?.votingWeight ?? 0),
      reputation: i.standing?.reputation ?? 0,
      inferenceScore: Number.isFinite(i.inferenceScore) ? i.inferenceScore! : 0,
      flags: i.standing?.flags ?? [],
      stepMs,
      problem: i.probe instanceof Error ? i.probe.message : i.otherGenesis ? OTHER_GENESIS_PROBLEM : null,
      expectedTokensPerSecond: stepMs !== null && prefixTokensPerSecond !== null && prefixTokensPerSecond > 0 ? splitRate(prefixTokensPerSecond, stepMs) : null,
      announcedTokensPerSecond: i.announcedTokensPerSecond ?? 0,
      rttMs: i.ping?.rttMs ?? null,
      openSessions: i.ping?.openSessions ?? null,
      sessionLimit: i.ping?.sessionLimit ?? null,
    };
  });
  return ranked.sort(
    (a, b) =>
      TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) ||
      b.inferenceScore - a.inferenceScore ||
      b.reputation - a.reputation ||
      (a.stepMs ?? Number.POSITIVE_INFINITY) - (b.stepMs ?? Number.POSITIVE_INFINITY) ||
      b.weight - a.weight ||
      (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0),
  );
}
