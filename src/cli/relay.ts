/** `sprintnet relay [--port N] [--host IP] [--seed HEX] [--write PATH]`: run the relay/bootstrap node. */
import { join } from 'node:path';
import { parseCommandArgs } from './args.ts';
import { parseSeedHex, startRelay, untilSignal } from '../node/relay-server.ts';

export const DEFAULT_RELAY_PORT = 9090;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    port: { type: 'string', default: String(DEFAULT_RELAY_PORT) },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    write: { type: 'string', multiple: true },
  });
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad --port ${args.port}`);
  const writes = args.write ?? [join(process.cwd(), 'public', 'network.json')];
  const relay = await startRelay({
    port,
    host: args.host,
    seed: args.seed ? parseSeedHex(args.seed) : undefined,
    networkJsonPaths: writes,
  });
  process.stdout.write(`sprintnet relay listening on ${relay.multiaddr}\n`);
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
