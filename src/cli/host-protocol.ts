/**
 * `sprintnet host --genesis PATH`: the headless host as a full Sprint protocol peer (docs/protocol.md):
 * it runs the epoch schedule of the genesis through src/app's SprintRuntime, searches with the
 * WebGPU or CPU engine (`--backend`) or the CPU reference (`--engine reference`), validates, and
 * keeps its state in a directory (`--data`, default ~/.sprintnet/<network id>/<genesis id>/<key prefix>).
 * `--genesis` takes a genesis JSON file or a network.json carrying one.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8, toHex } from '../sprint/bytes.ts';
import { deriveSecrets } from '../wallet/derive.ts';
import { makeKeyBinding } from '../wallet/lottery.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import type { SprintnetNode } from '../node/node.ts';
import { walletSigner, type Signer } from '../protocol/crypto.ts';
import { genesisId, schedule, type Genesis } from '../protocol/genesis.ts';
import { genesisFromFileJson } from '../app/network-json.ts';
import { enginePerSeed, referenceEngine } from '../app/engines.ts';
import { fileStore } from '../app/file-store.ts';
import { SprintRuntime } from '../app/runtime.ts';

/** A genesis JSON file, or a network.json that carries one (what `sprintnet relay` / `start` write). */
export async function readGenesis(path: string): Promise<Genesis> {
  return genesisFromFileJson(JSON.parse(await readFile(path, 'utf8')));
}

/** The BLS lottery key of a host identified by a raw `--seed` (tests): derived from that seed. */
export function blsKeyForSeed(ed25519Seed: Uint8Array): Uint8Array {
  return deriveSecrets(sha512(new Uint8Array([...utf8('sprintnet/host-seed/bls'), ...ed25519Seed]))).blsSecretKey;
}

export interface ProtocolHostOptions {
  genesis: Genesis;
  node: SprintnetNode;
  ed25519Seed: Uint8Array;
  publicKey: Uint8Array;
  blsSecretKey: Uint8Array;
  dataDir?: string;
  engine: 'reference' | 'auto';
  backend: BackendChoice;
  /** CPU backend threads (default: every core). */
  threads?: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Called once the runtime exists (before it starts): `--serve-model` publishes and judges through it. */
  onRuntime?: (runtime: SprintRuntime, signer: Signer) => void;
}

export async function runProtocolHost(o: ProtocolHostOptions): Promise<void> {
  const g = o.genesis;
  const binding = makeKeyBinding(o.ed25519Seed, o.blsSecretKey, g.networkId);
  const signer = walletSigner({ ed25519Seed: o.ed25519Seed, publicKey: o.publicKey, blsSecretKey: o.blsSecretKey, keyBinding: binding });
  // Per genesis: a new demo genesis reuses the network id, and its epoch numbers start again at 0.
  const dir = o.dataDir ?? join(homedir(), '.sprintnet', g.networkId, genesisId(g), toHex(o.publicKey).slice(0, 16));
  const store = await fileStore(dir);
  const engine =
    o.engine === 'reference'
      ? referenceEngine()
      : enginePerSeed(async (config, seed) => {
          const [{ createSprintEngine, describeEngine }, { nodeSpawner }, { getGpu, nodeTuneCache }] = await Promise.all([
            import('../cpu/select.ts'),
            import('../cpu/threads-node.ts'),
            import('../gpu/gpu-node.ts'),
          ]);
          const gpu = o.backend === 'cpu' ? null : await getGpu().catch(() => null);
          const created = await createSprintEngine({
            backend: o.backend,
            spawner: nodeSpawner,
            threads: o.threads,
            config,
            sprintSeed: seed,
            gpu,
            tuneCache: nodeTuneCache(),
          });
          o.log(`engine for seed ${toHex(seed).slice(0, 16)}… on ${describeEngine(created)}`);
          return created.engine;
        });
  const runtime = new SprintRuntime({ genesis: g, signer, engine, node: o.node, store, log: o.log });
  o.onRuntime?.(runtime, signer);
  let lastPhase = '';
  let lastLedger = '';
  runtime.subscribe((s) => {
    const phase = `epoch ${s.epoch} ${s.phase}`;
    if (phase !== lastPhase) o.log((lastPhase = phase));
    const l = s.ledger;
    const ledger = l ? `${l.epoch}/${l.hash}/${l.certificate}` : '';
    if (l && ledger !== lastLedger) {
      lastLedger = ledger;
      const total = l.rows.reduce((a, r) => a + r.weight, 0);
      o.log(`ledger epoch ${l.epoch}: ${l.certificate} state ${l.hash.slice(0, 16)}…, ${l.rows.length} hosts, next weight ${total}`);
    }
  });
  const s0 = schedule(g, 0);
  o.log(
    `protocol: network ${g.networkId}, config ${g.config}, p = 1/${g.hitRateDenominator}, Sprint ${g.timings.sprintMs} ms, epoch ${g.timings.epochMs} ms, epoch 0 starts ${new Date(s0.start).toISOString()}; data in ${dir}`,
  );
  await runtime.start();
  await new Promise<void>((resolve) => o.signal.addEventListener('abort', () => resolve(), { once: true }));
  runtime.stop();
  await runtime.host.idle();
  if ('close' in engine) (engine as { close(): void }).close();
}
