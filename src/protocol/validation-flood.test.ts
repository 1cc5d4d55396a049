/**
 * A flood of made-up proofs from fresh keys must not take the validators' time from the hosts that
 * earned reputation (docs/protocol.md §8, "Stopping early" and "Validation order"). Keys are free, a
 * made-up proof of m = 130 claims costs its sender one signature, and every validator checks a new
 * key. Before, each such proof cost every validator all 130 re-runs, and proofs were judged in key
 * order, so keys ground to sort first took the whole window: the honest hosts were cut off,
 * `unvalidated`, and lost their weight. Now a validator stops at k(m) = 2 mismatches, and judges by
 * reputation, then weight, then an order drawn from its own lottery value (which nobody can grind
 * keys against).
 */
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { encodeNonceList, nonceListRoot } from './claims.ts';
import { schedule } from './genesis.ts';
import { Flag, hostOf } from './ledger.ts';
import { decodeMessage, signMessage, Verdict, type Message } from './messages.ts';
import { modelledCrypto, OracleEngine } from './sim/modelled.ts';
import { createSimulation, modelledIdentity } from './sim/simulate.ts';
import { bucketHashes, decodeRequest, encodeList, encodeSummary, NOT_FOUND } from './sync.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { getConfig } from '../sprint/config.ts';
import { VALIDATION_SAMPLE } from '../sprint/validate.ts';

const FLOOD_EPOCH = 2;

/** Four honest hosts with reputation; in epoch 2, `sybils` fresh keys ground to sort before them publish made-up proofs of m claims and serve their lists. */
async function flood(sybils: number, evaluateMsPerNonce: number) {
  const crypto = modelledCrypto();
  const lines: string[] = [];
  const sim = await createSimulation({ honest: 4, epochs: 4, seed: 61, modelled: { crypto }, evaluateMsPerNonce, log: (l) => lines.push(l) });
  const g = sim.genesis;
  const honestKeys = sim.hosts.map((h) => h.key);
  const ids: ReturnType<typeof modelledIdentity>[] = [];
  for (let i = 1000; ids.length < sybils; i++) {
    const id = modelledIdentity(i);
    if (honestKeys.every((k) => hex(id.publicKey) < k)) ids.push(id);
  }
  await sim.runEpoch(0);
  await sim.runEpoch(1);
  for (const h of sim.hosts) expect(hostOf(h.host.view(1)!.state, h.publicKey)!.reputation).toBeGreaterThan(0);
  const s = schedule(g, FLOOD_EPOCH);
  // The flood goes out once the honest proofs are in, with their seed.
  await sim.loop.runUntil(s.sprintEnd + 150);
  const seed = sim.hosts[0]!.host.pool.proofs(FLOOD_EPOCH)[0]!.seed;
  const r = rTarget(getConfig(g.config), 1 / g.hitRateDenominator);
  const messages: Message[] = [];
  for (const id of ids) {
    // m nonces the oracle says are not appropriate, each claimed just under the target.
    const claims = [];
    for (let nonce = 0; claims.length < VALIDATION_SAMPLE; nonce++)
      if (!(OracleEngine.distance(seed, id.publicKey, nonce, 1 / g.hitRateDenominator, r) < r)) claims.push({ nonce, distance: 0.95 * r });
    const list = encodeNonceList(claims);
    const root = nonceListRoot(list);
    // Each fresh key is online and serves its list, so every validator has the re-runs to do.
    sim.net.join(hex(id.publicKey)).handle(async (req) => {
      const q = decodeRequest(req);
      if (q.op === 'list') return hex(q.root) === hex(root) ? encodeList(list) : NOT_FOUND;
      if (q.op === 'summary') return encodeSummary(0, bucketHashes([]));
      return NOT_FOUND;
    });
    const unsigned = {
      kind: 'proof' as const,
      epoch: FLOOD_EPOCH,
      sender: id.publicKey,
      timestampMs: sim.loop.now(),
      seed,
      count: claims.length,
      root,
      noncesTried: 64,
    };
    messages.push(decodeMessage((await signMessage(crypto.signer(id.publicKey), g, unsigned)).bytes));
  }
  const before = sim.hosts.map((h) => h.engine.work.validated);
  for (const h of sim.hosts) for (const m of messages) expect(h.host.receive(m.bytes, 'gossip')).not.toBeNull();
  const report = await sim.runEpoch(FLOOD_EPOCH);
  expect(report.agreed && report.certified).toBe(true);
  const state = sim.hosts[0]!.host.view(FLOOD_EPOCH)!.state;
  const reRuns = sim.hosts.map((h, i) => h.engine.work.validated - before[i]!);
  const flags = (publicKey: Uint8Array) => hostOf(state, publicKey)?.flags ?? 0;
  const cutOff = lines.some((l) => l.includes(`epoch ${FLOOD_EPOCH}: validation cut off`));
  // Every honest host was still validated and accepted (before: cut off, `unvalidated`).
  for (const h of sim.hosts) {
    expect(flags(h.publicKey) & Flag.unvalidated, `${h.name} unvalidated`).toBe(0);
    expect(flags(h.publicKey) & Flag.accepted, `${h.name} accepted`).toBe(Flag.accepted);
    expect(hostOf(state, h.publicKey)!.weight).toBeGreaterThan(0);
  }
  for (const id of ids) expect(flags(id.publicKey) & Flag.accepted).toBe(0);
  const fraud = ids.filter((id) => (flags(id.publicKey) & Flag.fraud) !== 0).length;
  const validations = sim.hosts[0]!.host.pool.messages(FLOOD_EPOCH).filter((m) => m.kind === 'validation');
  const honestClaims = sim.hosts.reduce((n, h) => n + hostOf(state, h.publicKey)!.claimed, 0);
  return { cutOff, fraud, reRuns, honestClaims, validations };
}

describe('a flood of made-up proofs from fresh keys', () => {
  it('costs each validator k(m) = 2 re-runs per made-up proof: all are judged fraud and the honest hosts accepted', async () => {
    // 5 ms per re-run: an honest proof (about 10 claims) costs about 50 ms, a made-up one 650 ms in
    // full, and the validation window leaves about 1.4 s of re-runs.
    const f = await flood(8, 5);
    expect(f.cutOff).toBe(false); // before stopping early: cut off after 2 proofs, the honest ones left out
    expect(f.fraud).toBe(8);
    // Each validator re-ran the other three honest lists in full and 2 nonces per made-up list (in full: 8 × 130).
    for (const n of f.reRuns) expect(n).toBeLessThanOrEqual(f.honestClaims + 2 * 8);
    // The entries that stopped early say so (checked 2 of m), and the ledger counted them: fraud.
    const entries = f.validations
      .flatMap((v) => (v.kind === 'validation' ? v.entries : []))
      .filter((e) => e.checked < VALIDATION_SAMPLE && e.verdict === Verdict.mismatch);
    expect(entries.length).toBe(4 * 8);
    for (const e of entries) expect([e.checked, e.mismatches]).toEqual([2, 2]);
  }, 120_000);

  it('that outlasts the window still cannot cut off the validation of hosts with reputation', async () => {
    // 15 ms per re-run: 60 made-up proofs cost 1.8 s even at 2 re-runs each.
    const f = await flood(60, 15);
    expect(f.cutOff).toBe(true); // the validators did run out of time…
    expect(f.fraud).toBeGreaterThan(0); // …after the honest proofs, on some of the made-up ones
    expect(f.fraud).toBeLessThan(60);
  }, 120_000);
});
