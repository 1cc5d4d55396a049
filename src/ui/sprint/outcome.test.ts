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
  });
});
