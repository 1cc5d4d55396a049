import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { CONFIGS } from '../src/sprint/config.ts';
import { memoryNeed } from '../src/ui/welcome/memory.ts';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { openScreen } from './shell-helpers.ts';
import { serveNetwork, soloNetwork, submitRestore } from './protocol-helpers.ts';
import { at } from '../src/sprint/indexing.ts';

const known = at(vectorsFile.vectors, 0, 'test vector');

/** Restores the known test wallet on the Wallet screen (real scrypt cost). */
async function restoreKnownWallet(page: Page) {
  await openScreen(page, 'wallet');
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  await submitRestore(page, known.mnemonic);
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  await expect(page.getByTestId('wallet-address')).toHaveText(known.address);
}

test('first visit: the welcome explains the load and shows the compatibility report; consent is remembered', async ({ page, context }) => {
  // No genesis (a local `npm start` writes one into the build): the figures are the canonical model's.
  // The first load is not yet under the service worker, so the route serves it.
  await serveNetwork(context, { networkId: 'sprintnet-local', relays: [] });
  await page.goto('/');
  await expect(page.getByTestId('screen-welcome')).toBeVisible();
  await expect(page.getByTestId('screen-welcome')).toContainText('It uses your GPU at full power while contributing; laptops get warm and batteries drain.');
  // The memory figure is the engine's own layout of the canonical model, not a constant.
  const need = memoryNeed(CONFIGS.canonical).minimumBytes;
  await expect(page.getByTestId('welcome-memory')).toHaveAttribute('data-from-network', 'false');
  await expect(page.getByTestId('welcome-memory')).toHaveAttribute('data-bytes', String(need));
  await expect(page.getByTestId('welcome-ops')).toContainText('Each try is 4.84 billion arithmetic operations');
  await expect(page.getByTestId('welcome-memory')).toContainText(`${(need / 2 ** 20).toFixed(1)} MiB`);

  // Headless Chromium runs WebGPU on SwiftShader: named, and warned about.
  const report = page.getByTestId('compat-report');
  await expect(report).toHaveAttribute('data-kind', 'adapter');
  await expect(page.getByTestId('compat-vendor')).toHaveText('google');
  await expect(page.getByTestId('compat-description')).toContainText(/swiftshader/i);
  await expect(page.getByTestId('compat-verdict')).toHaveText('Software GPU (SwiftShader): contributing will be very slow.');
  await expect(page.getByTestId('compat-software')).toContainText('Software GPU: contributing will be very slow.');
  await expect(page.getByTestId('compat-memory')).toHaveAttribute('data-bytes', String(need));
  await expect(page.getByTestId('compat-fits')).toHaveAttribute('data-fits', 'true');

  // Contribute waits for the agreement.
  await openScreen(page, 'contribute');
  await expect(page.getByTestId('contribute-needs-consent')).toBeVisible();
  await expect(page.getByTestId('sprint-panel')).toHaveCount(0);
  await openScreen(page, 'welcome');
  await page.getByTestId('consent-accept').click();
  await expect(page.getByTestId('screen-contribute')).toBeVisible();
  await expect(page.getByTestId('sprint-panel')).toBeVisible();
  await expect(page.getByTestId('compat-notice')).toContainText('contributing will be very slow');

  // Remembered: the next visit opens on Contribute, and the welcome says when it was given.
  await page.goto('/');
  await expect(page.getByTestId('screen-contribute')).toBeVisible();
  await expect(page.getByTestId('screen-welcome')).toBeHidden();
  await openScreen(page, 'welcome');
  await expect(page.getByTestId('consent-given')).toBeVisible();
  await page.getByTestId('consent-withdraw').click();
  await expect(page.getByTestId('consent-ask')).toBeVisible();
  await page.goto('/');
  await expect(page.getByTestId('screen-welcome')).toBeVisible();
});

