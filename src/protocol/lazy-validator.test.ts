/**
 * The lazy validator (docs/protocol.md §14): a validator that publishes `ok` with checked = m and
 * no mismatches for every proof its lottery selects, and fetches and evaluates nothing. These
 * tests measure what today's rules do with it; they do not describe a defence, because none is
 * built (§16). Networks have at most 8 hosts, so every validator checks every proof (the rate's
 * floor is 7 / n_h ≥ 1) and the outcomes follow from weights alone, not from lottery draws.
 */
import { describe, expect, it } from 'vitest';
import { walletVerifier } from './crypto.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { simulate, type CheaterKind, type EpochReport, type HostEpochReport, type SimReport } from './sim/simulate.ts';

const modelled = (honest: number, cheaters: CheaterKind[], epochs: number, seed: number, unservedLists?: number[]): Promise<SimReport> =>
  simulate({ honest, cheaters, epochs, seed, unservedLists, modelled: { crypto: modelledCrypto() } });

const isLazy = (h: HostEpochReport) => h.kind === 'lazy-validator';
const validatorsOf = (e: EpochReport, host: string) => e.hosts.filter((h) => h.name !== host && h.votingWeight > 0);

/** The lazy validators' share of the weight that validates `host` in epoch `e`. */
function lazyShare(e: EpochReport, host: string): { lazy: number; total: number } {
  const v = validatorsOf(e, host);
  return { lazy: v.filter(isLazy).reduce((s, h) => s + h.votingWeight, 0), total: v.reduce((s, h) => s + h.votingWeight, 0) };
}

describe('lazy validator with honest provers (MODELLED engine and signatures)', () => {
  it('earns exactly an honest validator’s validator reward, with no validation work', async () => {
    const r = await modelled(5, ['lazy-validator'], 4, 1);
    const figures = r.epochs.map((e) => {
      const lazy = e.hosts.find(isLazy)!;
      const honest = e.hosts.filter((h) => h.kind === 'honest');
      expect(e.agreed && e.certified).toBe(true);
      for (const h of e.hosts) expect(h.flags).toEqual(['accepted']);
      if (e.epoch === 0) for (const h of honest) expect(h.votingWeight).toBe(lazy.votingWeight); // open join: 1 each
      // The validator pool pays per agreeing entry, whatever the weight or the work behind it.
      for (const h of honest) expect(lazy.validatorReward).toBe(h.validatorReward);
      expect(lazy.validatorReward).toBeGreaterThan(0);
      expect(lazy.validationEvaluated).toBe(0);
      for (const h of honest) expect(h.validationEvaluated).toBeGreaterThan(0);
      return {
        epoch: e.epoch,
        lazyValidatorReward: lazy.validatorReward,
        honestValidatorReward: honest[0]!.validatorReward,
        honestEvaluationsSaved: honest.map((h) => h.validationEvaluated),
        searchEvaluated: lazy.evaluated,
      };
    });
    console.log('lazy validator, honest provers:', JSON.stringify(figures));
  });
});

