/**
 * The runtime over real libp2p: three Node peers on loopback websockets, each a SprintRuntime with
 * the CPU reference engine on `tiny`, run one real-time epoch (1.5 s Sprint) and must derive the
 * same state and certify it. One of them persists in a file store and resumes after a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import '../node/node-env.ts';
import { SprintnetNode, defaultRegistry } from '../node/index.ts';
import { LOOPBACK_WS, waitFor } from '../node/test-helpers.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { walletSigner, walletVerifier } from '../protocol/crypto.ts';
import { fastTimings, makeGenesis, schedule } from '../protocol/genesis.ts';
import { MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { referenceEngine } from './engines.ts';
import { fileStore } from './file-store.ts';
import { SprintRuntime, type RuntimeSnapshot } from './runtime.ts';

const NET = 'sprintnet-local';
const nodes: SprintnetNode[] = [];
const runtimes: SprintRuntime[] = [];
let dir = '';

afterAll(async () => {
  runtimes.forEach((r) => r.stop());
  await Promise.all(runtimes.map((r) => r.host.idle()));
  await Promise.all(nodes.map((n) => n.stop()));
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

describe('SprintRuntime over libp2p', () => {
  it('three peers run an epoch, agree on the state and certify it; a restart resumes from the file store', async () => {
    const ids = [0, 1, 2].map((i) => simIdentity(40 + i, NET));
    for (const id of ids) {
      const identity = await identityFromEd25519Seed(id.seed);
      const node = await SprintnetNode.create({
        identity,
        role: 'host',
        registry: defaultRegistry(),
        config: { listen: [LOOPBACK_WS], presenceIntervalMs: 300 },
      });
      await node.start();
      nodes.push(node);
    }
    const ws = (n: SprintnetNode) => multiaddr(n.multiaddrs().find((m) => m.includes('/ws/'))!);
    await nodes[1]!.libp2p.dial(ws(nodes[0]!));
    await nodes[2]!.libp2p.dial(ws(nodes[0]!));
    await nodes[2]!.libp2p.dial(ws(nodes[1]!));
    await waitFor(() => nodes.every((n) => n.presence.size >= 2), 15_000, 'presence');

    const skewMs = 300;
    // p = 1/16: the CPU reference evaluates only tens of nonces per second on a busy machine, and every
    // peer must find one. Hosts search from the last reveal (about 4 s with the 1.5 s Sprint), and
    // validators re-run every find of these short lists in the same process before validationEnd.
    const genesis = makeGenesis({
      networkId: NET,
      config: 'tiny',
      hitRateDenominator: 16,
      startMs: Date.now() + 1500,
      skewMs,
      timings: fastTimings(1500, skewMs),
    });
    dir = await mkdtemp(join(tmpdir(), 'sprintnet-runtime-'));
    const stores = [await fileStore(dir), new MemoryStore(), new MemoryStore()];
    const verifier = walletVerifier();
    ids.forEach((id, i) => {
      const signer = walletSigner({ ed25519Seed: id.seed, publicKey: id.publicKey, blsSecretKey: id.bls, keyBinding: id.binding });
      runtimes.push(new SprintRuntime({ genesis, signer, engine: referenceEngine(), node: nodes[i]!, store: stores[i]!, verifier }));
    });
    // The first snapshot of epoch 1, before its search: it still shows epoch 0's Sprint.
    const atEpoch1: (RuntimeSnapshot | undefined)[] = runtimes.map(() => undefined);
    runtimes.forEach((r, i) => r.subscribe((snap) => (atEpoch1[i] ??= snap.epoch === 1 ? snap : undefined)));
    await Promise.all(runtimes.map((r) => r.start()));

    const s0 = schedule(genesis, 0);
    await waitFor(() => runtimes.every((r) => r.snapshot.certified.includes(0)), s0.end - Date.now() + 5_000, 'certificate of epoch 0');
    // Every peer searched from the last reveal, before the Sprint window (docs/protocol.md §6).
    for (const r of runtimes) {
      expect(r.snapshot.searchStartedMs).toBeGreaterThanOrEqual(s0.commitEnd);
      expect(r.snapshot.searchStartedMs).toBeLessThan(s0.sprintStart);
    }
    const ledgers = runtimes.map((r) => r.snapshot.ledger!);
    expect(new Set(ledgers.map((l) => l.hash)).size).toBe(1);
    expect(ledgers.every((l) => l.epoch === 0 && l.certificate === 'certified')).toBe(true);
    const rows = ledgers[0]!.rows;
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(row.flags).toEqual(['accepted']);
      expect(row.weight).toBeGreaterThan(0);
      expect(row.cuTotal).toBeGreaterThan(0);
    }

    // The finds of epoch 0's Sprint stay paired with its tries once epoch 1 begins (they were reset to 0).
    await waitFor(() => atEpoch1.every((x) => x !== undefined), s0.end - Date.now() + 5_000, 'epoch 1');
    for (const snap of atEpoch1) {
      const proof = snap!.activity.proofs.find((p) => p.epoch === 0)!;
      expect(snap!.findsEpoch).toBe(0);
      expect(snap!.tried).toBeGreaterThan(0);
      expect(snap!.tried).toBe(proof.tried);
      expect(snap!.found).toBe(snap!.finds.length);
      expect(snap!.found).toBe(proof.count);
    }

    // Restart the first peer's runtime over the same directory: it has the certified state at once.
    runtimes[0]!.stop();
    const again = new SprintRuntime({
      genesis,
      signer: walletSigner({ ed25519Seed: ids[0]!.seed, publicKey: ids[0]!.publicKey, blsSecretKey: ids[0]!.bls, keyBinding: ids[0]!.binding }),
      engine: referenceEngine(),
      node: nodes[0]!,
      store: await fileStore(dir),
      verifier,
    });
    runtimes[0] = again;
    await again.start();
    expect(again.host.view(0)?.hash).toBe(ledgers[0]!.hash);
    expect(again.host.certificate(0)).toBeDefined();
  }, 60_000);
});