test('no WebGPU: advice a person can follow, and the wallet still works', async ({ page }) => {
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  await page.goto('/');
  await expect(page.getByTestId('compat-report')).toHaveAttribute('data-kind', 'no-webgpu');
  const advice = page.getByTestId('advice-no-webgpu');
  await expect(advice).toContainText('Chrome or Edge 113 or newer');
  await expect(advice).toContainText('Use graphics acceleration when available');
  await expect(advice).toContainText('Safari');
  await expect(advice).toContainText('Firefox');
  // The page is cross-origin isolated, so the CPU engine is offered instead.
  await expect(page.getByTestId('compat-verdict')).toContainText('on the processor instead, but very slowly');
  await restoreKnownWallet(page);
});

test('no GPU adapter: advice to turn on acceleration or update the driver, and the wallet still works', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(GPU.prototype, 'requestAdapter', { value: async () => null });
  });
  await page.goto('/');
  await expect(page.getByTestId('compat-report')).toHaveAttribute('data-kind', 'no-adapter');
  const advice = page.getByTestId('advice-no-adapter');
  await expect(advice).toContainText('did not hand it a graphics card');
  await expect(advice).toContainText('chrome://gpu');
  await expect(advice).toContainText('graphics driver');
  await restoreKnownWallet(page);
  // The short address is shown, the full one sits in the details view.
  await expect(page.getByTestId('wallet-address-short')).toHaveText(`${known.address.slice(0, 9)}…${known.address.slice(-6)}`);
  await expect(page.getByTestId('wallet-address')).toBeHidden();
  await page.getByTestId('wallet-details').locator('summary').click();
  await expect(page.getByTestId('wallet-address')).toBeVisible();
  await expect(page.getByTestId('wallet-peer-id')).toHaveText(known.peerId);
});

test('offline after a first visit: the app shell loads from the service worker and says it is offline', async ({ page, context }) => {
  await page.goto('/');
  await page.evaluate(async () => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByTestId('offline-notice')).toHaveCount(0);
  await context.setOffline(true);
  try {
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Sprintnet', exact: true })).toBeVisible();
    await expect(page.getByTestId('offline-notice')).toContainText('Offline');
    await openScreen(page, 'wallet');
    await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  } finally {
    await context.setOffline(false);
  }
  await expect(page.getByTestId('offline-notice')).toHaveCount(0);
});

test('technical words link to the glossary', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('screen-welcome').getByRole('link', { name: 'Weight' }).click();
  await expect(page.getByTestId('screen-help')).toBeVisible();
  await expect(page).toHaveURL(/#\/help\/weight$/);
  await expect(page.locator('#term-weight')).toBeFocused();
  await expect(page.getByTestId('glossary')).toContainText('the number of your finds that other computers checked and accepted');
});

test('settings: network addresses are checked and kept across a reload', async ({ page }) => {
  await page.goto('/#/settings');
  await page.getByTestId('settings-bootstrap').fill('relay.example.org:443');
  await page.getByTestId('settings-network-save').click();
  await expect(page.getByTestId('settings-network-message')).toContainText('Not saved: line 1, "relay.example.org:443", is not an address');
  const relay = '/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooWKtTwDkNzhrqXZ4NM5BZ3FAR4fLH16XiUvmLvc9Su1sGN';
  await page.getByTestId('settings-bootstrap').fill(relay);
  await page.getByTestId('settings-ice').fill('stun:stun.example.org:3478\nturn:turn.example.org:3478 alice pw');
  await page.getByTestId('settings-network-save').click();
  await expect(page.getByTestId('settings-network-message')).toContainText('Saved in this browser.');
  await page.reload();
  await expect(page.getByTestId('settings-bootstrap')).toHaveValue(relay);
  await expect(page.getByTestId('settings-ice')).toHaveValue('stun:stun.example.org:3478\nturn:turn.example.org:3478 alice pw');
  // Participation needs the agreement first.
  await expect(page.getByTestId('settings-participation')).toBeDisabled();
});

