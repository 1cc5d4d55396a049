/**
 * The local network of the specs where a headless host serves a model beside a ledger (split's CU
 * test, inference-validator): a relay, a genesis in which one key holds all the weight, and the wait
 * for a moment from which a session's proof still lands in its epoch.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epochAt, fastTimings, genesisToJson, makeGenesis, schedule, type Genesis } from '../../src/protocol/genesis.ts';
import { freePort, spawnSprintnet, stopProc, waitForOutput, type Proc } from '../network-helpers.ts';

export interface WeightedNetwork {
  readonly relay: Proc;
  readonly relays: string[];
  readonly genesis: Genesis;
  /** Written to dir/genesis.json, for `host --genesis`. */
  readonly genesisPath: string;
  /** network.json for pages (protocol-helpers' serveNetwork, pages' openNetworkPage). */
  readonly network: { networkId: string; relays: string[]; genesis: unknown };
}

/**
 * A relay in `dir` and a tiny genesis whose only weight (100) is `weightedKey`'s, so that key can
 * judge from the first epoch; epoch 0 starts `startInMs` from now, with 8 s Sprints. The relay is
 * stopped when it fails to start; after that it is the caller's to stop.
 */
export async function startWeightedNetwork(dir: string, o: { weightedKey: Uint8Array; startInMs: number }): Promise<WeightedNetwork> {
  const relay = spawnSprintnet(['relay', '--port', String(await freePort()), '--write', join(dir, 'relay.json')]);
  try {
    await waitForOutput(relay, /wrote /, 30_000);
  } catch (e) {
    await stopProc(relay);
    throw e;
  }
  const relays = (JSON.parse(readFileSync(join(dir, 'relay.json'), 'utf8')) as { relays: string[] }).relays;
  const genesis = makeGenesis({
    networkId: 'sprintnet-local',
    config: 'tiny',
    hitRateDenominator: 64,
    startMs: Date.now() + o.startInMs,
    skewMs: 500,
    timings: fastTimings(8_000, 500),
    initialWeights: [{ publicKey: o.weightedKey, weight: 100 }],
  });
  const genesisPath = join(dir, 'genesis.json');
  writeFileSync(genesisPath, JSON.stringify(genesisToJson(genesis)));
  return { relay, relays, genesis, genesisPath, network: { networkId: 'sprintnet-local', relays, genesis: genesisToJson(genesis) } };
}

/** Waits until an epoch has run 0.5 s and its proof deadline is more than `marginMs` away: a session begun now is proved inside that epoch. */
export async function waitForProofWindow(genesis: Genesis, marginMs: number): Promise<void> {
  for (;;) {
    const now = Date.now();
    const s = schedule(genesis, Math.max(0, epochAt(genesis, now)));
    if (now >= s.start + 500 && now < s.proofEnd - marginMs) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