describe('a forged prover against lazy validators, by their share of the validating weight (MODELLED)', () => {
  // 7 hosts: the forged prover and 6 validators of it, k of them lazy; weight is 1 per key in
  // open-join epoch 0 and the credited nonces afterwards, so epoch 1 gives other shares.
  const runs: Array<{ k: number; seed: number; report: SimReport }> = [];

  it('runs k = 0 … 6 lazy validators of 6, two seeds, 2 epochs each', async () => {
    for (const seed of [1, 2])
      for (let k = 0; k <= 6; k++) {
        const report = await modelled(6 - k, ['forged', ...Array.from({ length: k }, () => 'lazy-validator' as const)], 2, seed);
        for (const e of report.epochs) expect(e.agreed && e.certified, `k ${k} seed ${seed} epoch ${e.epoch}`).toBe(true);
        runs.push({ k, seed, report });
      }
  });

  it('the outcome of the forged proof follows the lazy share: fraud below half, rejected at half, accepted above', () => {
    const rows: string[] = [];
    for (const { k, seed, report } of runs)
      for (const e of report.epochs) {
        const forged = e.hosts.find((h) => h.kind === 'forged')!;
        const { lazy, total } = lazyShare(e, forged.name);
        expect(forged.claimed).toBeGreaterThan(0);
        expect(forged.evaluated).toBe(0);
        const where = `k ${k} seed ${seed} epoch ${e.epoch}: lazy ${lazy}/${total}`;
        if (2 * lazy < total) {
          // Caught: every honest validator saw every sampled nonce fail.
          expect(forged.flags, where).toEqual(['fraud']);
          expect(forged.weight).toBe(0);
          expect(forged.reward).toBe(0);
        } else if (2 * lazy > total) {
          // Accepted: the weighted lower median of mismatches is the lazy 0, so every claim is credited.
          expect(forged.flags, where).toEqual(['accepted']);
          expect(forged.weight).toBe(forged.claimed);
          expect(forged.reward).toBeGreaterThan(0);
          expect(forged.cuEpoch).toBeGreaterThan(0);
        } else {
          // Neither a majority of ok nor of mismatch: rejected, not flagged as fraud.
          expect(forged.flags, where).toEqual(['rejected']);
          expect(forged.weight).toBe(0);
        }
        rows.push(`${where} -> ${forged.flags.join(',')}`);
      }
    // Both sides of the line were reached, epoch 0 included (shares k/6).
    const epoch0 = (k: number) => runs.find((x) => x.k === k && x.seed === 1)!.report.epochs[0]!.hosts.find((h) => h.kind === 'forged')!.flags;
    expect([0, 1, 2].map(epoch0)).toEqual([['fraud'], ['fraud'], ['fraud']]);
    expect(epoch0(3)).toEqual(['rejected']);
    expect([4, 5, 6].map(epoch0)).toEqual([['accepted'], ['accepted'], ['accepted']]);
    console.log('forged proof vs lazy share:\n' + rows.join('\n'));
  });

  it('pays for agreeing, not for checking: lazy validators lose one credit when a forgery is caught, honest ones lose it when it is accepted', () => {
    for (const { k, seed, report } of runs) {
      if (k === 0 || k === 6) continue;
      for (const e of report.epochs) {
        const forged = e.hosts.find((h) => h.kind === 'forged')!;
        const validators = validatorsOf(e, forged.name);
        const lazy = validators.find(isLazy)!.validatorReward;
        const honest = validators.find((h) => h.kind === 'honest')!.validatorReward;
        const where = `k ${k} seed ${seed} epoch ${e.epoch}`;
        if (forged.fraud) expect(lazy, where).toBeLessThan(honest);
        else if (forged.flags.includes('accepted')) expect(lazy, where).toBeGreaterThan(honest);
        else expect(lazy, where).toBe(honest); // rejected: neither ok nor mismatch agreed
      }
    }
    const r = runs.find((x) => x.k === 4 && x.seed === 1)!.report.epochs[0]!;
    const v = validatorsOf(r, 'forged');
    console.log(
      'k = 4 of 6, epoch 0: validator reward lazy',
      v.find(isLazy)!.validatorReward,
      'honest',
      v.find((h) => h.kind === 'honest')!.validatorReward,
      'forged host reward',
      r.hosts.find((h) => h.kind === 'forged')!.reward,
    );
  });
});

