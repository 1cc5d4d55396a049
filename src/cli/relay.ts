/**
 * `sprintnet relay [--port N] [--host IP] [--seed HEX] [--write PATH] [--genesis PATH | --sprint-ms N
 * --start-in-ms N --skew-ms N]`: run the relay/bootstrap node and write network.json (default
 * public/network.json) with its address and the network's genesis: the file given with `--genesis`
 * (a genesis JSON or a network.json carrying one), else a new local demo genesis (src/app/demo-genesis.ts:
 * tiny, open join, a 20 s Sprint starting 15 s from now).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandArgs } from './args.ts';
import { parseSeedHex, startRelay, untilSignal } from '../node/relay-server.ts';
import { genesisFromFileJson } from '../app/network-json.ts';
import { demoGenesis, DEMO_SKEW_MS, DEMO_SPRINT_MS, DEMO_START_IN_MS } from '../app/demo-genesis.ts';
import { genesisToJson, schedule, type Genesis } from '../protocol/genesis.ts';

export const DEFAULT_RELAY_PORT = 9090;

/** Options shared by `relay` and `start` for the genesis that network.json carries. */
export const GENESIS_OPTIONS = {
  genesis: { type: 'string' },
  'sprint-ms': { type: 'string', default: String(DEMO_SPRINT_MS) },
  'start-in-ms': { type: 'string', default: String(DEMO_START_IN_MS) },
  'skew-ms': { type: 'string', default: String(DEMO_SKEW_MS) },
} as const;

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${flag} must be a non-negative integer, got '${text}'`);
  return n;
}

export async function genesisFromArgs(args: { genesis?: string; 'sprint-ms'?: string; 'start-in-ms'?: string; 'skew-ms'?: string }): Promise<Genesis> {
  if (args.genesis) return genesisFromFileJson(JSON.parse(await readFile(args.genesis, 'utf8')));
  return demoGenesis({
    sprintMs: nonNegativeInt(args['sprint-ms'] ?? String(DEMO_SPRINT_MS), '--sprint-ms'),
    startInMs: nonNegativeInt(args['start-in-ms'] ?? String(DEMO_START_IN_MS), '--start-in-ms'),
    skewMs: nonNegativeInt(args['skew-ms'] ?? String(DEMO_SKEW_MS), '--skew-ms'),
  });
}

export function describeGenesis(g: Genesis): string {
  const s0 = schedule(g, 0);
  const open = g.initialWeights.length === 0 ? 'open join' : `${g.initialWeights.length} initial weights`;
  return `genesis: network ${g.networkId}, config ${g.config}, p = 1/${g.hitRateDenominator}, ${open}, Sprint ${g.timings.sprintMs} ms in a ${g.timings.epochMs} ms epoch, epoch 0 starts ${new Date(s0.start).toISOString()}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    port: { type: 'string', default: String(DEFAULT_RELAY_PORT) },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    write: { type: 'string', multiple: true },
    ...GENESIS_OPTIONS,
  });
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad --port ${args.port}`);
  const writes = args.write ?? [join(process.cwd(), 'public', 'network.json')];
  const genesis = await genesisFromArgs(args);
  const relay = await startRelay({
    port,
    host: args.host,
    seed: args.seed ? parseSeedHex(args.seed) : undefined,
    networkJsonPaths: writes,
    config: { networkId: genesis.networkId },
    genesis: genesisToJson(genesis),
  });
  process.stdout.write(`sprintnet relay listening on ${relay.multiaddr}\n`);
  process.stdout.write(`${describeGenesis(genesis)}\n`);
  process.stdout.write(`wrote ${writes.join(', ')}\n`);
  relay.node.addEventListener('connections', (e) => {
    const n = (e as CustomEvent<unknown[]>).detail.length;
    process.stdout.write(`connections: ${n}\n`);
  });
  const signal = await untilSignal();
  process.stdout.write(`${signal}: stopping relay\n`);
  await relay.stop();
  return 0;
}
