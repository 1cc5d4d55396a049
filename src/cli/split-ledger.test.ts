/**
 * The CLI user follows the ledger (split-ledger.ts): a relay and two headless hosts as separate
 * processes (`host --genesis … --serve-model`, CPU reference engine) on a genesis that gives P an
 * initial weight and A none. In epoch 0 A earns weight (P validates its proof) while P's own proof,
 * validated by nobody, earns none; so the genesis ranks P first and the certified ledger ranks A
 * first. `infer --split --relay --genesis` must rank by the certified state it synced, and fall
 * back to the genesis's initial weights (saying so) when no peer answers its genesis's sync.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileStore } from '../app/file-store.ts';
import { writeTestModel } from '../llm/test-model-files.ts';
import { tempDir } from '../llm/test-support.ts';
import { SprintnetNode } from '../node/node.ts';
import { parseSeedHex, startRelay, type RunningRelay } from '../node/relay-server.ts';
import { waitFor } from '../node/test-helpers.ts';
import { defaultRegistry, sprintTopicSpecs } from '../node/topics/index.ts';
import { fastTimings, genesisId, genesisToJson, makeGenesis, type Genesis } from '../protocol/genesis.ts';
import { decodeState, stateHash } from '../protocol/ledger.ts';
import { epochKey } from '../protocol/store.ts';
import { toHex } from '../sprint/bytes.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { main } from './main.ts';
import { startLedgerSync, standingLine, standingSourceName } from './split-ledger.ts';
import { modelHostArgs, spawnSprintnet, stopProc, waitForOutput, type Proc } from './test-support.ts';

const NET = 'sprintnet-local';
const SEED_P = '61'.repeat(32);
const SEED_A = '62'.repeat(32);
const dir = tempDir('sprintnet-split-ledger-');
const model = join(dir, 'model');
const procs: Proc[] = [];
let relay: RunningRelay;
let keyP = '';
let keyA = '';

async function writeGenesis(name: string, g: Genesis): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(genesisToJson(g)));
  return path;
}

const genesisOf = async (startMs: number, weighted: string, weight: number) =>
  makeGenesis({
    networkId: NET,
    config: 'tiny',
    hitRateDenominator: 2,
    startMs,
    skewMs: 300,
    timings: fastTimings(2000, 300),
    initialWeights: [{ publicKey: (await identityFromEd25519Seed(parseSeedHex(weighted))).publicKey, weight }],
  });

/** `infer --split 2 --relay … --genesis PATH --json` in this process; the parsed record. */
async function inferJson(genesisPath: string, dataDir: string, waitS: number, exitCode = 0): Promise<Record<string, any>> {
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    const code = await main(
      ['infer', '--model', model, '--prompt', 'Hello', '--split', '2', '--max-tokens', '3', '--backend', 'cpu', '--tau', '2', '--max-entropy', '10'].concat([
        '--relay',
        relay.multiaddr,
        '--genesis',
        genesisPath,
        '--data',
        dataDir,
        '--wait',
        String(waitS),
        '--json',
      ]),
    );
    expect(code).toBe(exitCode);
  } finally {
    write.mockRestore();
  }
  return JSON.parse(out.join(''));
}

let genesisPath = '';
let hostP: Proc;
let hostA: Proc;

