/**
 * The browser runtime without a browser: a fake engine Worker client that "finds" every nonce
 * divisible by 7, a memory store shared across a simulated reload, no network (one peer alone
 * runs the schedule, commits, searches, proves and certifies its own epoch), and a wallet that
 * can be locked. Real time on a genesis of a few seconds.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { GpuError } from '../gpu/errors.ts';
import { hex } from '../protocol/bytes.ts';
import { walletSigner } from '../protocol/crypto.ts';
import { signInference } from '../protocol/inference-check.ts';
import { seedSigner } from '../split/local.ts';
import { encodeProof } from '../split/proof.ts';
import { testRig } from '../split/test-support.ts';
import { MemoryLink } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import type { WorkerSprintOptions, WorkerSprintProgress } from '../gpu/engine-client.ts';
import { genesisHash, makeGenesis, schedule, type Genesis } from '../protocol/genesis.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { BrowserRuntime, type BrowserSnapshot, type EngineClientLike, type WalletKeys } from './browser-runtime.ts';
import { openEpochGenesis } from './split-test-support.ts';

const NET = 'sprintnet-local';
const STEP = 7;
const PASS = 32;

/** Epoch 0 starts 1.5 s from now: the runtime must be up (store, key binding) in time to commit (open join). */
function genesis(sprintMs: number): Genesis {
  const skewMs = 50;
  const w = 250;
  const t = { commitMs: w, revealMs: w, settleMs: w, sprintMs, proofMs: 400, validationMs: w, syncMs: w, certifyMs: w };
  const epochMs = Object.values(t).reduce((a, b) => a + b, 0) + w;
  return makeGenesis({ networkId: NET, config: 'tiny', hitRateDenominator: 16, startMs: Date.now() + 1500, skewMs, timings: { ...t, epochMs } });
}

/**
 * An engine client whose Sprint finds every multiple of STEP; `loseAfter` passes end in DEVICE_LOST;
 * `lateReport` repeats the last progress report after the run resolved (the real Worker's report
 * can cross its result).
 */
function fakeClients(opts: { loseAfter?: number; lateReport?: boolean; lateBuildReport?: boolean } = {}) {
  const made = { clients: 0, lost: 0, runs: [] as WorkerSprintOptions[], intensities: [] as number[] };
  const factory = (): EngineClientLike => {
    made.clients++;
    let aborted = false;
    return {
      create: async (o, onProgress) => {
        // As Comlink may deliver it: the build's last report after create's result.
        if (opts.lateBuildReport) setTimeout(() => onProgress?.('compile', 1), 10);
        return {
          backend: 'cpu',
          backendReason: 'fake',
          threads: 1,
          config: o.config,
          batch: PASS,
          adapter: 'fake',
          isFallbackAdapter: false,
          weightBytes: 1,
          variant: 'fake',
        };
      },
      runSprint: (o: WorkerSprintOptions, onProgress?: (p: WorkerSprintProgress) => void) => {
        aborted = false;
        made.runs.push(o);
        const start = o.startNonce ?? 0;
        const until = Date.now() + (o.durationMs ?? 0);
        const found = [...(o.found ?? [])];
        let next = start;
        let passes = 0;
        return new Promise((resolve, reject) => {
          const pass = () => {
            if (opts.loseAfter !== undefined && made.lost === 0 && passes === opts.loseAfter) {
              made.lost++;
              reject(new GpuError('DEVICE_LOST', 'fake device lost', { found, nextNonce: next, noncesTried: next - start }));
              return;
            }
            if (aborted || Date.now() >= until) {
              resolve({
                found,
                noncesTried: next - start,
                nextNonce: next,
                elapsedMs: 1,
                noncesPerSecond: 1,
                busyMs: 1,
                stoppedBy: aborted ? 'abort' : 'duration',
              });
              return;
            }
            const newlyFound = [];
            for (let n = next; n < next + PASS; n++) if (n % STEP === 0) newlyFound.push({ nonce: n, distance: 0.001 });
            found.push(...newlyFound);
            next += PASS;
            passes++;
            const report = { noncesTried: next - start, noncesPerSecond: 1000, elapsedMs: 1, nextNonce: next, newlyFound };
            // Late: every report crosses the next pass, so the last one arrives after the result.
            if (opts.lateReport) setTimeout(() => onProgress?.(report), 30);
            else onProgress?.(report);
            setTimeout(pass, 20);
          };
          setTimeout(pass, 20);
        });
      },
      evaluateNonces: async (_pk, nonces) => Float32Array.from(nonces, () => 0.001),
      abort: async () => {
        aborted = true;
      },
      setIntensity: async (d: number) => {
        made.intensities.push(d);
      },
      terminate: async () => undefined,
    };
  };
  return { made, factory };
}

