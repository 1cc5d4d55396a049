import { describe, expect, it } from 'vitest';
import { missedSigningNote, outcomeNote } from './outcome.ts';

describe('outcomeNote', () => {
  it('explains each outcome of the own proof that costs or earns nothing, and says nothing for an accepted one', () => {
    expect(outcomeNote(['accepted'])).toBeNull();
    expect(outcomeNote([])).toBeNull();
    expect(outcomeNote(['fraud', 'equivocated'])).toMatch(/fraud.*forfeited/);
    expect(outcomeNote(['rejected'])).toMatch(/could not fetch its list.*second time.*keep this tab open/);
    expect(outcomeNote(['unvalidated'])).toMatch(/no penalty/);
    expect(outcomeNote(['withheld', 'accepted'])).toMatch(/did not reveal/);
    expect(outcomeNote(['wrongSeed'])).toMatch(/another seed/);
    // A carried weight is not lost: not "no weight from it", even for a host that also withheld (every weighted host did).
    expect(outcomeNote(['unvalidated', 'carried'])).toMatch(/keeps the weight it had/);
    expect(outcomeNote(['withheld', 'carried', 'wrongSeed'])).toMatch(/keeps the weight it had/);
    // An unshown list still costs reputation: that is what the volunteer must act on.
    expect(outcomeNote(['rejected', 'carried'])).toMatch(/could not fetch its list/);
  });
});

describe('missedSigningNote', () => {
  it('says what a message the locked wallet missed cost', () => {
    expect(missedSigningNote('commit')).toMatch(/Nothing is lost/);
    expect(missedSigningNote('reveal')).toMatch(/no host reward.*no weight in the next/);
    expect(missedSigningNote('proof')).toMatch(/earn nothing/);
    expect(missedSigningNote('validation')).toMatch(/no validator reward/);
    expect(missedSigningNote('vote')).toMatch(/sent once the wallet is unlocked/);
    expect(missedSigningNote('other')).toMatch(/skipped/);
  });
});
