/**
 * What the ledger's flags on this browser's own proof mean for the volunteer, in one sentence
 * (docs/protocol.md §8–§9). Accepted needs no note: the weight line says it.
 */
export function outcomeNote(flags: readonly string[]): string | null {
  if (flags.includes('fraud'))
    return 'Checkers found finds that do not reproduce: the proof counts as fraud, so unvested rewards are forfeited and reputation is back to 0.';
  // Withheld but carried: every weighted host withheld, so the weight was kept (the carried note says so).
  if (flags.includes('withheld') && !flags.includes('carried'))
    return 'This browser committed to a secret but did not reveal it in time: no weight next epoch.';
  if (flags.includes('rejected'))
    return 'The proof was not accepted. When most checkers could not fetch its list of finds, reputation goes back to 0, and a second time before an accepted proof costs unvested rewards: keep this tab open and online until validation ends.';
  if (flags.includes('carried'))
    return 'No proof earned weight this epoch (its hosts were away, out of reach or locked while proofs were checked), so every host keeps the weight it had: nothing is credited, and no weight is lost.';
  if (flags.includes('unvalidated')) return 'Nobody was able to check the proof this epoch: no weight from it, and no penalty.';
  if (flags.includes('wrongSeed')) return 'The proof was for another seed (a reveal reached this browser late): it was ignored, with no penalty.';
  return null;
}

/**
 * What it cost that a message was not signed in time because the wallet was locked (the runtime's
 * `signing.missed`; docs/protocol.md §6, §8, §9, §11). A vote is owed and sent after the unlock.
 */
export function missedSigningNote(what: string): string {
  switch (what) {
    case 'commit':
      return 'it was skipped, so this browser had no part in choosing that epoch’s seed. Nothing is lost for it.';
    case 'reveal':
      return 'its committed secret was not revealed in time, so this browser earns no host reward for that epoch and gets no weight in the next.';
    case 'proof':
      return 'its finds of that epoch were never submitted, so they earn nothing.';
    case 'validation':
      return 'it checked nobody’s proof that epoch, so it earns no validator reward for it.';
    case 'vote':
      return 'it is sent once the wallet is unlocked, if that epoch still has no certificate.';
    default:
      return 'it was skipped for that epoch.';
  }
}
