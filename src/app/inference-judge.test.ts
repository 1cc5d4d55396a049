/**
 * The shared inference judge on real split proofs: two sessions on the 8-layer test model, one
 * through an honest volunteer and one through a volunteer whose engine adds 0.25 to a logit at
 * every decode step (its receipt matches its lie, so only the re-run can tell). Their proofs are in
 * a real ProtocolHost's pool; the judge fetches evidence over in-process sealed links, as the
 * validator's key.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceKvCache } from '../llm/reference.ts';
import { hex } from '../protocol/bytes.ts';
import { walletSigner, walletVerifier, type Signer } from '../protocol/crypto.ts';
import { genesisHash, schedule, type Genesis } from '../protocol/genesis.ts';
import { ProtocolHost } from '../protocol/host.ts';
import { requiredChecks, deriveInference } from '../protocol/inference.ts';
import { signInference } from '../protocol/inference-check.ts';
import type { InferenceMessage, InferenceVerdictMessage } from '../protocol/messages.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import type { SplitModel } from '../split/engines.ts';
import { seedSigner } from '../split/local.ts';
import { decodeProof, encodeProof, encodeReceipt, proofId, receiptDomain, signProof } from '../split/proof.ts';
import { lyingModel, testRig, type TestRig } from '../split/test-support.ts';
import { MemoryLink, type SplitTransport } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { InferenceJudge, weightsNow, type InferenceJudgeOptions } from './inference-judge.ts';
import { openEpochGenesis } from './split-test-support.ts';

const NET = 'sprintnet-judge-test';
const seed = (n: number) => new Uint8Array(32).fill(n);
const keyOf = (n: number) => ed25519.getPublicKey(seed(n));
const HONEST = 80;
const LIAR = 83;
const USER = 81;
const VALIDATOR = 82;
const UNWEIGHTED = 84;
const NEWCOMER = 85;

let rig: TestRig;
let genesis: Genesis;
const volunteers = new Map<number, SplitVolunteer<ReferenceKvCache>>();
let honestProof: Uint8Array;
let liarProof: Uint8Array;
const messages: InferenceMessage[] = [];
let allowEvidence = true;

function signerOf(n: number, ready?: Signer['ready']): Signer {
  const id = simIdentity(0, NET); // any BLS binding: inference messages use only the Ed25519 key
  const s = walletSigner({ ed25519Seed: seed(n), publicKey: keyOf(n), blsSecretKey: id.bls, keyBinding: id.binding });
  return ready ? { ...s, ready } : s;
}

/** Adds 0.25 to logit 3 at every forward after the prompt's. */
const liar = () =>
  lyingModel(rig, (out, n) => {
    if (n > 1 && out.logits) out.logits[3] = out.logits[3]! + 0.25;
  });

async function session(n: number, model: SplitModel<ReferenceKvCache>, prompt: number): Promise<Uint8Array> {
  const v = new SplitVolunteer<ReferenceKvCache>({
    model,
    lowestK: 1,
    modelHash: rig.hash,
    normWeight: rig.norm,
    signer: seedSigner(seed(n)),
    networkId: NET,
    genesis: genesisHash(genesis),
    mayFetchEvidence: () => allowEvidence,
  });
  volunteers.set(n, v);
  const out = await splitGenerate(rig.prompts[prompt]!, {
    model: rig.model,
    k: 3,
    privacy: 'allow-split',
    modelHash: rig.hash,
    volunteers: [new MemoryLink(v, seed(n), seed(USER))],
    thresholds: rig.calibration,
    signer: seedSigner(seed(USER)),
    networkId: NET,
    // ≤ 8 decode steps: every one is in each validator's sample, so the liar is caught for sure.
    maxTokens: 6,
    eosTokenIds: [],
  });
  return encodeProof(out.segments[0]!.proof!);
}

function freshHost(now: () => number = Date.now, pool: readonly InferenceMessage[] = messages): ProtocolHost {
  const host = new ProtocolHost({
    genesis,
    signer: signerOf(VALIDATOR),
    verifier: walletVerifier(),
    transport: { publish: async () => {}, subscribe: () => () => {}, handle: () => {}, request: async () => new Uint8Array(), peers: () => [] },
    store: new MemoryStore(),
    random: (b) => crypto.getRandomValues(new Uint8Array(b)),
    clock: { now, setTimer: () => () => {} },
    engine: { search: async () => ({ found: [], tried: 0, nextNonce: 0 }), evaluate: async () => [] },
  });
  for (const m of pool) expect(host.receive(m.bytes, 'gossip')).not.toBeNull();
  return host;
}

