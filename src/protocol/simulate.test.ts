import { describe, expect, it } from 'vitest';
import { walletVerifier } from './crypto.ts';
import { CONFIGS } from '../sprint/config.ts';
import { VALIDATION_TOLERANCE } from '../sprint/validate.ts';
import { HonestEngine, ModelCache } from './sim/engines.ts';
import { simulate, type HostEpochReport, type SimReport } from './sim/simulate.ts';

const verifier = walletVerifier(); // shared by every run in this file: results are pure functions of the bytes

const rows = (r: SimReport, name: string): HostEpochReport[] => r.epochs.map((e) => e.hosts.find((h) => h.name === name)!);

describe('simulation: 5 honest hosts and every cheater over 3 epochs', () => {
  let report: SimReport;

  it('runs, and every host derives the same state hash and holds the certificate in every epoch', async () => {
    report = await simulate({ honest: 5, cheaters: ['forged', 'fewer-layers', 'copier', 'withholder', 'screening'], epochs: 3, seed: 1, verifier });
    for (const e of report.epochs) {
      expect(e.distinctHashes).toBe(1);
      expect(e.agreed).toBe(true);
      expect(e.certified).toBe(true);
      expect(e.hosts.every((h) => h.stateHash === e.hosts[0]!.stateHash)).toBe(true);
    }
  }, 60_000);

  it('accepts every honest host and never flags one', () => {
    for (let i = 0; i < 5; i++) {
      for (const h of rows(report, `honest-${i}`)) {
        expect(h.flags).toEqual(['accepted']);
        expect(h.weight).toBe(h.accepted);
        expect(h.accepted).toBe(h.claimed);
        expect(h.cuEpoch).toBeCloseTo((h.accepted * 8 * 851_968) / 1e15, 20);
      }
      expect(rows(report, `honest-${i}`).map((h) => h.reputation)).toEqual([1, 2, 3]);
    }
  });

  it('catches forged, fewer-layers and copier: no weight, no reward, fraud flagged, pending rewards forfeited', () => {
    for (const name of ['forged', 'fewer-layers', 'copier']) {
      for (const h of rows(report, name)) {
        expect(h.weight).toBe(0);
        expect(h.reward).toBe(0);
        expect(h.vested).toBe(0);
        if (h.claimed >= 2) expect(h.fraud).toBe(true);
        expect(h.reputation).toBe(0);
      }
      expect(rows(report, name).some((h) => h.fraud)).toBe(true);
    }
    // fewer-layers and forged really claimed work they did not do.
    expect(rows(report, 'forged').every((h) => h.evaluated === 0 && h.claimed > 0)).toBe(true);
    expect(rows(report, 'copier').every((h) => h.evaluated === 0)).toBe(true);
  });

  it('penalises the withholder: every epoch in which it committed with weight, its next weight is forfeited', () => {
    const w = rows(report, 'withholder');
    expect(w[0]!.flags).toContain('withheld'); // open join: everyone commits in epoch 0
    for (const h of w) {
      if (h.votingWeight > 0) {
        expect(h.flags).toContain('withheld');
        expect(h.weight).toBe(0);
      }
    }
    // It is not a fraud: its nonces are real, and it keeps its reputation.
    expect(w.every((h) => !h.fraud)).toBe(true);
  });

  it('gives the screening host no significant gain in weight per evaluated nonce over honest hosts', () => {
    const pool = (names: string[]) => {
      let hits = 0,
        evaluated = 0;
      for (const n of names)
        for (const h of rows(report, n)) {
          hits += h.accepted;
          evaluated += h.evaluated;
        }
      return { hits, evaluated, rate: hits / evaluated };
    };
    const s = pool(['screening']);
    const honest = pool([0, 1, 2, 3, 4].map((i) => `honest-${i}`));
    expect(s.evaluated).toBe(3 * 64);
    // One-sided test of "gain > 5%": the screening rate may not exceed 1.05 × honest by more than 2.58 standard errors.
    const se = Math.sqrt((s.rate * (1 - s.rate)) / s.evaluated + (honest.rate * (1 - honest.rate)) / honest.evaluated);
    expect(s.rate).toBeLessThanOrEqual(1.05 * honest.rate + 2.58 * se);
  });

  it('counts network traffic per host', () => {
    for (const n of report.network) {
      expect(n.gossipSentMessages).toBeGreaterThan(0);
      expect(n.gossipReceivedBytes).toBeGreaterThan(n.gossipSentBytes);
    }
  });
});

describe('the honest engine', () => {
  // The simulations run it on the CPU backend; here it meets the float64 reference once.
  it('finds and validates the same nonces on the CPU backend as on the reference, distances within the tolerance', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
    const publicKey = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const req = { config: CONFIGS.tiny, seed, publicKey, hitRate: 1 / 8, startNonce: 0, found: [], deadline: 0 };
    const cpu = await new HonestEngine(new ModelCache('cpu'), 400).search(req);
    const ref = await new HonestEngine(new ModelCache('reference'), 400).search(req);
    expect(cpu.found.map((f) => f.nonce)).toEqual(ref.found.map((f) => f.nonce));
    expect(cpu.found.length).toBeGreaterThan(20);
    cpu.found.forEach((f, i) => expect(Math.abs(f.distance - ref.found[i]!.distance)).toBeLessThan(VALIDATION_TOLERANCE));
    const nonces = [3, 99, 1_000_003];
    const a = await new HonestEngine(new ModelCache('cpu'), 0).evaluate({ config: CONFIGS.tiny, seed, publicKey, nonces });
    const b = await new HonestEngine(new ModelCache('reference'), 0).evaluate({ config: CONFIGS.tiny, seed, publicKey, nonces });
    a.forEach((d, i) => expect(Math.abs(d - b[i]!)).toBeLessThan(VALIDATION_TOLERANCE));
  });
});

describe('no honest host is flagged across 20 seeds (4 honest, forged, copier, 2 epochs)', () => {
  for (const [first, last] of [
    [100, 104],
    [105, 109],
    [110, 114],
    [115, 119],
  ] as const) {
    it(`seeds ${first}..${last}`, async () => {
      for (let seed = first; seed <= last; seed++) {
        const r = await simulate({ honest: 4, cheaters: ['forged', 'copier'], epochs: 2, seed, noncesPerSprint: 24, verifier });
        for (const e of r.epochs) {
          expect(e.agreed, `seed ${seed} epoch ${e.epoch}`).toBe(true);
          expect(e.certified, `seed ${seed} epoch ${e.epoch}`).toBe(true);
          for (const h of e.hosts.filter((x) => x.kind === 'honest')) {
            expect(h.fraud, `seed ${seed} ${h.name}`).toBe(false);
            expect(
              h.flags.filter((f) => f !== 'accepted'),
              `seed ${seed} ${h.name}`,
            ).toEqual([]);
          }
          expect(e.hosts.find((x) => x.kind === 'forged')!.weight).toBe(0);
          expect(e.hosts.find((x) => x.kind === 'copier')!.weight).toBe(0);
        }
      }
    }, 120_000);
  }
});
