/**
 * The order an inference judge takes proofs in (docs/protocol.md §9a "Judge order"). Local policy:
 * the ledger counts verdicts whatever order they were signed in, so no two judges need agree on it.
 *
 * Why it matters: an inference proof costs its two signers nothing but two signatures (keys are
 * free), and every judge holding the model spends an evidence fetch and a re-run on it, or a whole
 * transport timeout when the volunteer does not answer. Taken in pool order, a burst of such
 * proofs published first held the judge past the validation window, and honest volunteers' proofs
 * went unjudged (`unvalidated`: no credit). So a judge takes, in this order:
 * 1. volunteers it has not caught this epoch before those it has (an `inconsistent` or `invalid`
 *    verdict of its own on one of their proofs of that epoch);
 * 2. volunteers whose evidence requests failed fewer times (since they last answered) before
 *    others: a key that never answers costs one transport timeout, then waits behind every key
 *    that has not failed yet, and its retries back off (retryMs · 2^(failures − 1));
 * 3. volunteers the ledger credited before (more total inference FLOPs first): earning that took
 *    judged sessions, so it cannot be made up for a flood;
 * 4. volunteers with more voting weight;
 * 5. the rest by SHA-256(salt ‖ proof id) with a salt drawn once per judge: nobody can grind a proof id
 *    to come first, or make a burst of proofs come first together.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hex } from '../protocol/bytes.ts';

export interface JudgeCandidate {
  /** Hex of the split proof id. */
  readonly id: string;
  readonly idBytes: Uint8Array;
  /** Hex of the volunteer's key. */
  readonly volunteer: string;
  readonly epoch: number;
}

export interface JudgeStanding {
  /** The volunteer's total credited inference FLOPs in the newest state the judge holds (0 if no row). */
  readonly creditedFlops: (volunteer: string) => bigint;
  /** Its voting weight now. */
  readonly weight: (volunteer: string) => number;
  /** This judge found one of its proofs of `epoch` inconsistent or invalid. */
  readonly caught: (epoch: number, volunteer: string) => boolean;
  /** Evidence requests to it that failed since it last gave evidence. */
  readonly unanswered: (volunteer: string) => number;
}

/** A key that sorts candidates: earlier is judged first. */
export type JudgeRank = readonly [caught: number, unanswered: number, credited: bigint, weight: number, tiebreak: string];

export function judgeRank(c: JudgeCandidate, s: JudgeStanding, salt: Uint8Array): JudgeRank {
  const v = c.volunteer;
  return [s.caught(c.epoch, v) ? 1 : 0, s.unanswered(v), -s.creditedFlops(v), -s.weight(v), tiebreak(salt, c.idBytes)];
}

export const tiebreak = (salt: Uint8Array, idBytes: Uint8Array): string => hex(sha256(concatBytes(salt, idBytes)));

export function compareRanks(a: JudgeRank, b: JudgeRank): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

/** The candidate to judge next, or undefined. */
export function nextToJudge<C extends JudgeCandidate>(candidates: readonly C[], s: JudgeStanding, salt: Uint8Array): C | undefined {
  let best: C | undefined;
  let bestRank: JudgeRank | undefined;
  for (const c of candidates) {
    const r = judgeRank(c, s, salt);
    if (!bestRank || compareRanks(r, bestRank) < 0) [best, bestRank] = [c, r];
  }
  return best;
}
