import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { makeGenesis, schedule } from './genesis.ts';
import { decodeMessage, signMessage, type ProofMessage } from './messages.ts';
import { fetchInOrder, proofsToCheck, type CheckContext } from './validator.ts';
import { modelledCrypto } from './sim/modelled.ts';
import { modelledIdentity } from './sim/simulate.ts';

const crypto = modelledCrypto();
const g = makeGenesis({ networkId: 'validator-test', startMs: 1_000_000, skewMs: 200 });
const s0 = schedule(g, 0);
const seed = new Uint8Array(32).fill(9);
const ids = Array.from({ length: 6 }, (_, i) => modelledIdentity(100 + i));

async function proof(i: number, o: { count?: number; seed?: Uint8Array; at?: number; root?: number } = {}): Promise<ProofMessage> {
  const id = ids[i]!;
  const unsigned = {
    kind: 'proof' as const,
    epoch: 0,
    sender: id.publicKey,
    timestampMs: o.at ?? s0.sprintEnd + 10,
    seed: o.seed ?? seed,
    count: o.count ?? 5,
    root: new Uint8Array(32).fill(o.root ?? i),
    noncesTried: 64,
  };
  return decodeMessage((await signMessage(crypto.signer(id.publicKey), g, unsigned)).bytes) as ProofMessage;
}

const context = (late: Set<string> = new Set()): CheckContext => ({
  genesis: g,
  epoch: 0,
  seed,
  lotteryValue: new Uint8Array(32).fill(3),
  // Five validators besides a host: every host is selected at any reputation (the floor is 100%).
  weights: new Map(ids.map((id) => [hex(id.publicKey), 1])),
  prev: undefined,
  self: hex(ids[0]!.publicKey),
  arrivedBy: s0.proofEnd + g.skewMs,
  arrivedAt: (id) => (late.has(id) ? s0.proofEnd + g.skewMs + 1 : s0.sprintEnd + 20),
});

describe('proofsToCheck', () => {
  it('keeps one canonical, on-time proof per sender for the seed, never our own, and none of an equivocator', async () => {
    const own = await proof(0);
    const good = await proof(1);
    const [copyA, copyB] = [await proof(2), await proof(2, { at: s0.sprintEnd + 11 })]; // one body, two ids
    const [eqA, eqB] = [await proof(3), await proof(3, { count: 6 })]; // two bodies: equivocation
    const wrongSeed = await proof(4, { seed: new Uint8Array(32).fill(1) });
    const late = await proof(5);
    const picked = proofsToCheck(context(new Set([late.id])), [own, good, copyA, copyB, eqA, eqB, wrongSeed, late]);
    const smaller = copyA.id < copyB.id ? copyA : copyB;
    expect(new Set(picked.map((p) => p.id))).toEqual(new Set([good.id, smaller.id]));
  });

  it('orders by the validator’s lottery, the same whatever order the pool gives', async () => {
    const proofs = await Promise.all([1, 2, 3, 4, 5].map((i) => proof(i)));
    const a = proofsToCheck(context(), proofs).map((p) => p.id);
    expect(proofsToCheck(context(), [...proofs].reverse()).map((p) => p.id)).toEqual(a);
    const other = proofsToCheck({ ...context(), lotteryValue: new Uint8Array(32).fill(4) }, proofs).map((p) => p.id);
    expect(new Set(other)).toEqual(new Set(a));
  });
});

describe('fetchInOrder', () => {
  it('fetches at most VALIDATION_FETCHES lists at once, in order, and skips what comes after the deadline', async () => {
    const proofs = await Promise.all(Array.from({ length: 20 }, (_, i) => proof(1 + (i % 5), { root: i })));
    let now = 0;
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const got = await fetchInOrder(proofs, {
      fetchBy: 50,
      now: () => now,
      held: (p) => p.root[0] === 19, // the last one's list is already here
      fetch: async (p) => {
        started.push(p.root[0]!);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        now += 5; // each fetch takes 5 units of the clock
        inFlight--;
        if (p.root[0] === 1) throw new Error('bad list');
        return [];
      },
    });
    expect(most).toBe(8);
    expect(started).toEqual([...started].sort((x, y) => x - y)); // started in order
    expect(got[1]!.err).toBeInstanceOf(Error);
    expect(got[0]!.claims).toEqual([]);
    const skipped = got.flatMap((g, i) => (g.skipped ? [i] : []));
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped).not.toContain(19); // held: judged whatever the clock
    expect(got[19]!.claims).toEqual([]);
  });
});
