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
    return 'No proof earned weight this epoch (its hosts were away or out of reach while proofs were checked), so every host keeps the weight it had: nothing is credited, and no weight is lost.';
  if (flags.includes('unvalidated')) return 'Nobody was able to check the proof this epoch: no weight from it, and no penalty.';
  if (flags.includes('wrongSeed')) return 'The proof was for another seed (a reveal reached this browser late): it was ignored, with no penalty.';
  return null;
}
