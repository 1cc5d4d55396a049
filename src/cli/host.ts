/**
 * `sprintnet host`: a headless full peer in Node. Identity, first match wins: `--seed HEX` (tests),
 * a keystore (`--keystore PATH` / SPRINTNET_KEYSTORE with SPRINTNET_PASSPHRASE), SPRINTNET_MNEMONIC.
 * Relays from `--relay` (repeatable) or from `--network-json` (default public/network.json).
 * It joins the topics, logs peers and gossip, and (unless `--engine off`) runs Sprints on its GPU
 * through the `webgpu` package or on the CPU (src/cpu): `--engine tiny|canonical`, `--backend
 * auto|webgpu|cpu` (auto: the CPU when WebGPU is missing or a software adapter), `--sprint-ms`,
 * `--sprint-seed`, `--batch`. With `--genesis PATH` (a genesis JSON, docs/protocol.md §3) it runs the
 * Sprint protocol instead (host-protocol.ts): `--data DIR` for its state, `--engine reference` for
 * the CPU reference.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { parseCommandArgs } from './args.ts';
import { parseSeedHex, untilSignal, type NetworkJson } from '../node/relay-server.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import type { NodeIdentity } from '../node/node.ts';
import { runPracticeSprints } from './host-sprints.ts';
import { parseBackendChoice } from '../cpu/backend.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    relay: { type: 'string', multiple: true },
    'network-json': { type: 'string' },
    keystore: { type: 'string' },
    seed: { type: 'string' },
    listen: { type: 'string', multiple: true },
    label: { type: 'string' },
    engine: { type: 'string', default: 'canonical' },
    'sprint-ms': { type: 'string', default: '600000' },
    'sprint-seed': { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    genesis: { type: 'string' },
    data: { type: 'string' },
  });
  await import('../node/node-env.ts');
  const { SprintnetNode } = await import('../node/node.ts');
  const { defaultRegistry } = await import('../node/topics/index.ts');
  const backend = parseBackendChoice(args.backend!);
  const identity = await loadIdentity(args.seed, args.keystore);
  const relays = args.relay ?? (await relaysFromFile(args['network-json'] ?? join(process.cwd(), 'public', 'network.json')));
  // Topics are named by network id: the node joins the genesis's network.
  const genesis = args.genesis ? await (await import('./host-protocol.ts')).readGenesis(args.genesis) : undefined;
  const node = await SprintnetNode.create({
    identity,
    role: 'host',
    registry: defaultRegistry(),
    label: args.label ?? `host@${hostname()}`,
    config: { relays, listen: args.listen ?? [], ...(genesis ? { networkId: genesis.networkId } : {}) },
  });
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  node.addEventListener('relay', (e) => log(`relay: ${(e as CustomEvent<string>).detail}`));
  node.addEventListener('presence', (e) => {
    const p = (e as CustomEvent<{ peerId: string; role: string; label: string }>).detail;
    log(`peer ${p.peerId} (${p.role}, ${p.label})`);
  });
  node.addEventListener('gossip', (e) => {
    const m = (e as CustomEvent<{ topic: string; from: string }>).detail;
    log(`gossip ${m.topic} from ${m.from}`);
  });
  node.addEventListener('connections', (e) => {
    const list = (e as CustomEvent<Array<{ peerId: string; transport: string }>>).detail;
    log(`connections: ${list.map((c) => `${c.peerId.slice(-8)}/${c.transport}`).join(' ') || 'none'}`);
  });
  node.addEventListener('rejected', (e) => {
    const r = (e as CustomEvent<{ peerId: string; reason: string; score: number }>).detail;
    log(`rejected message from ${r.peerId}: ${r.reason} (score ${r.score.toFixed(1)})`);
  });
  await node.start();
  log(`sprintnet host ${node.peerId} started; relays: ${relays.join(', ') || 'none'}`);
  const stop = new AbortController();
  const sprints = genesis
    ? runProtocol(genesis, args.data, args.engine === 'reference' ? 'reference' : 'auto', backend, args.seed, args.keystore, node, stop.signal, log)
    : args.engine === 'off'
    ? Promise.resolve()
    : runPracticeSprints({
        config: args.engine!,
        publicKey: identity.publicKey,
        sprintMs: positiveInt(args['sprint-ms']!, '--sprint-ms'),
        sprintSeed: args['sprint-seed'] ? parseSeedHex(args['sprint-seed']) : undefined,
        batch: args.batch ? positiveInt(args.batch, '--batch') : undefined,
        backend,
        signal: stop.signal,
        log,
      });
  // A failing engine (no adapter, out of memory) is reported, and the host stays a network peer.
  const engineFailed = sprints.then(() => undefined, (e: Error) => log(`engine stopped: ${e.name}: ${e.message}`));
  const signal = await untilSignal();
  log(`${signal}: stopping host`);
  stop.abort();
  await engineFailed;
  await node.stop();
  return 0;
}

/** `--genesis`: the Sprint protocol through src/app's runtime (host-protocol.ts) instead of practice Sprints. */
async function runProtocol(
  genesis: import('../protocol/genesis.ts').Genesis, dataDir: string | undefined, engine: 'reference' | 'auto', backend: ReturnType<typeof parseBackendChoice>,
  seedHex: string | undefined, keystorePath: string | undefined, node: import('../node/node.ts').SprintnetNode, signal: AbortSignal, log: (line: string) => void,
): Promise<void> {
  const { runProtocolHost, blsKeyForSeed } = await import('./host-protocol.ts');
  const seed = seedHex ?? process.env.SPRINTNET_SEED;
  let keys: { ed25519Seed: Uint8Array; publicKey: Uint8Array; blsSecretKey: Uint8Array };
  if (seed) {
    const id = await identityFromEd25519Seed(parseSeedHex(seed));
    keys = { ed25519Seed: id.ed25519Seed, publicKey: id.publicKey, blsSecretKey: blsKeyForSeed(id.ed25519Seed) };
  } else {
    const { loadHeadlessWallet } = await import('../wallet/node-loader.ts');
    keys = (await loadHeadlessWallet({ keystorePath, env: process.env, networkId: genesis.networkId })).identity;
  }
  await runProtocolHost({ genesis, node, ...keys, dataDir, engine, backend, signal, log });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

async function loadIdentity(seedHex: string | undefined, keystorePath: string | undefined): Promise<NodeIdentity> {
  const seed = seedHex ?? process.env.SPRINTNET_SEED;
  if (seed) return identityFromEd25519Seed(parseSeedHex(seed));
  const { loadHeadlessWallet } = await import('../wallet/node-loader.ts');
  const wallet = await loadHeadlessWallet({ keystorePath, env: process.env });
  return wallet.identity;
}

async function relaysFromFile(path: string): Promise<string[]> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as Partial<NetworkJson>;
    return Array.isArray(json.relays) ? json.relays.filter((r) => typeof r === 'string') : [];
  } catch {
    return [];
  }
}
