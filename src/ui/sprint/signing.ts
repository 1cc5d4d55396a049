/**
 * What the Contribute screen says about signing while the wallet may be locked (docs/ui.md): the
 * runtime's `signing` snapshot and the network's schedule, in one sentence. Pure, so it is tested
 * without a DOM.
 */
import { phaseClock, proofDeadline } from '../../app/runtime.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { missedSigningNote } from './outcome.ts';

export interface SigningFacts {
  readonly runtime: 'needs-unlock' | 'running' | 'other';
  readonly walletLocked: boolean;
  readonly waiting: { readonly what: string; readonly until: number } | null;
  readonly missed: readonly { readonly what: string; readonly at: number }[];
  readonly genesis: Genesis | null;
  readonly now: number;
}

export interface SigningNote {
  readonly state: 'needs-unlock' | 'waiting' | 'proof-ahead' | 'missed';
  readonly what?: string;
  readonly text: string;
  /** A notice to act on (announced), or a record of what happened. */
  readonly urgent: boolean;
}

const seconds = (ms: number): string => `${Math.max(0, Math.ceil(ms / 1000))} s`;
const clock = (t: number): string => new Date(t).toLocaleTimeString();

export function signingNote(f: SigningFacts): SigningNote | null {
  // Only the settle and Sprint phases search (the search starts once every secret is revealed).
  const searching = f.genesis !== null && ['settle', 'Sprint'].includes(phaseClock(f.genesis, f.now).phase);
  if (f.runtime === 'needs-unlock') {
    return {
      state: 'needs-unlock',
      urgent: true,
      text: 'Unlock your wallet once to take part: this browser makes its validation key for this network then. Searching needs no unlock afterwards.',
    };
  }
  if (f.waiting?.what === 'vote') {
    // A vote has no deadline: one the signer cannot make is owed and sent after the unlock (docs/protocol.md §11).
    return { state: 'waiting', what: 'vote', urgent: true, text: 'Wallet locked: this browser’s vote on an epoch’s results is sent once you unlock it.' };
  }
  if (f.waiting) {
    const what = f.waiting.what === 'proof' ? 'proof' : `${f.waiting.what} message`;
    return {
      state: 'waiting',
      what: f.waiting.what,
      urgent: true,
      text: `Wallet locked: unlock to submit your ${what} (within ${seconds(f.waiting.until - f.now)}).${searching ? ' Searching goes on without it.' : ''}`,
    };
  }
  const due = f.genesis && f.walletLocked && f.runtime === 'running' && searching ? proofDeadline(f.genesis, f.now) : null;
  if (due !== null) {
    return {
      state: 'proof-ahead',
      urgent: true,
      text: `Wallet locked: this Sprint’s finds are sent only if you unlock it within ${seconds(due - f.now)} (by ${clock(due)}); otherwise they earn nothing. Searching goes on meanwhile.`,
    };
  }
  const last = f.missed.at(-1);
  if (last) {
    return {
      state: 'missed',
      what: last.what,
      urgent: false,
      text: `The wallet was locked when this browser's ${last.what} was due (${clock(last.at)}); ${missedSigningNote(last.what)}`,
    };
  }
  return null;
}