function judgeFor(host: ProtocolHost, n: number, extra: Partial<InferenceJudgeOptions> = {}) {
  const published: Uint8Array[] = [];
  const links: number[] = [];
  const held = { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm };
  const judge = new InferenceJudge({
    genesis,
    host,
    signer: signerOf(n),
    model: (h) => (hex(h) === hex(rig.hash) ? held : undefined),
    transport: (key): SplitTransport => {
      const v = [...volunteers].find(([k]) => hex(keyOf(k)) === hex(key))!;
      links.push(v[0]);
      return new MemoryLink(v[1], seed(v[0]), seed(n));
    },
    publish: async (_topic, bytes) => void published.push(bytes),
    now: Date.now,
    log: () => {},
    everyMs: 0,
    ...extra,
  });
  return { judge, published, links };
}

const idOf = (proof: Uint8Array) => hex(proofId(decodeProof(proof)));
const verdictsIn = (host: ProtocolHost) => host.pool.messages(0).filter((m): m is InferenceVerdictMessage => m.kind === 'inferenceVerdict');

beforeAll(async () => {
  rig = await testRig();
  genesis = openEpochGenesis(NET, [HONEST, VALIDATOR, LIAR].map(keyOf));
  honestProof = await session(HONEST, rig.model, 2);
  liarProof = await session(LIAR, liar(), 4);
  messages.push(await signInference(signerOf(HONEST), genesis, honestProof, Date.now()));
  messages.push(await signInference(signerOf(LIAR), genesis, liarProof, Date.now()));
}, 120_000);

