/**
 * Local networks for end-to-end specs: `bin/sprintnet relay` (which writes network.json with a demo
 * genesis) and headless `bin/sprintnet host`s as child processes, and the waits around them (the
 * process helpers live in src/cli/test-support.ts, which the CLI tests share).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSprintnet, stopProc, waitForOutput, type Proc } from '../src/cli/test-support.ts';
import { genesisFromJson, type Genesis } from '../src/protocol/genesis.ts';

export { spawnSprintnet, stopProc, waitForOutput, type Proc } from '../src/cli/test-support.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface LocalNetwork {
  readonly relay: Proc;
  readonly hosts: Proc[];
  /** network.json as the relay wrote it (serve it to pages with protocol-helpers' serveNetwork). */
  readonly json: { relays: string[]; genesis: unknown };
  readonly genesis: Genesis;
  stop(): Promise<void>;
}

/**
 * A relay with a demo genesis (tiny, open join) whose epoch 0 starts `startInMs` from now, and one
 * headless host per seed on the CPU backend, each up once it printed its protocol line.
 */
export async function startLocalNetwork(o: { sprintMs: number; skewMs: number; startInMs: number; hostSeeds: readonly string[] }): Promise<LocalNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'sprintnet-e2e-network-'));
  const networkPath = join(dir, 'network.json');
  const relay = spawnSprintnet([
    'relay',
    '--port',
    String(await freePort()),
    '--write',
    networkPath,
    '--sprint-ms',
    String(o.sprintMs),
    '--skew-ms',
    String(o.skewMs),
    '--start-in-ms',
    String(o.startInMs),
  ]);
  const hosts: Proc[] = [];
  const stop = async () => {
    for (const h of hosts) await stopProc(h);
    await stopProc(relay);
  };
  try {
    await waitForOutput(relay, /wrote /, 30_000);
    const json = JSON.parse(readFileSync(networkPath, 'utf8')) as { relays: string[]; genesis: unknown };
    const relayAddr = json.relays[0];
    if (!relayAddr) throw new Error('the relay wrote no address into network.json');
    o.hostSeeds.forEach((seed, i) => {
      hosts.push(
        spawnSprintnet(
          ['host', '--genesis', networkPath, '--relay', relayAddr, '--data', join(dir, `host-${i}`), '--backend', 'cpu', '--label', `e2e-host-${i}`],
          { SPRINTNET_SEED: seed },
        ),
      );
    });
    for (const h of hosts) await waitForOutput(h, /protocol: network /, 60_000);
    return { relay, hosts, json, genesis: genesisFromJson(json.genesis), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
