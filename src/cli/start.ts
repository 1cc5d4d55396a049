/**
 * `sprintnet start` (= `npm start`): one machine is a whole network. Starts the relay, writes its
 * address to public/network.json (the web app fetches it), then the Vite dev server on
 * 127.0.0.1:5173. Ctrl-C stops both.
 */
import { join } from 'node:path';
import { parseCommandArgs } from './args.ts';
import { startRelay, untilSignal } from '../node/relay-server.ts';
import { DEFAULT_RELAY_PORT } from './relay.ts';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    port: { type: 'string', default: '5173' },
    'relay-port': { type: 'string', default: String(DEFAULT_RELAY_PORT) },
  });
  const root = process.cwd();
  const relay = await startRelay({
    port: Number(args['relay-port']),
    networkJsonPaths: [join(root, 'public', 'network.json')],
  });
  process.stdout.write(`relay: ${relay.multiaddr}\n`);
  const { createServer } = await import('vite');
  const server = await createServer({ root, server: { host: '127.0.0.1', port: Number(args.port), strictPort: true } });
  try {
    await server.listen();
  } catch (e) {
    await relay.stop();
    throw e;
  }
  server.printUrls();
  const signal = await untilSignal();
  process.stdout.write(`${signal}: stopping\n`);
  await server.close();
  await relay.stop();
  return 0;
}