describe('InferenceJudge', () => {
  it('signs "consistent" for the honest volunteer and "inconsistent" for the liar, as the validator, and the ledger credits only the first', async () => {
    const host = freshHost();
    const { judge, published } = judgeFor(host, VALIDATOR);
    await judge.tick();
    expect(judge.verdicts.get(idOf(honestProof))).toBe('consistent');
    expect(judge.verdicts.get(idOf(liarProof))).toBe('inconsistent');
    const verdicts = verdictsIn(host);
    expect(verdicts).toHaveLength(2);
    expect(published.map((b) => hex(b)).sort()).toEqual(verdicts.map((v) => hex(v.bytes)).sort());
    for (const v of verdicts) expect(hex(v.sender)).toBe(hex(keyOf(VALIDATOR)));
    const honest = verdicts.find((v) => hex(v.proofId) === idOf(honestProof))!;
    expect(honest).toMatchObject({ verdict: 0, checked: requiredChecks(decodeProof(honestProof)) });
    expect(verdicts.find((v) => hex(v.proofId) === idOf(liarProof))!.verdict).toBe(1);
    const snap = judge.snapshot.published;
    expect(snap.map((p) => [p.volunteer, p.verdict]).sort()).toEqual(
      [
        [hex(keyOf(HONEST)), 'consistent'],
        [hex(keyOf(LIAR)), 'inconsistent'],
      ].sort(),
    );
    expect(snap.find((p) => p.verdict === 'inconsistent')!.detail).toMatch(/logits differ/);
    const d = deriveInference(genesis, 0, messages, verdicts, weightsNow(genesis, host, Date.now()), walletVerifier());
    expect(Object.fromEntries(d.reports.map((r) => [r.volunteer, r.outcome]))).toEqual({ [hex(keyOf(HONEST))]: 'credited', [hex(keyOf(LIAR))]: 'rejected' });
    // A later round judges nothing twice.
    await judge.tick();
    expect(verdictsIn(host)).toHaveLength(2);
    // Once the pool forgets the epoch (KEEP_EPOCHS), so does the judge: a long-running host keeps no verdict map per proof ever seen.
    host.pool.prune(1);
    await judge.tick();
    expect(judge.verdicts.size).toBe(0);
  }, 60_000);

  it('a key without weight signs no verdict', async () => {
    const host = freshHost();
    const { judge, published, links } = judgeFor(host, UNWEIGHTED);
    await judge.tick();
    expect(judge.verdicts.size).toBe(0);
    expect(links).toEqual([]);
    expect(published).toEqual([]);
    expect(verdictsIn(host)).toEqual([]);
  });

  it('skips its own proofs: the honest volunteer as validator judges only the liar', async () => {
    const host = freshHost();
    const { judge, links } = judgeFor(host, HONEST);
    await judge.tick();
    expect([...judge.verdicts]).toEqual([[idOf(liarProof), 'inconsistent']]);
    expect(links).toEqual([LIAR]);
    expect(verdictsIn(host).map((v) => hex(v.sender))).toEqual([hex(keyOf(HONEST))]);
  }, 60_000);

  it('a locked signer: "unlock to judge" is shown while it waits, then the proof is missed, nothing fetched or signed', async () => {
    const host = freshHost();
    let release: (ok: boolean) => void = () => {};
    const asked: string[] = [];
    const { judge, links, published } = judgeFor(host, VALIDATOR, {
      signer: signerOf(VALIDATOR, (what) => {
        asked.push(what);
        return asked.length === 1 ? new Promise<boolean>((r) => (release = r)) : Promise.resolve(false);
      }),
      locked: () => true,
    });
    const round = judge.tick();
    for (const end = Date.now() + 10_000; asked.length === 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    expect(asked).toEqual(['inference verdict']);
    expect(judge.snapshot.waiting).toMatchObject({ until: expect.any(Number) });
    const waitingFor = judge.snapshot.waiting!.proofId;
    release(false);
    await round;
    expect(judge.snapshot.waiting).toBeNull();
    expect(asked).toEqual(['inference verdict', 'inference verdict']);
    expect(judge.snapshot.missed.map((m) => m.proofId)).toEqual([waitingFor, [idOf(honestProof), idOf(liarProof)].find((id) => id !== waitingFor)]);
    expect([...judge.verdicts.values()]).toEqual(['missed', 'missed']);
    expect(links).toEqual([]);
    expect(published).toEqual([]);
    expect(verdictsIn(host)).toEqual([]);
  });

  it('retries a proof whose evidence was refused, after retryMs and not before', async () => {
    let offset = 0;
    const host = freshHost(() => Date.now() + offset);
    allowEvidence = false;
    try {
      const only = (h: Uint8Array) => hex(h) === hex(rig.hash);
      const held = { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm };
      const { judge, links } = judgeFor(host, LIAR, { now: () => Date.now() + offset, retryMs: 5_000, model: (h) => (only(h) ? held : undefined) });
      await judge.tick();
      expect(links).toEqual([HONEST]);
      expect(judge.verdicts.size).toBe(0);
      expect(judge.snapshot.lastProblem).toMatch(/no evidence for proof .*validators only/);
      allowEvidence = true;
      await judge.tick(); // too early: not tried again
      expect(links).toEqual([HONEST]);
      offset = 5_001;
      await judge.tick();
      expect(links).toEqual([HONEST, HONEST]);
      expect([...judge.verdicts]).toEqual([[idOf(honestProof), 'consistent']]);
      expect(verdictsIn(host).map((v) => [hex(v.sender), v.verdict])).toEqual([[hex(keyOf(LIAR)), 0]]);
    } finally {
      allowEvidence = true;
    }
  }, 60_000);
});

/**
 * A copy of a real proof under fresh keys: the volunteer signs the receipt with a new user key and
 * session id, the user signs the proof. It passes every check that needs no evidence (both
 * signatures, the genesis, the window, checkProof's numbers), so a judge holding the model must ask
 * its volunteer for evidence. Two signatures: what a burst of made-up proofs costs its sender.
 */
async function madeUp(real: Uint8Array, volunteer: number, user: number, session: number): Promise<InferenceMessage> {
  const p = decodeProof(real);
  const sessionId = new Uint8Array(p.receipt.sessionId.length).fill(session);
  const receiptBytes = encodeReceipt({ ...p.receipt, user: keyOf(user), volunteer: keyOf(volunteer), sessionId });
  const receiptSignature = await seedSigner(seed(volunteer)).sign(receiptDomain(NET), receiptBytes);
  const proof = await signProof(seedSigner(seed(user)), NET, receiptBytes, receiptSignature, p.timestampMs);
  return signInference(signerOf(volunteer), genesis, encodeProof(proof), Date.now());
}

describe('InferenceJudge against a burst of made-up proofs (judge-order.ts)', () => {
  // Four fresh volunteer keys, four proofs each, published before two honest ones: a weighted
  // volunteer's and a newcomer's (no weight, no credit yet). The fresh keys never answer for
  // evidence: each request costs the judge the transport's timeout (30 s, nodeVolunteerLink), on a
  // clock the test moves.
  const FLOOD_KEYS = [90, 91, 92, 93];
  const PER_KEY = 4;
  const TIMEOUT_MS = 30_000;

  it('judges the honest proofs inside the validation window, where pool order let the burst hold the judge past it', async () => {
    const newcomerProof = await session(NEWCOMER, rig.model, 3);
    const flood: InferenceMessage[] = [];
    for (const [i, v] of FLOOD_KEYS.entries()) for (let j = 0; j < PER_KEY; j++) flood.push(await madeUp(honestProof, v, 100 + i, j + 1));
    const honest = [messages[0]!, await signInference(signerOf(NEWCOMER), genesis, newcomerProof, Date.now())];
    const validationEnd = schedule(genesis, 0).validationEnd;

    const run = async (floodDefence: boolean) => {
      let now = Date.now();
      const host = freshHost(() => now, [...flood, ...honest]);
      const floodLinks: number[] = [];
      const { judge } = judgeFor(host, VALIDATOR, {
        floodDefence,
        now: () => now,
        transport: (key): SplitTransport => {
          const n = [HONEST, NEWCOMER, ...FLOOD_KEYS].find((k) => hex(keyOf(k)) === hex(key))!;
          if (n === HONEST || n === NEWCOMER) return new MemoryLink(volunteers.get(n)!, seed(n), seed(VALIDATOR));
          return {
            volunteerKey: key,
            label: `fresh key ${n}`,
            call: async () => {
              floodLinks.push(n);
              now += TIMEOUT_MS;
              throw new Error('timed out');
            },
          };
        },
      });
      const started = now;
      while (now <= validationEnd) {
        await judge.tick();
        now += 1_000;
      }
      const judgedAt = (proof: Uint8Array) => judge.snapshot.published.find((p) => p.proofId === idOf(proof))?.at;
      return { judge, floodLinks, started, weighted: judgedAt(honestProof), newcomer: judgedAt(newcomerProof) };
    };

    // Before: pool order, a retry per proof. The burst came first and every request timed out:
    // neither honest proof was judged before the window closed (both unvalidated: no credit).
    const before = await run(false);
    expect(before.weighted).toBeUndefined();
    expect(before.newcomer).toBeUndefined();
    expect(before.floodLinks.length).toBeGreaterThanOrEqual(Math.floor((validationEnd - before.started) / TIMEOUT_MS));

    // After: the weighted volunteer first, before any request to a fresh key; the newcomer after at
    // most one timeout per fresh key (a key that failed waits behind every key that has not);
    // each fresh key asked again only after a doubling wait.
    const after = await run(true);
    expect(after.judge.verdicts.get(idOf(honestProof))).toBe('consistent');
    expect(after.judge.verdicts.get(idOf(newcomerProof))).toBe('consistent');
    expect(after.weighted! - after.started).toBeLessThan(TIMEOUT_MS);
    expect(after.newcomer! - after.started).toBeLessThanOrEqual(FLOOD_KEYS.length * TIMEOUT_MS + 1_000);
    expect(after.newcomer).toBeLessThanOrEqual(validationEnd);
    const perKey = FLOOD_KEYS.map((k) => after.floodLinks.filter((n) => n === k).length);
    // Waits of 10, 20, 40, 80, 160 s after each timeout: at most 6 requests per key in a 456 s window, against one per 30 s before.
    for (const n of perKey) expect(n).toBeLessThanOrEqual(6);
    console.log(
      `judge flood: ${flood.length} made-up proofs from ${FLOOD_KEYS.length} fresh keys, ${TIMEOUT_MS / 1000} s per unanswered request; ` +
        `pool order: ${before.floodLinks.length} requests to them, honest proofs judged: none before the window closed; ` +
        `ranked: ${after.floodLinks.length} requests (${perKey.join('/')} per key), weighted volunteer judged after ${((after.weighted! - after.started) / 1000).toFixed(0)} s, ` +
        `newcomer after ${((after.newcomer! - after.started) / 1000).toFixed(0)} s (window ${((validationEnd - after.started) / 1000).toFixed(0)} s)`,
    );
  }, 120_000);
});
