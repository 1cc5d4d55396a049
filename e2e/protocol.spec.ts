/**
 * The Sprint protocol end to end (issue 10): the local relay writes network.json with a demo
 * genesis (tiny, open join, a 30 s Sprint), a headless host runs on that genesis (CPU backend), and
 * two browser volunteers (two contexts, two wallets) take part. Epoch 0 runs through commit,
 * reveal, the Sprint, proofs, validation and votes. One page is reloaded in the middle of the
 * Sprint: it comes back with its wallet locked, resumes the search with every nonce it had found,
 * and its proof, signed after the unlock, claims all of them. Both pages then show the same
 * certified weights table as the host.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { schedule } from '../src/protocol/genesis.ts';
import { startLocalNetwork, waitForOutput, type LocalNetwork, type Proc } from './network-helpers.ts';
import { findsOf, snapshot, takePart, unlockWallet } from './protocol-helpers.ts';
import { closeNetworkPages, openNetworkPage, webrtcLaunchOptions } from './support/pages.ts';

test.use({ launchOptions: webrtcLaunchOptions });

/**
 * Long enough for a reload, the resume, a passphrase unlock (scrypt, 14 s seen while three CPU engines
 * share two cores) and the node's restart under the wallet's identity, all before the Sprint ends.
 */
const SPRINT_MS = 30_000;
/** From the relay's start to epoch 0: two pages restore wallets and join before its commit window closes. */
const START_IN_MS = 35_000;
/**
 * Clock-skew tolerance. Gossip stamped more than this before it arrives is refused (the live rule);
 * with three CPU engines on two cores a page's main thread can take over half a second between
 * stamping a proof and sending it, so 500 ms lost proofs here.
 */
const SKEW_MS = 1_500;
const HOST_SEED = '0e'.repeat(32);

async function volunteer(browser: Browser, network: unknown, mnemonic: string): Promise<Page> {
  const page = await openNetworkPage(browser, network, { mnemonic, name: 'page', path: '/?engine-test#/contribute' });
  await takePart(page);
  return page;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

let localNetwork: LocalNetwork | undefined;
let host: Proc | undefined;

test.afterAll(async () => {
  await closeNetworkPages();
  await localNetwork?.stop();
  if (host)
    console.log(
      host.output
        .join('')
        .split('\n')
        .filter((l) => /ledger|proof|validated|certified|failed|Refused/.test(l))
        .join('\n'),
    );
  if (host && process.env.SPRINTNET_E2E_HOST_LOG) writeFileSync(process.env.SPRINTNET_E2E_HOST_LOG, host.output.join(''));
});

test('two browsers and a headless host certify an epoch; a reload mid-Sprint loses no find', async ({ browser }) => {
  test.setTimeout(300_000);
  // The relay's network.json, and a headless host (CPU backend) up on its genesis.
  localNetwork = await startLocalNetwork({ sprintMs: SPRINT_MS, skewMs: SKEW_MS, startInMs: START_IN_MS, hostSeeds: [HOST_SEED] });
  const { json: network, genesis } = localNetwork;
  host = localNetwork.hosts[0]!;
  expect(genesis).toMatchObject({ config: 'tiny', initialWeights: [] });
  expect(genesis.timings.sprintMs).toBe(SPRINT_MS);
  expect(host.output.join('')).toMatch(/protocol: network sprintnet-local/);
  const s0 = schedule(genesis, 0);

  const [first, second] = vectorsFile.vectors;
  const a = await volunteer(browser, network, first!.mnemonic);
  const b = await volunteer(browser, network, second!.mnemonic);
  const slack = s0.commitEnd - Date.now();
  console.log(`both volunteers take part ${(slack / 1000).toFixed(1)} s before epoch 0's commit window closes`);
  expect(slack).toBeGreaterThan(0);
  await expect(a.getByTestId('sprint-network')).toHaveAttribute('data-online', 'true');

  // Mid-Sprint: A has found nonces; it reloads.
  await sleepUntil(s0.sprintStart + 2_000);
  await expect.poll(() => findsOf(a, 0), { timeout: SPRINT_MS }).not.toEqual([]);
  const before = await findsOf(a, 0);
  expect(Date.now()).toBeLessThan(s0.sprintEnd - 3_000);
  const reloadAt = Date.now();
  const since = () => `${((Date.now() - reloadAt) / 1000).toFixed(1)} s after the reload`;
  await a.reload();

  // Back with the wallet locked: it resumes by itself, with every find, and keeps searching.
  await expect(a.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  console.log(`running again ${since()}`);
  await expect.poll(async () => (await findsOf(a, 0)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(before.length);
  console.log(`${before.length} finds restored ${since()}`);
  expect(await findsOf(a, 0)).toEqual(expect.arrayContaining(before));
  expect((await snapshot(a))!.runtime!.searching || Date.now() > s0.sprintEnd).toBe(true);
  await unlockWallet(a);
  console.log(`unlocked ${since()}; the proof window closes ${((s0.proofEnd - Date.now()) / 1000).toFixed(1)} s later`);
  expect(Date.now()).toBeLessThan(s0.proofEnd);
  const afterReload = await findsOf(a, 0);
  await a.getByTestId('nav-contribute').click();

  // Both pages and the host derive the same state for epoch 0, and it is certified.
  const ledgerOf = (p: Page) => p.getByTestId('ledger');
  for (const p of [a, b]) {
    await expect(ledgerOf(p)).toHaveAttribute('data-epoch', '0', { timeout: s0.end - Date.now() + 30_000 });
    await expect(ledgerOf(p)).toHaveAttribute('data-certificate', /certified|adopted/, { timeout: 30_000 });
  }
  const hashA = await ledgerOf(a).getAttribute('data-hash');
  expect(hashA).toMatch(/^[0-9a-f]{64}$/);
  expect(await ledgerOf(b).getAttribute('data-hash')).toBe(hashA);
  await waitForOutput(host, new RegExp(`ledger epoch 0: certified state ${hashA!.slice(0, 16)}`), 30_000);
  await expect(b.getByTestId('ledger-certificate')).toContainText('certified');

  // The same table on both pages: three hosts, each accepted; A's proof claims every find of A.
  const rows = async (p: Page) =>
    p
      .getByTestId('ledger-row')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-key'), e.getAttribute('data-weight'), e.getAttribute('data-claimed'), e.getAttribute('data-flags')]),
      );
  const table = await rows(a);
  const keyB = (await snapshot(b))!.runtime!.publicKey;
  console.log(table.map(([k, w, c, f]) => `${k === keyB ? 'B' : 'A or host'} ${k!.slice(0, 8)}: weight ${w}, claimed ${c}, ${f}`).join('\n'));
  console.log(
    `messages refused by A: ${JSON.stringify((await snapshot(a))!.runtime!.rejected)}, by B: ${JSON.stringify((await snapshot(b))!.runtime!.rejected)}`,
  );
  expect(await rows(b)).toEqual(table);
  expect(table).toHaveLength(3);
  for (const [, weight, , flags] of table) {
    expect(flags).toBe('accepted');
    expect(Number(weight)).toBeGreaterThan(0);
  }
  const keyA = (await snapshot(a))!.runtime!.publicKey;
  const rowA = table.find(([key]) => key === keyA)!;
  expect(Number(rowA[2])).toBeGreaterThanOrEqual(afterReload.length);
  expect(afterReload.length).toBeGreaterThanOrEqual(before.length);
});
