import { expect, test } from '@playwright/test';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { agreeBeforeLoad } from './shell-helpers.ts';
import { restoreWallet, serveNetwork, soloNetwork, takePart } from './protocol-helpers.ts';

// The Sprint view sits on the Contribute screen, where an agreed volunteer lands.

test('the app loads and finds WebGPU on SwiftShader', async ({ page }) => {
  await agreeBeforeLoad(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sprintnet', exact: true })).toBeVisible();
  await expect(page.getByTestId('gpu-ready')).toContainText('WebGPU ready');
});

test('it is an installable PWA: manifest and an active service worker', async ({ page, request }) => {
  const res = await request.get('/manifest.webmanifest');
  expect(res.ok()).toBe(true);
  const manifest = await res.json();
  expect(manifest.name).toBe('Sprintnet');
  expect(manifest.display).toBe('standalone');
  expect(manifest.icons.length).toBeGreaterThan(0);
  await page.goto('/');
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(new URL('/', page.url()).href);
});

test.describe('the Sprint view on a network', () => {
  // network.json is served by a route; a service worker would fetch it past the route.
  test.use({ serviceWorkers: 'block' });

  test('a browser without WebGPU gets a clear message and takes part on the CPU backend; the wallet still works', async ({ page, context }) => {
    await agreeBeforeLoad(page);
    await serveNetwork(context, soloNetwork());
    await page.addInitScript(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await page.goto('/');
    await expect(page.getByTestId('gpu-missing')).toContainText('This browser has no WebGPU. Use Chrome or Edge 113 or newer');
    await expect(page.getByTestId('gpu-missing')).toContainText('The CPU engine (WebAssembly) runs the Sprints instead, slowly.');
    await expect(page.getByTestId('gpu-ready')).toHaveCount(0);
    await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
    // Finds and weight belong to a wallet's key: without one the view says so and cannot start.
    await expect(page.getByTestId('sprint-readiness')).toHaveAttribute('data-state', 'no-wallet');
    await expect(page.getByTestId('sprint-start')).toBeDisabled();
    await restoreWallet(page, vectorsFile.vectors[0]!.mnemonic);
    // Issue 14: without WebGPU the auto choice is the CPU backend, and the view says so.
    await takePart(page);
    await expect(page.getByTestId('sprint-engine-backend')).toHaveAttribute('data-backend', 'cpu', { timeout: 60_000 });
    // The init script hides WebGPU from the page only: the engine Worker still sees SwiftShader.
    await expect(page.getByTestId('sprint-engine-reason')).toContainText(/WebGPU is not available here|software renderer/);
    // Outside the folded technical details too.
    await expect(page.getByTestId('engine-on-cpu')).toContainText(
      /^Sprints run on the CPU engine \(WebAssembly, \d+ threads?\): .*(WebGPU is not available here|software renderer)/,
    );
    await expect(page.getByTestId('sprint-phase')).toHaveAttribute('data-phase', 'Sprint');
    await expect.poll(async () => Number(await page.getByTestId('sprint-found-count').textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('sprint-stop').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  });

  test('without a genesis the view says there is no network; a refused genesis is named', async ({ page, context }) => {
    await agreeBeforeLoad(page);
    // Not the site's own network.json: a local `npm start` writes one with a genesis.
    await serveNetwork(context, { networkId: 'sprintnet-local', relays: [] });
    await page.goto('/');
    await expect(page.getByTestId('sprint-readiness')).toHaveAttribute('data-state', 'no-network');
    await expect(page.getByTestId('sprint-readiness')).toContainText('Not connected to a Sprintnet network');
    await expect(page.getByTestId('sprint-start')).toBeDisabled();

    const network = soloNetwork() as { genesis: Record<string, unknown> };
    await context.unrouteAll();
    await serveNetwork(context, { ...network, genesis: { ...network.genesis, config: 'huge' } });
    await page.reload();
    await expect(page.getByTestId('sprint-readiness')).toHaveAttribute('data-state', 'bad-genesis');
    await expect(page.getByTestId('sprint-readiness')).toContainText("unknown Sprint config 'huge'");
  });
});

test('a WebGPU without any adapter is reported as such', async ({ page }) => {
  await agreeBeforeLoad(page);
  await page.addInitScript(() => {
    Object.defineProperty(GPU.prototype, 'requestAdapter', { value: async () => null });
  });
  await page.goto('/');
  await expect(page.getByTestId('gpu-missing')).toContainText('no GPU adapter is available');
});

test('once installed, the app shell loads offline from the service worker cache', async ({ page, context }) => {
  await page.goto('/');
  await page.evaluate(async () => navigator.serviceWorker.ready);
  // The first visit is not controlled yet; the precache is complete once the worker is active.
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await context.setOffline(true);
  try {
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Sprintnet', exact: true })).toBeVisible();
    await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  } finally {
    await context.setOffline(false);
  }
});
