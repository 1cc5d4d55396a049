/**
 * `sprintnet relay [--port N] [--host IP] [--seed HEX] [--write PATH] [--genesis PATH | --sprint-ms N
 * --start-in-ms N --skew-ms N]`: run the relay/bootstrap node and write network.json (default
 * public/network.json) with its address and the network's genesis: the file given with `--genesis`
 * (a genesis JSON or a network.json carrying one), else a new local demo genesis (src/app/demo-genesis.ts:
 * tiny, open join, a 20 s Sprint starting 15 s from now).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineOptions, parseCommandArgs, parseInteger } from './args.ts';
import { parseSeedHex, startRelay, untilSignal } from '../node/relay-server.ts';
import { genesisFromFileJson } from '../app/network-json.ts';
import { demoGenesis, DEMO_SKEW_MS, DEMO_SPRINT_MS, DEMO_START_IN_MS } from '../app/demo-genesis.ts';
import { genesisId, genesisToJson, schedule, type Genesis } from '../protocol/genesis.ts';

export const DEFAULT_RELAY_PORT = 9090;

/** Options shared by `relay` and `start` for the genesis that network.json carries. */
export const GENESIS_OPTIONS = defineOptions({
  genesis: {
    type: 'string',
    value: 'PATH',
    help: 'the genesis to announce: a genesis JSON, or a network.json carrying one (default: a new local demo genesis)',
  },
  'sprint-ms': { type: 'string', value: 'MS', default: String(DEMO_SPRINT_MS), help: "demo genesis: each Sprint's length in milliseconds" },
  'start-in-ms': { type: 'string', value: 'MS', default: String(DEMO_START_IN_MS), help: 'demo genesis: epoch 0 starts this many milliseconds from now' },
  'skew-ms': { type: 'string', value: 'MS', default: String(DEMO_SKEW_MS), help: "demo genesis: how far apart peers' clocks may be, in milliseconds" },
});

const nonNegativeInt = (text: string, flag: string): number => parseInteger(text, flag, { min: 0 });

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

export const options = defineOptions({
  port: { type: 'string', value: 'N', default: String(DEFAULT_RELAY_PORT), help: 'TCP port of the websocket listener (0: any free port)' },
  host: { type: 'string', value: 'IP', default: '127.0.0.1', help: 'address to listen on' },
  seed: { type: 'string', value: 'HEX', help: "the relay's Ed25519 key seed, 64 hex digits, for a stable peer id (default: a new one)" },
  write: { type: 'string', value: 'PATH', multiple: true, help: 'where to write network.json (default: public/network.json)' },
  ...GENESIS_OPTIONS,
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const port = parseInteger(args.port, '--port', { min: 0, max: 65535 });
  const writes = args.write ?? [join(process.cwd(), 'public', 'network.json')];
  const genesis = await genesisFromArgs(args);
  const relay = await startRelay({
    port,
    host: args.host,
    seed: args.seed ? parseSeedHex(args.seed) : undefined,
    networkJsonPaths: writes,
    config: { networkId: genesis.networkId },
    genesis: genesisToJson(genesis),
    genesisId: genesisId(genesis),
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
