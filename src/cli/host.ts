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
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, parseNumber, parseThreads, THREADS_OPTION } from './args.ts';
import { describeError } from './describe-error.ts';
import { firstSeen } from './log-once.ts';
import { connectionWords, relayWords, shortId } from '../app/plain-words.ts';
import type { RelayState } from '../node/relay-keeper.ts';
import type { TransportKind } from '../node/connections.ts';
import { parseSeedHex, untilSignal, type NetworkJson } from '../node/relay-server.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import type { NodeIdentity } from '../node/node.ts';
import { runPracticeSprints } from './host-sprints.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../cpu/backend.ts';

export const options = defineOptions({
  genesis: {
    type: 'string',
    value: 'PATH',
    help: 'take part in the network of this genesis (a genesis JSON, or a network.json carrying one) instead of practice Sprints',
  },
  data: { type: 'string', value: 'DIR', help: 'with --genesis: where the host keeps its state (default: ~/.sprintnet/<network>/<genesis>/<key>)' },
  engine: {
    type: 'string',
    value: 'NAME',
    default: 'canonical',
    help: 'the model of practice Sprints: canonical or tiny; off runs no Sprints; with --genesis, reference runs the CPU reference',
  },
  backend: {
    type: 'string',
    value: 'NAME',
    default: 'auto',
    help: 'where Sprints run: auto (the CPU when WebGPU is missing or a software GPU), webgpu or cpu',
  },
  'sprint-ms': { type: 'string', value: 'MS', default: '600000', help: "a practice Sprint's length in milliseconds" },
  'sprint-seed': { type: 'string', value: 'HEX', help: 'practice Sprints: use this seed (64 hex digits) every time instead of a random one' },
  batch: { type: 'string', value: 'N', help: 'tries per GPU batch (default: tuned for this GPU)' },
  threads: THREADS_OPTION,
  relay: { type: 'string', value: 'ADDR', multiple: true, help: 'a relay multiaddr to join through (default: the relays in --network-json)' },
  'network-json': { type: 'string', value: 'PATH', help: 'read the relays from this network.json (default: public/network.json)' },
  keystore: { type: 'string', value: 'PATH', help: 'the wallet keystore (or SPRINTNET_KEYSTORE; its passphrase in SPRINTNET_PASSPHRASE)' },
  seed: { type: 'string', value: 'HEX', help: 'for tests: a raw Ed25519 key seed, 64 hex digits, instead of a wallet (or SPRINTNET_SEED)' },
  listen: { type: 'string', value: 'ADDR', multiple: true, help: 'also listen on this multiaddr' },
  label: { type: 'string', value: 'TEXT', help: 'the name other peers see (default: host@<hostname>)' },
  'serve-model': {
    type: 'string',
    value: 'DIR',
    help: 'serve private split inference of this model folder (docs/split-inference.md); with --genesis also publish proofs and validate others',
  },
  'model-tau': { type: 'string', value: 'T', help: "with --serve-model: the model's published C_t threshold τ (default: measured here first)" },
});

export const notes = [
  'The wallet comes from --seed, then a keystore (--keystore or SPRINTNET_KEYSTORE), then SPRINTNET_MNEMONIC.',
  'Without --genesis the host runs practice Sprints: they show what this machine can do and earn no weight, CU or rewards.',
];

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  // Every value is checked before the host joins the network.
  const backend = parseChoice(args.backend, '--backend', BACKEND_CHOICES);
  const sprintMs = parseInteger(args['sprint-ms'], '--sprint-ms', { min: 1 });
  const batch = args.batch === undefined ? undefined : parseInteger(args.batch, '--batch', { min: 1 });
  const threads = parseThreads(args.threads);
  const modelTau = args['model-tau'] === undefined ? undefined : parseNumber(args['model-tau'], '--model-tau', { min: 0 });
  await import('../node/node-env.ts');
  const { SprintnetNode } = await import('../node/node.ts');
  const { defaultRegistry } = await import('../node/topics/index.ts');
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
  node.addEventListener('relay', (e) => log(`Relay: ${relayWords((e as CustomEvent<RelayState>).detail)}`));
  // Presence repeats every few seconds and protocol gossip flows all the time: each peer is logged
  // when it appears (or changes name), and each topic once per peer, so the log stays readable.
  const announced = firstSeen();
  node.addEventListener('presence', (e) => {
    const p = (e as CustomEvent<{ peerId: string; role: string; label: string }>).detail;
    if (!announced(p.peerId, `${p.role}\n${p.label}`)) return;
    log(`Peer ${shortId(p.peerId)} (${p.role}, "${p.label}") is on the network`);
  });
  const heard = firstSeen();
  node.addEventListener('gossip', (e) => {
    const m = (e as CustomEvent<{ topic: string; from: string }>).detail;
    if (!heard(`${m.topic}\n${m.from}`)) return;
    log(`Message on ${m.topic} from peer ${shortId(m.from)} (the first; later ones on this topic are not logged)`);
  });
  node.addEventListener('connections', (e) => {
    const list = (e as CustomEvent<Array<{ peerId: string; transport: TransportKind }>>).detail;
    const peers = list.map((c) => `${shortId(c.peerId)} ${connectionWords(c.transport)}`).join(', ');
    log(`Peers connected: ${list.length}${peers ? ` (${peers})` : ''}`);
  });
  node.addEventListener('rejected', (e) => {
    const r = (e as CustomEvent<{ peerId: string; reason: string; score: number }>).detail;
    log(`Refused a message from peer ${shortId(r.peerId)}: ${r.reason} (its score is now ${r.score.toFixed(1)})`);
  });
  await node.start();
  log(`Host started, peer id ${node.peerId}; relays: ${relays.join(', ') || 'none'}`);
  const stop = new AbortController();
  const serveDir = args['serve-model'];
  let ledgerLink: ((l: import('./serve-model.ts').LedgerLink) => void) | undefined;
  const ledger = serveDir && genesis ? new Promise<import('./serve-model.ts').LedgerLink>((resolve) => (ledgerLink = resolve)) : undefined;
  const onRuntime = ledgerLink && genesis ? ledgerRuntime(genesis, ledgerLink) : undefined;
  const sprints = genesis
    ? runProtocol({
        genesis,
        dataDir: args.data,
        engine: args.engine === 'reference' ? 'reference' : 'auto',
        backend,
        threads,
        seedHex: args.seed,
        keystorePath: args.keystore,
        node,
        signal: stop.signal,
        log,
        onRuntime,
      })
    : args.engine === 'off'
      ? Promise.resolve()
      : runPracticeSprints({
          config: args.engine!,
          publicKey: identity.publicKey,
          sprintMs,
          sprintSeed: args['sprint-seed'] ? parseSeedHex(args['sprint-seed']) : undefined,
          batch,
          backend,
          threads,
          signal: stop.signal,
          log,
        });
  // The ledger link comes once the runtime exists; a protocol host that fails first leaves the volunteer serving without one.
  const ledgerOrNone =
    ledger &&
    Promise.race([
      ledger,
      sprints.then(
        () => undefined,
        () => undefined,
      ),
    ]);
  const serving = serveDir ? serveModel(serveDir, backend, modelTau, identity.ed25519Seed, genesis?.networkId, node, ledgerOrNone, log) : undefined;
  // A failing engine (no adapter, out of memory) is reported, and the host stays a network peer.
  const engineFailed = sprints.then(
    () => undefined,
    (e: unknown) => log(`The Sprint engine stopped: ${describeError(e)} The host stays connected to the network.`),
  );
  const signal = await untilSignal();
  log(`${signal}: stopping the host`);
  stop.abort();
  await (await serving)?.stop();
  await engineFailed;
  await node.stop();
  return 0;
}