test.describe('with a network', () => {
  // The routed network.json must reach the page, not the service worker's cache.
  test.use({ serviceWorkers: 'block' });

  test('the welcome’s figures and the compatibility report follow the network’s model', async ({ page }) => {
    await serveNetwork(page.context(), soloNetwork()); // tiny
    await page.goto('/');
    const need = memoryNeed(CONFIGS.tiny).minimumBytes;
    const memory = page.getByTestId('welcome-memory');
    await expect(memory).toHaveAttribute('data-from-network', 'true');
    await expect(memory).toHaveAttribute('data-config', 'tiny');
    await expect(memory).toHaveAttribute('data-bytes', String(need));
    await expect(memory).toContainText(`This network’s model (tiny) takes ${(need / 2 ** 10).toFixed(1)} KiB`);
    await expect(page.getByTestId('welcome-ops')).toContainText('Each try is 852 thousand arithmetic operations');
    await expect(page.getByTestId('compat-memory')).toHaveAttribute('data-config', 'tiny');
    await expect(page.getByTestId('compat-memory')).toHaveAttribute('data-bytes', String(need));
    await expect(page.getByTestId('compat-fits')).toHaveAttribute('data-fits', 'true');
  });

  test('data reset: confirmation, an offer to save the keystore first, then everything is gone', async ({ page }) => {
    // A genesis is known, so a ledger follower could open its store: it must not from page load (only
    // once Network & ledger is shown), or the reset's fresh start would recreate that database.
    await serveNetwork(page.context(), soloNetwork());
    await page.goto('/');
    await page.getByTestId('consent-accept').click();
    await restoreKnownWallet(page);
    await openScreen(page, 'settings');
    await page.getByTestId('settings-bootstrap').fill('/dns4/relay.example.org/tcp/443/wss');
    await page.getByTestId('settings-network-save').click();
    const protocolDatabases = () =>
      page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('sprintnet-protocol')));
    expect(await protocolDatabases()).toEqual([]);
    await page.getByTestId('reset-start').click();
    await expect(page.getByTestId('reset-confirm')).toBeDisabled();
    const downloading = page.waitForEvent('download');
    await page.getByTestId('reset-export').click();
    expect((await downloading).suggestedFilename()).toBe(`sprintnet-keystore-${known.address}.json`);
    await page.getByTestId('reset-understood').check();
    await page.getByTestId('reset-confirm').click();
    await expect(page.getByTestId('reset-notice')).toHaveText('All Sprintnet data in this browser was deleted.');
    await expect(page.getByTestId('screen-settings')).toBeVisible();
    await expect(page.getByTestId('settings-bootstrap')).toHaveValue('');
    await openScreen(page, 'wallet');
    await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
    await openScreen(page, 'welcome');
    await expect(page.getByTestId('consent-ask')).toBeVisible();
    const left = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('sprintnet')));
    // The wallet store reopens its (now empty) database at start-up; nothing else is recreated.
    expect(left.filter((n) => n !== 'sprintnet')).toEqual([]);
  });
});

test('a new version is offered, never forced: the page reloads only when the volunteer presses Update', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(async () => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
  // A deploy: the served service worker changes by one byte (Playwright cannot route the browser's own worker fetches).
  const sw = new URL('../dist/sw.js', import.meta.url);
  const original = readFileSync(sw);
  try {
    writeFileSync(sw, Buffer.concat([original, Buffer.from(`\n// e2e: next version ${Date.now()}\n`)]));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    await expect(page.getByTestId('update-prompt')).toContainText('An update of Sprintnet is available.');
    await expect(page.getByTestId('update-prompt')).toContainText('it will not interrupt a running Sprint');
    await page.waitForTimeout(2000);
    expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
    const reloaded = page.waitForEvent('load');
    await page.getByTestId('update-apply').click();
    await reloaded;
    expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBeUndefined();
    await expect(page.getByTestId('update-prompt')).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Sprintnet', exact: true })).toBeVisible();
  } finally {
    writeFileSync(sw, original);
  }
});