function fakeWallet(index: number) {
  const id = simIdentity(index, NET);
  const listeners = new Set<() => void>();
  let unlocked = true;
  const wallet: WalletKeys = {
    publicKey: id.publicKey,
    unlocked: () => (unlocked ? { ed25519Seed: id.seed, blsSecretKey: id.bls } : null),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const set = (on: boolean) => {
    unlocked = on;
    for (const fn of [...listeners]) fn();
  };
  return { wallet, id, lock: () => set(false), unlock: () => set(true) };
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const ownProof = (r: BrowserRuntime) => r.snapshot.runtime?.activity.proofs.find((p) => p.epoch === 0);

describe('BrowserRuntime', () => {
  it('a reload mid-Sprint with a locked wallet keeps every find and searches on; the proof waits for the unlock', async () => {
    const g = genesis(1500);
    const s = schedule(g, 0);
    const store = new MemoryStore();
    const w = fakeWallet(1);
    const engines = fakeClients();
    const first = new BrowserRuntime({ genesis: g, wallet: w.wallet, backend: 'cpu', store, newEngineClient: engines.factory, nodeSettleMs: 0 });
    await first.start(undefined);
    await until('finds before the reload', () => (first.snapshot.runtime?.finds.length ?? 0) >= 5, s.sprintEnd - Date.now());
    await first.dispose();
    const before = first.snapshot.runtime!.finds.map((f) => f.nonce);

    w.lock();
    const second = new BrowserRuntime({ genesis: g, wallet: w.wallet, backend: 'cpu', store, newEngineClient: engines.factory, nodeSettleMs: 0 });
    const seen: BrowserSnapshot[] = [];
    second.subscribe((x) => seen.push(x));
    await second.start(undefined);
    expect(second.snapshot.status).toBe('running'); // no unlock needed: the binding was kept
    await until('the resumed search', () => second.snapshot.runtime?.searching === true, 2_000);
    const resumed = second.snapshot.runtime!.finds.map((f) => f.nonce);
    expect(resumed).toEqual(expect.arrayContaining(before));
    await until('the proof waiting for the unlock', () => second.snapshot.signing.waiting?.what === 'proof', s.proofEnd - Date.now());
    expect(ownProof(second)).toBeUndefined();
    const atProof = second.snapshot.runtime!.finds.map((f) => f.nonce);
    expect(atProof.length).toBeGreaterThan(before.length);
    expect(atProof.every((n) => n % STEP === 0)).toBe(true);

    w.unlock();
    await until('the signed proof', () => ownProof(second) !== undefined, 1_000);
    expect(ownProof(second)!.count).toBe(atProof.length);
    expect(second.snapshot.signing).toEqual({ waiting: null, missed: [] });
    // Alone and weighted (open join): its own vote certifies the epoch.
    await until('the certificate', () => second.snapshot.runtime?.certified.includes(0) === true, s.end - Date.now() + 4_000);
    expect(second.snapshot.runtime!.ledger).toMatchObject({ epoch: 0, certificate: 'certified' });
    expect(second.snapshot.runtime!.ledger!.rows.find((r) => r.publicKey === second.snapshot.runtime!.publicKey)?.claimed).toBe(atProof.length);
    await second.dispose();
  }, 20_000);

  it('a build report that lands after the engine is built does not bring the build back on screen', async () => {
    const g = genesis(1200);
    const s = schedule(g, 0);
    const engines = fakeClients({ lateBuildReport: true });
    const r = new BrowserRuntime({
      genesis: g,
      wallet: fakeWallet(4).wallet,
      backend: 'cpu',
      store: new MemoryStore(),
      newEngineClient: engines.factory,
      nodeSettleMs: 0,
    });
    await r.start(undefined);
    await until('the search', () => (r.snapshot.runtime?.finds.length ?? 0) > 0, s.sprintEnd - Date.now());
    await new Promise((res) => setTimeout(res, 50)); // past the late report
    expect(r.snapshot.engine?.variant).toBe('fake');
    expect(r.snapshot.build).toBeNull();
    await r.dispose();
  }, 20_000);

  it('a lost device rebuilds the engine and resumes; a signature due while locked is skipped and listed', async () => {
    const g = genesis(1200);
    const s = schedule(g, 0);
    const w = fakeWallet(2);
    const engines = fakeClients({ loseAfter: 5 });
    const r = new BrowserRuntime({ genesis: g, wallet: w.wallet, backend: 'cpu', store: new MemoryStore(), newEngineClient: engines.factory, nodeSettleMs: 0 });
    await r.start(undefined);
    await until('the device loss', () => r.snapshot.issue?.code === 'DEVICE_LOST', s.sprintEnd - Date.now());
    expect(r.snapshot.issue?.recovered).toBe(true);
    w.lock();
    await until('the end of the Sprint', () => Date.now() > s.sprintEnd + 100 && r.snapshot.runtime?.searching === false, 3_000);
    expect(engines.made.clients).toBe(2);
    const finds = r.snapshot.runtime!.finds.map((f) => f.nonce);
    // Nothing lost across the rebuild: every multiple of STEP below the last one found.
    const last = finds.at(-1)!;
    expect(finds).toEqual(Array.from({ length: last / STEP + 1 }, (_, i) => i * STEP));
    await until('the proof window to close', () => r.snapshot.signing.missed.some((m) => m.what === 'proof'), s.proofEnd - Date.now() + 500);
    expect(ownProof(r)).toBeUndefined();
    await r.dispose();
  }, 20_000);

  it('participation pauses the search inside the Sprint and resumes it from the last nonce; intensity reaches the Worker', async () => {
    const g = genesis(1800);
    const s = schedule(g, 0);
    const w = fakeWallet(3);
    const engines = fakeClients({ lateReport: true });
    let run: AbortController | null = new AbortController();
    const listeners = new Set<() => void>();
    const setRunning = (on: boolean) => {
      if (!on) run?.abort();
      run = on ? new AbortController() : null;
      for (const l of listeners) l();
    };
    const runGate = { runSignal: () => run?.signal ?? null, subscribe: (l: () => void) => (listeners.add(l), () => listeners.delete(l)) };
    const r = new BrowserRuntime({
      genesis: g,
      wallet: w.wallet,
      backend: 'cpu',
      store: new MemoryStore(),
      newEngineClient: engines.factory,
      nodeSettleMs: 0,
      intensity: 0.5,
      runGate,
    });
    await r.start(undefined);
    await until('finds', () => (r.snapshot.runtime?.finds.length ?? 0) >= 3, s.sprintEnd - Date.now());
    expect(engines.made.runs[0]?.intensity).toBe(0.5);
    r.setIntensity(0.25);
    expect(engines.made.intensities).toEqual([0.25]);
    expect(r.currentIntensity).toBe(0.25);

    setRunning(false); // the Worker's run is aborted at once
    await new Promise((res) => setTimeout(res, 100)); // its late reports land
    const atPause = r.snapshot.runtime!.finds.length;
    await new Promise((res) => setTimeout(res, 200));
    expect(r.snapshot.runtime!.finds.length).toBe(atPause);
    expect(engines.made.runs).toHaveLength(1);
    setRunning(true);
    await until('the resumed run', () => engines.made.runs.length === 2, 1_000);
    const resumed = engines.made.runs[1]!;
    expect(resumed.intensity).toBe(0.25);
    expect(resumed.startNonce).toBeGreaterThan(0);
    expect(resumed.found?.length).toBe(atPause);
    await until('the own proof', () => ownProof(r) !== undefined, s.proofEnd - Date.now() + 500);
    const finds = r.snapshot.runtime!.finds.map((f) => f.nonce);
    // One search for the host: the proof claims the finds of both runs, with no gap at the pause.
    expect(ownProof(r)!.count).toBe(finds.length);
    // Late reports of the paused run and of the last one do not count its tries twice.
    expect(ownProof(r)!.tried).toBe(r.snapshot.runtime!.tried);
    expect(finds).toEqual(Array.from({ length: finds.length }, (_, i) => i * STEP));
    await r.dispose();
  }, 20_000);
});

describe('BrowserRuntime as a validator of inference proofs', () => {
  it('judges a volunteer’s proof with the page’s weight and wallet: waits for the unlock, then publishes "consistent"', async () => {
    const rig = await testRig();
    const w = fakeWallet(5);
    const volunteerSeed = new Uint8Array(32).fill(80);
    const volunteerKey = ed25519.getPublicKey(volunteerSeed);
    const g = openEpochGenesis(NET, [w.id.publicKey, volunteerKey]);
    const volunteer = new SplitVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      signer: seedSigner(volunteerSeed),
      networkId: NET,
      genesis: genesisHash(g),
      mayFetchEvidence: (peer) => hex(peer) === hex(w.id.publicKey),
    });
    const userSeed = new Uint8Array(32).fill(81);
    const out = await splitGenerate(rig.prompts[1]!, {
      model: rig.model,
      k: 2,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [new MemoryLink(volunteer, volunteerSeed, userSeed)],
      thresholds: rig.calibration,
      signer: seedSigner(userSeed),
      networkId: NET,
      maxTokens: 5,
      eosTokenIds: [],
    });
    const proof = encodeProof(out.segments[0]!.proof!);
    const sim = simIdentity(0, NET);
    const volunteerSigner = walletSigner({ ed25519Seed: volunteerSeed, publicKey: volunteerKey, blsSecretKey: sim.bls, keyBinding: sim.binding });

    const r = new BrowserRuntime({
      genesis: g,
      wallet: w.wallet,
      backend: 'cpu',
      store: new MemoryStore(),
      newEngineClient: fakeClients().factory,
      nodeSettleMs: 50,
      judgeEveryMs: 100,
    });
    const signingWaits = new Set<string>();
    r.subscribe((x) => x.signing.waiting && signingWaits.add(x.signing.waiting.what));
    await r.start(undefined);
    try {
      const host = r.sprintRuntime!.host;
      expect(host.receive((await signInference(volunteerSigner, g, proof, Date.now())).bytes, 'gossip')).not.toBeNull();
      w.lock();
      const links: string[] = [];
      r.judgeInferenceWith({
        model: async (h) =>
          hex(h) === hex(rig.hash)
            ? { record: { hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }, model: rig.model, normWeight: rig.norm }
            : undefined,
        transport: (_node, key) => {
          links.push(hex(key));
          return new MemoryLink(volunteer, volunteerSeed, w.id.seed);
        },
      });
      await until('the judge waiting for the unlock', () => !!r.snapshot.inferenceJudge?.waiting, 15_000);
      expect(signingWaits).toContain('inference verdict');
      expect(links).toEqual([]);
      w.unlock();
      await until('a published verdict', () => (r.snapshot.inferenceJudge?.published.length ?? 0) > 0, 20_000);
      expect(links).toEqual([hex(volunteerKey)]);
      expect(r.snapshot.inferenceJudge).toMatchObject({ waiting: null, published: [{ volunteer: hex(volunteerKey), verdict: 'consistent', epoch: 0 }] });
      const verdicts = host.pool.messages(0).filter((m) => m.kind === 'inferenceVerdict');
      expect(verdicts.map((v) => [hex(v.sender), v.kind === 'inferenceVerdict' && v.verdict])).toEqual([[hex(w.id.publicKey), 0]]);
      await until('the volunteer’s inference reputation', () => (r.snapshot.inferenceReputation?.length ?? 0) > 0, 15_000);
      expect(r.snapshot.inferenceReputation).toEqual([{ volunteer: hex(volunteerKey), consistent: 1, inconsistent: 0, invalid: 0, unjudged: 0 }]);
      r.judgeInferenceWith(null);
      expect(r.snapshot.inferenceJudge).toBeNull();
    } finally {
      await r.dispose();
    }
  }, 60_000);
});