describe('a prover that never serves its nonce list, against lazy validators (MODELLED)', () => {
  // The same 7 hosts as above. The prover answers every list request with NOT_FOUND, so nobody can
  // fetch its list (no peer ever got a copy to pass on) and honest validators say `unavailable`.
  // Two provers: one that searched honestly (real finds, never shown) and the forger (nothing real).
  type Prover = 'honest' | 'forged';
  const runs: Array<{ prover: Prover; k: number; seed: number; report: SimReport; index: number }> = [];
  const proverIn = (r: (typeof runs)[number], e: EpochReport) => e.hosts[r.index]!;

  it('runs k = 0 … 6 lazy validators of 6 for each prover, two seeds, 2 epochs each', async () => {
    for (const prover of ['honest', 'forged'] as const)
      for (const seed of [1, 2])
        for (let k = 0; k <= 6; k++) {
          const lazy = Array.from({ length: k }, () => 'lazy-validator' as const);
          // Honest hosts come first, so the honest prover is host 0 and the forger the first cheater.
          const index = prover === 'honest' ? 0 : 6 - k;
          const report = prover === 'honest' ? await modelled(7 - k, lazy, 2, seed, [index]) : await modelled(6 - k, ['forged', ...lazy], 2, seed, [index]);
          for (const e of report.epochs) expect(e.agreed && e.certified, `${prover} k ${k} seed ${seed} epoch ${e.epoch}`).toBe(true);
          runs.push({ prover, k, seed, report, index });
        }
  });

  it('the unshown claim is rejected (never fraud) up to half lazy weight and accepted whole above it', () => {
    const rows: string[] = [];
    for (const r of runs)
      for (const e of r.report.epochs) {
        const p = proverIn(r, e);
        const { lazy, total } = lazyShare(e, p.name);
        const where = `${r.prover} prover, k ${r.k} seed ${r.seed} epoch ${e.epoch}: lazy ${lazy}/${total}`;
        expect(p.kind, where).toBe(r.prover);
        expect(p.claimed, where).toBeGreaterThan(0);
        if (r.prover === 'honest') expect(p.evaluated, where).toBeGreaterThan(0);
        else expect(p.evaluated, where).toBe(0);
        if (2 * lazy > total) {
          // Only the lazy entries carry a sample, all with 0 mismatches: every claim is credited.
          expect(p.flags, where).toEqual(['accepted']);
          expect(p.weight, where).toBe(p.claimed);
          expect(p.cuEpoch, where).toBeGreaterThan(0);
          expect(p.reward, where).toBeGreaterThan(p.validatorReward); // a host-pool share
        } else {
          // Honest validators' `unavailable` is not a fraud verdict, so even the forger is only rejected.
          expect(p.flags, where).toEqual(['rejected']);
          expect(p.fraud).toBe(false);
          expect(p.weight, where).toBe(0);
          expect(p.cuEpoch, where).toBe(0);
          expect(p.reputation, where).toBe(0);
          if (2 * lazy < total) {
            // Most of the validating weight was not shown the list: at reputation 0 (a new host, or
            // one rejected before) that forfeits like fraud, the epoch's validator reward included.
            expect(p.reward, where).toBe(0);
            if (r.prover === 'forged' && e.epoch === 0) expect(p.forfeited, where).toBeGreaterThan(0);
          } else {
            // Exactly half: a tie costs nothing (§9), so lazy weight at half shields a withholder.
            expect(p.reward, where).toBe(p.validatorReward);
            expect(p.forfeited, where).toBe(0);
          }
        }
        rows.push(`${where} -> ${p.flags.join(',')}, weight ${p.weight} of ${p.claimed} claimed, reputation ${p.reputation}`);
      }
    const epoch0 = (prover: Prover, k: number) => {
      const r = runs.find((x) => x.prover === prover && x.k === k && x.seed === 1)!;
      return proverIn(r, r.report.epochs[0]!).flags.join(',');
    };
    for (const prover of ['honest', 'forged'] as const)
      expect(
        [0, 1, 2, 3, 4, 5, 6].map((k) => epoch0(prover, k)),
        prover,
      ).toEqual([...Array(4).fill('rejected'), ...Array(3).fill('accepted')]);
    console.log('unserved list vs lazy share:\n' + rows.join('\n'));
  });

  it('pays validators for agreeing with it: honest ones lose their `unavailable` credit when the lazy majority accepts', () => {
    for (const r of runs) {
      if (r.k === 0 || r.k === 6) continue;
      for (const e of r.report.epochs) {
        const p = proverIn(r, e);
        const validators = validatorsOf(e, p.name);
        const lazy = validators.find(isLazy)!.validatorReward;
        const honest = validators.find((h) => h.kind === 'honest')!.validatorReward;
        const where = `${r.prover} prover, k ${r.k} seed ${r.seed} epoch ${e.epoch}`;
        if (p.flags.includes('accepted')) expect(lazy, where).toBeGreaterThan(honest);
        else expect(lazy, where).toBeLessThan(honest); // rejected: `unavailable` agreed, the lazy `ok` did not
      }
    }
    const at = (prover: Prover, k: number) => {
      const r = runs.find((x) => x.prover === prover && x.k === k && x.seed === 1)!;
      const e = r.report.epochs[0]!;
      const v = validatorsOf(e, proverIn(r, e).name);
      return {
        lazy: v.find(isLazy)!.validatorReward,
        honest: v.find((h) => h.kind === 'honest')!.validatorReward,
        prover: proverIn(r, e).reward,
        proverForfeited: proverIn(r, e).forfeited,
      };
    };
    console.log(
      'epoch 0, seed 1, validator reward lazy / honest, prover reward:',
      JSON.stringify({ honestK2: at('honest', 2), honestK4: at('honest', 4), forgedK2: at('forged', 2), forgedK4: at('forged', 4) }),
    );
  });
});

describe('the same through the real engine and signatures (CPU reference, BLS lottery)', () => {
  it('a lazy majority (3 of 5 validators) accepts a forged proof; honest validators check it, the lazy ones do not', async () => {
    const r = await simulate({
      honest: 2,
      cheaters: ['forged', 'lazy-validator', 'lazy-validator', 'lazy-validator'],
      epochs: 1,
      seed: 7,
      noncesPerSprint: 24,
      verifier: walletVerifier(),
    });
    const e = r.epochs[0]!;
    expect(e.agreed && e.certified).toBe(true);
    const forged = e.hosts.find((h) => h.kind === 'forged')!;
    expect(forged.claimed).toBeGreaterThan(0);
    expect(forged.evaluated).toBe(0);
    expect(forged.flags).toEqual(['accepted']);
    expect(forged.weight).toBe(forged.claimed);
    for (const h of e.hosts.filter(isLazy)) expect(h.validationEvaluated).toBe(0);
    for (const h of e.hosts.filter((h) => h.kind === 'honest')) {
      expect(h.flags).toEqual(['accepted']);
      expect(h.validationEvaluated).toBeGreaterThanOrEqual(forged.claimed);
      expect(h.validatorReward).toBeLessThan(e.hosts.find(isLazy)!.validatorReward);
    }
  }, 60_000);
});