beforeAll(async () => {
  writeTestModel(model, { layers: 4, seed: 3 });
  relay = await startRelay({ port: 0 });
  keyP = toHex((await identityFromEd25519Seed(parseSeedHex(SEED_P))).publicKey);
  keyA = toHex((await identityFromEd25519Seed(parseSeedHex(SEED_A))).publicKey);
  // Epoch 0 starts once both hosts are up and in each other's gossip mesh (started together they
  // took 3–10 s on the loaded 2-core machine; A's proof reached P too late with 1 s to spare); it is
  // certified ≈ 13 s after it starts.
  genesisPath = await writeGenesis('genesis.json', await genesisOf(Date.now() + 15_000, SEED_P, 1));
  for (const [seed, name] of [
    [SEED_P, 'p'],
    [SEED_A, 'a'],
  ] as const) {
    const p = spawnSprintnet(modelHostArgs({ seed, relay: relay.multiaddr, genesisPath, dataDir: join(dir, name), modelDir: model }));
    procs.push(p);
    if (name === 'p') hostP = p;
    else hostA = p;
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map(stopProc));
  await relay?.stop();
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

describe('the ledger sync without a ledger peer', () => {
  it('falls back to the genesis at once when no peer is seen or answers, and says why', async () => {
    // Its own network on its own relay: the hosts above are not on it.
    const net = 'sprintnet-ledger-none';
    const own = await startRelay({ port: 0, config: { networkId: net, presenceIntervalMs: 500 } });
    const nodes: SprintnetNode[] = [];
    const joinNet = async (seedByte: number) => {
      const node = await SprintnetNode.create({
        identity: await identityFromEd25519Seed(new Uint8Array(32).fill(seedByte)),
        role: 'host',
        registry: defaultRegistry(),
        config: { networkId: net, relays: [own.multiaddr], listen: [], presenceIntervalMs: 500, webrtcUpgrade: false },
      });
      await node.start();
      nodes.push(node);
      return node;
    };
    try {
      const user = await joinNet(71);
      const silentKey = (await identityFromEd25519Seed(new Uint8Array(32).fill(72))).publicKey;
      const genesis = makeGenesis({ networkId: net, config: 'tiny', startMs: Date.now() - 60_000, initialWeights: [{ publicKey: silentKey, weight: 3 }] });
      const alone = join(dir, 'alone');
      const t0 = Date.now();
      const first = await startLedgerSync({ node: user, genesis, dataDir: alone, waitMs: 20_000 }).result();
      expect(first.source).toMatchObject({ kind: 'genesis', reason: 'no protocol peer was seen' });
      expect(Date.now() - t0).toBeLessThan(5_000); // one presence interval, not the 20 s wait

      // A peer that runs no protocol: asked for its head, it does not answer (no sync handler).
      const silent = await joinNet(72);
      await waitFor(() => user.presence.values().some((p) => p.peerId === silent.peerId), 15_000, "the silent peer's presence");
      const t1 = Date.now();
      const synced = await startLedgerSync({ node: user, genesis, dataDir: alone, waitMs: 20_000 }).result();
      expect(synced.source).toMatchObject({ kind: 'genesis', reason: 'no peer answered a ledger request (1 asked)' });
      expect(Date.now() - t1).toBeLessThan(8_000);
      expect(synced.standing(toHex(silentKey))).toEqual({ weight: 3, votingWeight: 3, reputation: 0, flags: [] });
      expect(standingSourceName(synced.source)).toBe('genesis');
      expect(standingLine(synced.source)).toBe("ranking by the genesis's initial weights, not the ledger: no peer answered a ledger request (1 asked)\n");
      expect(existsSync(alone)).toBe(false); // the follower's store was never opened
      // The head requests' transport was closed: the user's node holds none of the genesis's topics (it neither receives nor forwards its gossip).
      for (const t of sprintTopicSpecs(genesisId(genesis))) expect(user.registry.get(t.name)).toBeUndefined();
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await own.stop();
    }
  }, 60_000);
});

describe('infer --split --relay --genesis without --peer', () => {
  it('ranks by the genesis’s initial weights when no ledger peer answers (the hosts run another genesis of the network)', async () => {
    await Promise.all([hostP, hostA].map((h) => waitForOutput(h, /answering pings/, 60_000)));
    const peerP = (await waitForOutput(hostP, /Host started, peer id (\S+);/))[1]!;
    const peerA = (await waitForOutput(hostA, /Host started, peer id (\S+);/))[1]!;
    // The hosts' certificates are signed by P (and later A) under their genesis; here only A has an initial weight.
    const foreign = await writeGenesis('foreign.json', await genesisOf(Date.now() - 1_000, SEED_A, 5));
    const r = await inferJson(foreign, join(dir, 'user-foreign'), 8, 1);
    expect(r.standing_source).toBe('genesis');
    // Sync is named per genesis: the hosts of the other genesis do not answer it at all.
    expect(r.standing.reason).toMatch(/^no peer answered a ledger request \([12] asked\)$/);
    // Both announce the hosts' genesis, not the one this user follows: both rank `other-genesis` (still
    // failovers, below any volunteer of its own genesis), with the weights of the genesis it follows.
    const byPeer = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(r.ranking.map((v: any) => [v.peer_id, v.tier, v.weight]).sort(byPeer)).toEqual(
      [
        [peerA, 'other-genesis', 5],
        [peerP, 'other-genesis', 0],
      ].sort(byPeer),
    );
    expect(r.ranking.every((v: any) => /^announces another genesis/.test(v.problem))).toBe(true);
    // The volunteer publishes to the hosts' genesis, not the one this user follows: the user signs no proof for it.
    expect(r.verification).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/ publishes to genesis [0-9a-f]{16}…, not this network's genesis [0-9a-f]{16}…: no proof signed/),
    });
  }, 120_000);

  it('ranks by the certified ledger it synced, not by the genesis’s initial weights', async () => {
    const certified = (await waitForOutput(hostP, /ledger epoch 0: certified state ([0-9a-f]{16})…/, 90_000))[1]!;
    const peerP = (await waitForOutput(hostP, /Host started, peer id (\S+);/))[1]!;
    const peerA = (await waitForOutput(hostA, /Host started, peer id (\S+);/))[1]!;
    // When A published a session's proof in epoch 0 and P (weighted then) judged it, that verdict counts. The
    // earlier test's session gives none any more: its user follows another genesis than A publishes to.
    const judgedInEpoch0 =
      /published an inference proof of \d+ FLOPs for epoch 0/.test(hostA.output.join('')) &&
      /judged inference proof [0-9a-f]+…: consistent/.test(hostP.output.join(''));
    const r = await inferJson(genesisPath, join(dir, 'user'), 20);

    const hostTails = () => [hostP, hostA].map((h) => h.output.join('').split('\n').slice(-25).join('\n')).join('\n---\n');
    expect(r.standing_source, `${JSON.stringify(r.standing)}\n${hostTails()}`).toMatch(/^ledger epoch \d+$/);
    const epoch = Number(/^ledger epoch (\d+)$/.exec(r.standing_source)?.[1]);
    expect(epoch).toBeGreaterThanOrEqual(0);
    // The state it ranked by is the one P certified (read from P's own store), whole.
    const stored = await (await fileStore(join(dir, 'p'))).get(`state/${epochKey(epoch)}`);
    const state = decodeState(stored!);
    expect(r.standing).toMatchObject({ source: 'ledger', epoch, state_hash: toHex(stateHash(state)) });
    expect(['certified', 'adopted']).toContain(r.standing.certificate);
    if (epoch === 0) expect(r.standing.state_hash.slice(0, 16)).toBe(certified);
    const row = (key: string) => state.hosts.find((h) => toHex(h.publicKey) === key);
    const a = row(keyA)!;
    // Not in the genesis, A earned weight in epoch 0 and a reputation: the ledger puts it first.
    expect(Math.max(a.weight, a.votingWeight), `A's row in P's state ${epoch}: weight ${a.weight}, voting ${a.votingWeight}, flags ${a.flags}`).toBeGreaterThan(
      0,
    );
    expect(a.reputation).toBeGreaterThan(0);
    const p = row(keyP);
    expect(r.ranking.map((v: any) => [v.peer_id, v.tier, v.weight, v.reputation])).toEqual([
      [peerA, 'weighted', Math.max(a.weight, a.votingWeight), a.reputation],
      [peerP, p && Math.max(p.weight, p.votingWeight) > 0 ? 'weighted' : 'unweighted', p ? Math.max(p.weight, p.votingWeight) : 0, p?.reputation ?? 0],
    ]);
    if (judgedInEpoch0) {
      expect(r.standing.inference_records).toBeGreaterThanOrEqual(1);
      expect(r.ranking[0].inference_score).toBe(1);
    }
    expect(r.verification).toMatchObject({ verified: true });
    expect(
      standingLine({
        kind: 'ledger',
        epoch,
        stateHash: r.standing.state_hash,
        certificate: r.standing.certificate,
        newestReported: r.standing.newest_reported_epoch,
        inferenceRecords: r.standing.inference_records,
        syncMs: r.standing.sync_ms,
      }),
    ).toMatch(new RegExp(`^ranking by the certified ledger, epoch ${epoch} \\(state ${r.standing.state_hash.slice(0, 16)}…`));
  }, 120_000);
});
