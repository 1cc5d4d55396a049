/**
 * A claim nobody could check (its list never served) must cost its host more each time it
 * happens, or withholding a forged list would be cheaper than serving it and being caught
 * (docs/protocol.md §9, §14). The first rejection resets reputation, so everyone checks the next
 * claim; a second one before any acceptance forfeits every pending tranche, as fraud does.
 */
import { describe, expect, it } from 'vitest';
import { modelledCrypto } from './sim/modelled.ts';
import { simulate } from './sim/simulate.ts';

describe('an honest host that stops serving its nonce list (MODELLED engine and signatures)', () => {
  it('is accepted while it serves, then loses its reputation, then its pending rewards', async () => {
    // Host 0 serves its lists in epochs 0 and 1, then answers NOT_FOUND to every list request.
    const r = await simulate({ honest: 5, cheaters: [], epochs: 4, seed: 3, unservedLists: [0], unservedListsFrom: 2, modelled: { crypto: modelledCrypto() } });
    for (const e of r.epochs) expect(e.agreed && e.certified, `epoch ${e.epoch}`).toBe(true);
    const rows = r.epochs.map((e) => e.hosts.find((h) => h.name === 'honest-0')!);
    const [e0, e1, e2, e3] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    expect([e0.flags, e1.flags, e2.flags, e3.flags]).toEqual([['accepted'], ['accepted'], ['rejected'], ['rejected']]);
    expect(rows.map((h) => h.reputation)).toEqual([1, 2, 0, 0]);
    expect(e1.reward).toBeGreaterThan(0);
    // First rejection: nothing taken, only reputation (a failing link looks the same for one epoch).
    expect(e2.forfeited).toBe(0);
    expect(e2.reward).toBe(e2.validatorReward);
    // Second rejection with no acceptance between: every pending tranche and this epoch's reward.
    expect(e3.reward).toBe(0);
    expect(e3.vested).toBe(0); // forfeiture comes before the epoch-0 tranche would vest
    expect(e3.forfeited).toBe(e0.reward + e1.reward + e2.reward);
    expect(e3.forfeited).toBeGreaterThan(0);
    // The hosts that kept serving are untouched.
    for (const e of r.epochs) for (const h of e.hosts.filter((x) => x.name !== 'honest-0')) expect(h.flags).toEqual(['accepted']);
    console.log(
      'unserved from epoch 2:',
      JSON.stringify(rows.map((h, epoch) => ({ epoch, reputation: h.reputation, flags: h.flags, reward: h.reward, vested: h.vested, forfeited: h.forfeited }))),
    );
  });
});

describe('validators that lie `unavailable` (MODELLED): the penalty needs a strict majority of it', () => {
  it('a tie (one liar of two validators) rejects the claim but takes nothing, not even at reputation 0', async () => {
    // Open join, epoch 0: weight 1 each. Each honest prover is judged by the other honest host (ok)
    // and the liar (unavailable): 2·AW = VW, so not accepted, and 2·UW = VW, so not "unshown".
    const r = await simulate({ honest: 2, cheaters: ['unavailable-liar'], epochs: 1, seed: 4, modelled: { crypto: modelledCrypto() } });
    const e = r.epochs[0]!;
    expect(e.agreed && e.certified).toBe(true);
    for (const h of e.hosts.filter((x) => x.kind === 'honest')) {
      expect(h.flags, h.name).toEqual(['rejected']);
      expect(h.forfeited, h.name).toBe(0);
      expect(h.reward, h.name).toBe(h.validatorReward);
      // Paid as a validator for its `ok` on the liar's own (honestly searched, accepted) claim.
      expect(h.reward, h.name).toBeGreaterThan(0);
    }
  });

  it('below four hosts the tie hands the liar all the weight, for good; beside three honest hosts it never holds it all', async () => {
    // The bound n ≥ 3f + 1, by weight (docs/protocol.md §16). With two honest hosts, epoch 0 leaves the
    // liar as the only weighted host: it then refuses every claim and keeps its weight (carried), and
    // it alone certifies. Before the carry-over the network died in epoch 1 instead.
    const small = await simulate({ honest: 2, cheaters: ['unavailable-liar'], epochs: 4, seed: 4, modelled: { crypto: modelledCrypto() } });
    const liar = (e: (typeof small.epochs)[number]) => e.hosts.find((h) => h.kind === 'unavailable-liar')!;
    expect(small.epochs[0]!.hosts.filter((h) => h.weight > 0).map((h) => h.kind)).toEqual(['unavailable-liar']);
    for (const e of small.epochs.slice(1)) {
      expect(e.certified, `epoch ${e.epoch}`).toBe(true);
      expect(liar(e).flags, `epoch ${e.epoch}`).toEqual(['unvalidated', 'carried']);
      expect(liar(e).weight).toBe(liar(small.epochs[0]!).weight);
      for (const h of e.hosts.filter((x) => x.kind === 'honest')) expect([h.flags, h.weight], `${h.name} epoch ${e.epoch}`).toEqual([['rejected'], 0]);
    }
    // Beside three honest hosts it never holds all the weight; it still ties out a claim whenever its
    // weight reaches the other validators' on it (the claimant's own weight does not count, §8).
    let claims = 0;
    let tied = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = await simulate({ honest: 3, cheaters: ['unavailable-liar'], epochs: 4, seed, modelled: { crypto: modelledCrypto() } });
      for (const e of r.epochs) {
        expect(e.certified, `seed ${seed} epoch ${e.epoch}`).toBe(true);
        const honest = e.hosts.filter((h) => h.kind === 'honest');
        expect(
          honest.some((h) => h.weight > 0),
          `seed ${seed} epoch ${e.epoch}`,
        ).toBe(true);
        claims += honest.length;
        tied += honest.filter((h) => h.flags.includes('rejected')).length;
      }
    }
    console.log(`one unavailable-liar beside three honest hosts: ${tied} of ${claims} honest claims rejected`);
    expect(tied).toBeLessThan(claims / 4);
  });

  it('a strict majority of liars can impose the penalty, as a majority can already flag fraud', async () => {
    const r = await simulate({ honest: 2, cheaters: ['unavailable-liar', 'unavailable-liar'], epochs: 1, seed: 4, modelled: { crypto: modelledCrypto() } });
    const e = r.epochs[0]!;
    for (const h of e.hosts.filter((x) => x.kind === 'honest')) {
      expect(h.flags, h.name).toEqual(['rejected']);
      expect(h.reward, h.name).toBe(0); // reputation 0 (new): the epoch's reward is forfeited
      expect(h.forfeited, h.name).toBeGreaterThan(0);
    }
  });
});
