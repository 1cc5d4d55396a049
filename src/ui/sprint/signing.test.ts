import { describe, expect, it } from 'vitest';
import { demoGenesis } from '../../app/demo-genesis.ts';
import { schedule } from '../../protocol/genesis.ts';
import { signingNote, type SigningFacts } from './signing.ts';

const g = demoGenesis({ now: 0, startInMs: 0 });
const s0 = schedule(g, 0);
const facts = (o: Partial<SigningFacts>): SigningFacts => ({
  runtime: 'running',
  walletLocked: true,
  waiting: null,
  missed: [],
  genesis: g,
  now: s0.sprintStart + 1_000,
  ...o,
});

describe('signingNote', () => {
  it('warns during the Sprint that a locked wallet’s finds are sent only after an unlock, by the proof window’s end', () => {
    const n = signingNote(facts({}))!;
    expect(n.state).toBe('proof-ahead');
    expect(n.text).toContain(`within ${Math.ceil((s0.proofEnd - s0.sprintStart - 1_000) / 1000)} s`);
    expect(n.text).toContain('otherwise they earn nothing');
    expect(signingNote(facts({ now: s0.revealEnd + 500 }))!.state).toBe('proof-ahead'); // the early search, before the Sprint
    expect(signingNote(facts({ walletLocked: false }))).toBeNull();
    expect(signingNote(facts({ runtime: 'other' }))).toBeNull();
    // Outside the search nothing is found, so there is nothing to warn about ahead.
    expect(signingNote(facts({ now: s0.proofEnd + 500 }))).toBeNull();
    expect(signingNote(facts({ now: s0.start + 500 }))).toBeNull();
  });

  it('says searching goes on while it waits to sign only when a search runs', () => {
    const waiting = { what: 'proof', until: s0.sprintStart + 5_000 };
    expect(signingNote(facts({ waiting }))!.text).toBe('Wallet locked: unlock to submit your proof (within 4 s). Searching goes on without it.');
    // A vote has no deadline (it is owed): no countdown that never runs down.
    expect(signingNote(facts({ waiting: { what: 'vote', until: s0.sprintStart + 2_000 } }))!.text).toMatch(/vote .* is sent once you unlock it\.$/);
    const validating = signingNote(facts({ now: s0.proofEnd + 500, waiting: { what: 'validation', until: s0.validationEnd } }))!;
    expect(validating.state).toBe('waiting');
    expect(validating.text).not.toContain('Searching goes on');
  });

  it('asks for the first unlock before anything else, and otherwise records the last missed message with its cost', () => {
    expect(signingNote(facts({ runtime: 'needs-unlock' }))!.state).toBe('needs-unlock');
    const missed = signingNote(
      facts({
        now: s0.end - 100,
        missed: [
          { what: 'commit', at: 1 },
          { what: 'proof', at: 2 },
        ],
      }),
    )!;
    expect(missed).toMatchObject({ state: 'missed', what: 'proof', urgent: false });
    expect(missed.text).toMatch(/never submitted, so they earn nothing/);
  });
});