/** `--genesis`: the Sprint protocol through src/app's runtime (host-protocol.ts) instead of practice Sprints. */
async function runProtocol(
  o: Omit<import('./host-protocol.ts').ProtocolHostOptions, 'ed25519Seed' | 'publicKey' | 'blsSecretKey'> & { seedHex?: string; keystorePath?: string },
): Promise<void> {
  const { runProtocolHost, blsKeyForSeed } = await import('./host-protocol.ts');
  const { seedHex, keystorePath, ...host } = o;
  const seed = seedHex ?? process.env.SPRINTNET_SEED;
  let keys: { ed25519Seed: Uint8Array; publicKey: Uint8Array; blsSecretKey: Uint8Array };
  if (seed) {
    const id = await identityFromEd25519Seed(parseSeedHex(seed));
    keys = { ed25519Seed: id.ed25519Seed, publicKey: id.publicKey, blsSecretKey: blsKeyForSeed(id.ed25519Seed) };
  } else {
    const { loadHeadlessWallet } = await import('../wallet/node-loader.ts');
    keys = (await loadHeadlessWallet({ keystorePath, env: process.env, networkId: host.genesis.networkId })).identity;
  }
  await runProtocolHost({ ...host, ...keys });
}

/** `--serve-model` with `--genesis`: the volunteer publishes and judges through the protocol runtime's host. */
function ledgerRuntime(
  genesis: import('../protocol/genesis.ts').Genesis,
  resolve: (l: import('./serve-model.ts').LedgerLink) => void,
): NonNullable<import('./host-protocol.ts').ProtocolHostOptions['onRuntime']> {
  // The runtime's own transport: one more would hold the genesis's topics on after the runtime stops.
  return (runtime, signer) =>
    resolve({ genesis, host: runtime.host, signer, publish: (topic, bytes) => runtime.transport.publish(topic, bytes), now: Date.now });
}

/** `--serve-model DIR`: loads the model and serves split sessions; a failure is reported and the host stays a peer. */
async function serveModel(
  dir: string,
  backend: BackendChoice,
  tau: number | undefined,
  ed25519Seed: Uint8Array,
  networkId: string | undefined,
  node: import('../node/node.ts').SprintnetNode,
  ledger: Promise<import('./serve-model.ts').LedgerLink | undefined> | undefined,
  log: (line: string) => void,
): Promise<{ stop(): Promise<void> } | undefined> {
  try {
    const { loadHeldModel, startModelService } = await import('./serve-model.ts');
    const held = await loadHeldModel(dir, { backend, tau, log });
    const network = networkId ?? node.config.networkId;
    const link = ledger && (await ledger);
    const service = await startModelService({ node, ed25519Seed, held, networkId: network, ledger: link, log });
    const { announceHeadlessVolunteer } = await import('./serve-announce.ts');
    const { genesisHash } = await import('../protocol/genesis.ts');
    const announced = await announceHeadlessVolunteer({
      node,
      held,
      ed25519Seed,
      networkId: network,
      genesis: link ? genesisHash(link.genesis) : undefined,
      openSessions: () => service.volunteer.openSessions,
      label: 'headless host',
      log,
    });
    return {
      // The model's buffers go only after the protocols are unhandled: a call racing the stop must not find a destroyed model.
      stop: async () => {
        announced.stop();
        await service.stop();
        held.destroy();
      },
    };
  } catch (e) {
    log(`Serving the model failed: ${describeError(e)} The host stays connected to the network.`);
    return undefined;
  }
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
