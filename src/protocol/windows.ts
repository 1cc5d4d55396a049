/**
 * Which timestamps a message of each kind may carry (docs/protocol.md §"Clocks"). A message is
 * part of an epoch only when its signed timestamp lies in its phase window widened by the skew
 * tolerance; this is a property of the bytes, so peers that hold the same messages agree on it.
 * Live gossip is also refused when its timestamp is further than the skew from our own clock
 * (`liveProblem`), which bounds how late a backdated message can be injected.
 */
import { schedule, type Genesis } from './genesis.ts';
import type { KindName } from './messages.ts';

export function messageWindow(g: Genesis, kind: KindName, epoch: number): readonly [number, number] {
  const s = schedule(g, epoch);
  const k = g.skewMs;
  switch (kind) {
    case 'commit':
      return [s.start - k, s.commitEnd + k];
    case 'reveal':
      return [s.commitEnd - k, s.revealEnd + k];
    case 'proof':
      return [s.sprintStart - k, s.proofEnd + k];
    case 'validation':
      return [s.proofEnd - k, s.validationEnd + k];
    case 'vote':
      // Votes sign the derived state; they may arrive any time after the close (by sync).
      return [s.close - k, Number.MAX_SAFE_INTEGER];
    case 'inference':
      // Sessions run any time; their proofs are published from the epoch's start until its proof deadline.
      return [s.start - k, s.proofEnd + k];
    case 'inferenceVerdict':
      return [s.start - k, s.validationEnd + k];
  }
}

export function inWindow(g: Genesis, kind: KindName, epoch: number, timestampMs: number): boolean {
  const [lo, hi] = messageWindow(g, kind, epoch);
  return timestampMs >= lo && timestampMs <= hi;
}

/** Null when a live message's timestamp is within the skew of `now`, else why not. */
export function liveProblem(g: Genesis, timestampMs: number, now: number): string | null {
  const off = timestampMs - now;
  return Math.abs(off) <= g.skewMs ? null : `timestamp is ${off} ms off our clock (tolerance ${g.skewMs} ms)`;
}
