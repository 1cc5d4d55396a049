/**
 * The ledger follower in a real browser (docs/protocol.md §15a): a relay with a demo genesis (open
 * join, 4 s Sprint) and one headless host, which alone takes part and certifies epoch 0. A page
 * that only opens Network & ledger (it never takes part) follows the ledger: it shows the host's
 * certified state hash and a weights table with the host alone — the page committed, proved and
 * voted nothing, or open join would have given it a row. Then the page starts contributing: the
 * follower hands over to the Sprint runtime on the same IndexedDB store, and the screen goes on
 * showing the certified epoch, now from the runtime. A second tab of the same profile, which cannot
 * take part while the first holds the GPU lock, shows the certified ledger through its own follower.
 */
import { expect, test } from '@playwright/test';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { schedule } from '../src/protocol/genesis.ts';
import { startLocalNetwork, waitForOutput, type LocalNetwork } from './network-helpers.ts';
import { takePart } from './protocol-helpers.ts';
import { openScreen } from './shell-helpers.ts';
import { closeNetworkPages, openNetworkPage, webrtcLaunchOptions } from './support/pages.ts';

test.use({ launchOptions: webrtcLaunchOptions });

const HOST_SEED = '1f'.repeat(32);
let localNetwork: LocalNetwork | undefined;

test.afterAll(async () => {
  await closeNetworkPages();
  await localNetwork?.stop();
});

test('a page that does not take part follows the certified ledger, then hands over to Contribute', async ({ browser }) => {
  test.setTimeout(150_000);
  localNetwork = await startLocalNetwork({ sprintMs: 4_000, skewMs: 1_000, startInMs: 20_000, hostSeeds: [HOST_SEED] });
  const { json: network, genesis } = localNetwork;
  const host = localNetwork.hosts[0]!;
  const s0 = schedule(genesis, 0);

  const page = await openNetworkPage(browser, network, { mnemonic: vectorsFile.vectors[0]!.mnemonic, name: 'follower', path: '/?engine-test' });
  await openScreen(page, 'network');
  const source = page.getByTestId('ledger-source');
  await expect(source).toHaveAttribute('data-mode', /opening|following/, { timeout: 20_000 });

  const certified = await waitForOutput(host, /ledger epoch 0: certified state ([0-9a-f]{16})/, s0.end - Date.now() + 30_000);
  const ledger = page.getByTestId('ledger');
  await expect(ledger).toHaveAttribute('data-certificate', 'certified', { timeout: 30_000 });
  await expect(source).toHaveAttribute('data-source', 'follower');
  await expect(ledger).toHaveAttribute('data-epoch', '0');
  expect(await ledger.getAttribute('data-hash')).toMatch(new RegExp(`^${certified[1]}`));
  const keys = await page.getByTestId('ledger-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
  console.log(`follower: epoch 0 certified ${certified[1]}, rows ${keys.map((k) => k!.slice(0, 8)).join(', ')}`);
  expect(keys).toHaveLength(1); // the host alone took part

  // Contribute: the runtime takes the follower's store and state; the screen now reads the runtime.
  const at = Date.now();
  await takePart(page);
  await openScreen(page, 'network');
  await expect(source).toHaveAttribute('data-source', 'runtime', { timeout: 20_000 });
  await expect(source).toHaveAttribute('data-mode', 'handed-over');
  await expect(ledger).toHaveAttribute('data-certificate', /certified|adopted/);
  const epoch = Number(await ledger.getAttribute('data-epoch'));
  if (epoch === 0) expect(await ledger.getAttribute('data-hash')).toMatch(new RegExp(`^${certified[1]}`));
  console.log(`handed over to Contribute in ${((Date.now() - at) / 1000).toFixed(1)} s; the runtime shows epoch ${epoch}`);

  // A second tab of the same profile: the first holds the GPU lock, so this one does not take part; it follows.
  const tab = await page.context().newPage();
  await tab.goto('/?engine-test');
  await openScreen(tab, 'network');
  const tabLedger = tab.getByTestId('ledger');
  await expect(tab.getByTestId('ledger-source')).toHaveAttribute('data-source', 'follower', { timeout: 30_000 });
  await expect(tabLedger).toHaveAttribute('data-certificate', /certified|adopted/, { timeout: 30_000 });
  const tabEpoch = Number(await tabLedger.getAttribute('data-epoch'));
  expect(tabEpoch).toBeGreaterThanOrEqual(0);
  if (tabEpoch === 0) expect(await tabLedger.getAttribute('data-hash')).toMatch(new RegExp(`^${certified[1]}`));
  await expect(page.getByTestId('ledger-source')).toHaveAttribute('data-source', 'runtime');
  console.log(`the second tab (no GPU lock) follows: epoch ${tabEpoch} certified`);
});
