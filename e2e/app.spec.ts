import { expect, test } from '@playwright/test';

test('the app loads and finds WebGPU on SwiftShader', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sprintnet' })).toBeVisible();
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
