import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { VALIDATION_TOLERANCE } from '../src/sprint/validate.ts';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { restoreWallet, serveNetwork, soloNetwork, takePart } from './protocol-helpers.ts';
import { agreeBeforeLoad } from './shell-helpers.ts';
import { at } from '../src/sprint/indexing.ts';

interface VectorConfig {
  config: string;
  sprintSeed: string;
  publicKey: string;
  rTarget: number;
  nonces: { nonce: number; distance: number; appropriate: boolean }[];
}
const vectors = JSON.parse(readFileSync(new URL('../docs/sprint-vectors.json', import.meta.url), 'utf8')) as { configs: VectorConfig[] };

// The Sprint view is on the Contribute screen, where a volunteer who has agreed lands (issue 11).
test.beforeEach(({ page }) => agreeBeforeLoad(page));

test('the page is cross-origin isolated, also when the service worker serves it', async ({ page }) => {
  await page.goto('/');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});

for (const config of ['tiny', 'canonical']) {
  test(`the CPU backend in the engine Worker (nested Workers, shared memory) matches the reference on ${config}`, async ({ page }) => {
    test.setTimeout(300_000);
    const v = vectors.configs.find((c) => c.config === config)!;
    await page.goto('/?engine-test');
    await page.waitForFunction(() => window.__sprintnetEngine !== undefined);
    const wanted = v.nonces.slice(0, config === 'tiny' ? 8 : 2);
    const result = await page.evaluate(({ name, seed, key, nonces }) => window.__sprintnetEngine!.evaluate(name, seed, key, nonces, 'cpu'), {
      name: config,
      seed: v.sprintSeed,
      key: v.publicKey,
      nonces: wanted.map((n) => n.nonce),
    });
    console.log(
      `${config} on the CPU backend in the browser: ready ${(result.readyMs / 1000).toFixed(2)} s, ${wanted.length} nonces in ${(result.evaluateMs / 1000).toFixed(2)} s, ${result.info.adapter}`,
    );
    expect(result.info).toMatchObject({ backend: 'cpu', config });
    expect(result.info.threads).toBeGreaterThanOrEqual(1);
    wanted.forEach((ref, i) => {
      const distance = at(result.distances, i, 'distance');
      expect(Math.abs(distance - ref.distance)).toBeLessThanOrEqual(VALIDATION_TOLERANCE);
      expect(distance < v.rTarget).toBe(ref.appropriate);
    });
  });
}

test.describe('the backend setting', () => {
  // network.json is served by a route; a service worker would fetch it past the route.
  test.use({ serviceWorkers: 'block' });

  test('auto picks the CPU backend on SwiftShader and the Sprint view says which backend runs and why', async ({ page, context }) => {
    await serveNetwork(context, soloNetwork());
    await page.goto('/');
    await expect(page.getByTestId('sprint-backend')).toHaveValue('auto');
    await restoreWallet(page, vectorsFile.vectors[0]!.mnemonic);
    await takePart(page);
    await expect(page.getByTestId('sprint-engine-backend')).toHaveAttribute('data-backend', 'cpu', { timeout: 60_000 });
    await expect(page.getByTestId('sprint-engine-reason')).toContainText(/software renderer .*swiftshader/i);
    await expect.poll(async () => Number(await page.getByTestId('sprint-rate').getAttribute('data-rate')), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('sprint-stop').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
    // The setting: forced to WebGPU, the next build runs there.
    await page.getByTestId('sprint-backend').selectOption('webgpu');
    await page.getByTestId('sprint-start').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
    await expect(page.getByTestId('sprint-engine-backend')).toHaveAttribute('data-backend', 'webgpu', { timeout: 60_000 });
    await page.getByTestId('sprint-stop').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
    await page.reload();
    await expect(page.getByTestId('sprint-backend')).toHaveValue('webgpu');
  });
});
