/**
 * `sprintnet start` (= `npm start`): one machine is a whole network. Starts the relay, writes its
 * address and a genesis to public/network.json (the web app fetches it; see `relay` for the
 * genesis options), starts `--hosts` headless protocol hosts on that genesis (default 2: a host never
 * validates itself, so a lone host's claims are never checked and earn nothing), each with its share
 * of the cores, then the Vite dev server on 127.0.0.1:5173. Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineOptions, parseCommandArgs, parseInteger, parseThreads } from './args.ts';
import { startRelay, untilSignal } from '../node/relay-server.ts';
import { genesisId, genesisToJson } from '../protocol/genesis.ts';
import { toHex } from '../sprint/bytes.ts';
import { DEFAULT_RELAY_PORT, GENESIS_OPTIONS, describeGenesis, genesisFromArgs } from './relay.ts';

export const DEFAULT_DEMO_HOSTS = 2;

export const options = defineOptions({
  port: { type: 'string', value: 'N', default: '5173', help: "the web app's port on 127.0.0.1" },
  'relay-port': { type: 'string', value: 'N', default: String(DEFAULT_RELAY_PORT), help: "the relay's websocket port" },
  hosts: {
    type: 'string',
    value: 'N',
    default: String(DEFAULT_DEMO_HOSTS),
    help: 'headless protocol hosts to run beside the app, 0 to 16 (two validate each other)',
  },
  'host-threads': {
    type: 'string',
    value: 'N',
    help: "CPU threads per host (default: the cores shared by the hosts and this machine's browser, at least 1)",
  },
  ...GENESIS_OPTIONS,
});

/**
 * Threads per demo host: the hosts and the browser page that volunteers share this machine's cores.
 * With every host on every core (the host default), two hosts and the page on 2 cores made the page's
 * timers fire seconds late, past the demo genesis's short proof window.
 */
export const demoHostThreads = (cores: number, hosts: number): number => Math.max(1, Math.floor(cores / (hosts + 1)));

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const hostCount = parseInteger(args.hosts, '--hosts', { min: 0, max: 16 });
  const appPort = parseInteger(args.port, '--port', { min: 0, max: 65535 });
  const relayPort = parseInteger(args['relay-port'], '--relay-port', { min: 0, max: 65535 });
  const threads = parseThreads(args['host-threads'], '--host-threads') ?? demoHostThreads(availableParallelism(), hostCount);
  const root = process.cwd();
  const networkJson = join(root, 'public', 'network.json');
  const genesis = await genesisFromArgs(args);
  const relay = await startRelay({
    port: relayPort,
    networkJsonPaths: [networkJson],
    config: { networkId: genesis.networkId },
    genesis: genesisToJson(genesis),
    genesisId: genesisId(genesis),
  });
  process.stdout.write(`relay: ${relay.multiaddr}\n${describeGenesis(genesis)}\n`);
  const dataRoot = await mkdtemp(join(tmpdir(), `sprintnet-demo-${genesisId(genesis)}-`));
  if (hostCount > 0) process.stdout.write(`hosts: ${hostCount}, ${threads} CPU thread${threads === 1 ? '' : 's'} each\n`);
  const hosts = Array.from({ length: hostCount }, (_, i) => startHost(i, networkJson, relay.multiaddr, join(dataRoot, `host-${i}`), threads));
  const { createServer } = await import('vite');
  const server = await createServer({ root, server: { host: '127.0.0.1', port: appPort, strictPort: true } });
  try {
    await server.listen();
  } catch (e) {
    await Promise.all(hosts.map(stopChild));
    await relay.stop();
    throw e;
  }
  server.printUrls();
  const signal = await untilSignal();
  process.stdout.write(`${signal}: stopping\n`);
  await Promise.all(hosts.map(stopChild));
  await server.close();
  await relay.stop();
  return 0;
}

/** A headless protocol host (`sprintnet host --genesis`) with a fresh key, its output prefixed. */
function startHost(i: number, networkJson: string, relay: string, dataDir: string, threads: number): ChildProcess {
  const seed = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', '..', 'bin', 'sprintnet'),
      'host',
      '--genesis',
      networkJson,
      '--relay',
      relay,
      '--data',
      dataDir,
      '--label',
      `demo-host-${i}`,
      '--threads',
      String(threads),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPRINTNET_SEED: seed },
    },
  );
  const prefix = (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, `[host ${i}] `));
  child.stdout!.on('data', prefix);
  child.stderr!.on('data', prefix);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
