import { describe, expect, it } from 'vitest';
import { outcomeNote } from './outcome.ts';

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
