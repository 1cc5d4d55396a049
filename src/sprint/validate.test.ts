import { describe, expect, it } from 'vitest';
import { CONFIGS } from './config.ts';
import { rTarget } from './difficulty.ts';
import { evaluateNonces, ReferenceModel } from './reference.ts';
import { binomialUpperTail } from './difficulty.ts';
import { SprintInputError } from './errors.ts';
import { at } from './indexing.ts';
import {
  decide,
  detectionProbability,
  FORGED_FRACTION,
  judgeNonce,
  MAX_HONEST_REJECTION,
  MIN_FORGERY_DETECTION,
  mismatchLimit,
  P_HONEST_MISMATCH,
  validateNonces,
  VALIDATION_SAMPLE,
  VALIDATION_TOLERANCE,
} from './validate.ts';

const c = CONFIGS.tiny;
const seed = new Uint8Array(32).fill(0x5a);
const key = new Uint8Array(32).fill(0x17);
const model = new ReferenceModel(c, seed, true);
const r = rTarget(c);

/** The first `count` appropriate nonces of this host, found by honest search. */
function honestClaims(count: number) {
  const found: Array<{ nonce: number; distance: number }> = [];
  for (let start = 0; found.length < count; start += 2000) {
    const batch = Array.from({ length: 2000 }, (_, i) => start + i);
    for (const e of evaluateNonces(c, seed, key, batch, model)) {
      if (e.appropriate && found.length < count) found.push({ nonce: e.nonce, distance: e.distance });
    }
  }
  return found;
}

describe('validation rule (spec §9)', () => {
  const honest = honestClaims(20);

  it('an honest re-run passes, even with numeric noise inside the tolerance', () => {
    const noisy = honest.map((h, i) => ({ ...h, distance: h.distance + (i % 2 ? 1 : -1) * VALIDATION_TOLERANCE * 0.5 }));
    const result = validateNonces(c, seed, key, noisy, { model });
    expect(result.mismatches).toBe(0);
    expect(result.accepted).toBe(true);
    expect(result.verdicts.every((v) => v.verdict === 'ok')).toBe(true);
  });

  it('a list with forged nonces is rejected', () => {
    // Forgery: claim arbitrary nonces with a distance that would be appropriate.
    const forged = honest.slice(0, 12).concat(Array.from({ length: 8 }, (_, i) => ({ nonce: 10_000_000 + i, distance: r - 0.01 })));
    const result = validateNonces(c, seed, key, forged, { model });
    expect(result.verdicts.slice(12).every((v) => v.verdict !== 'ok')).toBe(true);
    expect(result.accepted).toBe(false);
  });

  it('corrupted distances are detected', () => {
    const corrupted = honest.map((h, i) => (i < 5 ? { ...h, distance: h.distance - 0.02 } : h));
    const result = validateNonces(c, seed, key, corrupted, { model });
    expect(result.verdicts.filter((v) => v.verdict === 'distance-mismatch').map((v) => v.nonce)).toEqual(honest.slice(0, 5).map((h) => h.nonce));
    expect(result.accepted).toBe(false);
  });

  it('a nonce whose true distance is above r_target is not appropriate, whatever the claim', () => {
    expect(judgeNonce(r + 0.1, r + 0.1, r, VALIDATION_TOLERANCE)).toBe('not-appropriate');
    const t = VALIDATION_TOLERANCE;
    // Inside the band: an honest GPU just below r_target, the reference just above.
    expect(judgeNonce(r - 0.4 * t, r + 0.4 * t, r, t)).toBe('ok');
    // A near miss beyond the band is refused even when the claim copies the true distance.
    expect(judgeNonce(r + 2 * t, r + 2 * t, r, t)).toBe('not-appropriate');
  });

  it('m and k: a 5% forgery is caught with probability ≥ 0.99, an honest host rejected with ≤ 10^-4', () => {
    const m = VALIDATION_SAMPLE;
    const k = mismatchLimit(m);
    expect(binomialUpperTail(k, m, P_HONEST_MISMATCH)).toBeLessThanOrEqual(MAX_HONEST_REJECTION);
    expect(binomialUpperTail(k, m, FORGED_FRACTION)).toBeGreaterThanOrEqual(MIN_FORGERY_DETECTION);
    // m is the smallest sample that does both.
    for (let smaller = 1; smaller < m; smaller++) expect(detectionProbability(smaller)).toBeLessThan(MIN_FORGERY_DETECTION);
    expect(m).toBe(130);
    expect(k).toBe(2);
  });

  it('the decision: one honest-looking mismatch passes, the limit rejects', () => {
    expect(decide(1, VALIDATION_SAMPLE).accepted).toBe(true);
    expect(decide(2, VALIDATION_SAMPLE).accepted).toBe(false);
    expect(decide(0, 1).accepted).toBe(true);
    // One checked nonce: P[X ≥ 1] = p_h exactly, so a single mismatch rejects.
    expect(mismatchLimit(1)).toBe(1);
    expect(decide(1, 1).accepted).toBe(false);
  });

  it('a claim that repeats one honest nonce is rejected as a whole, with a typed error', () => {
    const repeated = Array.from({ length: 20 }, () => at(honest, 0, 'honest claim'));
    let error: unknown;
    try {
      validateNonces(c, seed, key, repeated, { model });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SprintInputError);
    expect((error as SprintInputError).code).toBe('DUPLICATE_NONCE');
  });

  it('a nonce both off in distance and not appropriate counts as one mismatch', () => {
    const forged = [{ nonce: 10_000_000, distance: r - 0.01 }];
    const result = validateNonces(c, seed, key, forged, { model });
    expect(result.verdicts).toHaveLength(1);
    expect(result.mismatches).toBe(1);
  });

  it('rejects malformed claim lists with a typed error', () => {
    expect(() => validateNonces(c, seed, key, [], { model })).toThrow(/empty/);
    expect(() => validateNonces(c, seed, key, [{ nonce: 1, distance: NaN }], { model })).toThrow(/finite/);
  });
});
