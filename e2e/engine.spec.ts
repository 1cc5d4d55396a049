import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { VALIDATION_TOLERANCE } from '../src/sprint/validate.ts';
import { agreeBeforeLoad } from './shell-helpers.ts';

interface VectorNonce {
  nonce: number;
  distance: number;
}
interface VectorConfig {
  config: string;
  sprintSeed: string;
  publicKey: string;
  nonces: VectorNonce[];
}

/** CPU reference distances (bin/sprintnet vectors), so this test does not spend minutes on the CPU. */
const vectors = JSON.parse(readFileSync(new URL('../docs/sprint-vectors.json', import.meta.url), 'utf8')) as { configs: VectorConfig[] };
const canonical = vectors.configs.find((c) => c.config === 'canonical')!;

// The Sprint view is on the Contribute screen, where a volunteer who has agreed lands (issue 11).
test.beforeEach(({ page }) => agreeBeforeLoad(page));

test('the canonical engine in a Web Worker matches the CPU reference within the spec tolerance', async ({ page }) => {
  // 612 M weights generated and ~4.8 GFLOP per nonce on SwiftShader: minutes, not seconds.
  test.setTimeout(600_000);
  await page.goto('/?engine-test');
  await page.waitForFunction(() => window.__sprintnetEngine !== undefined);
  const wanted = canonical.nonces.slice(0, 2);
  const result = await page.evaluate(
    ({ seed, key, nonces }) => window.__sprintnetEngine!.evaluate('canonical', seed, key, nonces),
    { seed: canonical.sprintSeed, key: canonical.publicKey, nonces: wanted.map((n) => n.nonce) },
  );
  console.log(`canonical in the browser worker: ready ${(result.readyMs / 1000).toFixed(1)} s, ${wanted.length} nonces in ${(result.evaluateMs / 1000).toFixed(1)} s, ${result.info.variant} on ${result.info.adapter}`);
  expect(result.info.config).toBe('canonical');
  expect(result.phases).toEqual(expect.arrayContaining(['weights', 'compile']));
  wanted.forEach((ref, i) => {
    const diff = Math.abs(result.distances[i] - ref.distance);
    console.log(`nonce ${ref.nonce}: gpu ${result.distances[i]} cpu ${ref.distance} |diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(VALIDATION_TOLERANCE);
  });
});

test('a tiny practice Sprint: build progress, nonces/s > 0, finds, stop, and a reload keeps everything', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('gpu-ready')).toBeVisible();
  // The tiny build takes about a second: record what the panel shows instead of racing to see it.
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { __seen: Set<string> }).__seen = seen;
    const note = () => {
      const status = document.querySelector('[data-testid="sprint-status"]')?.textContent;
      if (status) seen.add(`status:${status}`);
      if (document.querySelector('[data-testid="sprint-build"]')) seen.add('build-progress');
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('sprint-config').selectOption('tiny');
  await page.getByTestId('sprint-start').click();
  await expect(page.getByTestId('sprint-status')).toHaveText('running', { timeout: 60_000 });
  await expect(page.getByTestId('sprint-seed')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId('sprint-key')).toHaveAttribute('data-source', 'ephemeral');
  await expect.poll(async () => Number(await page.getByTestId('sprint-rate').getAttribute('data-rate')), { timeout: 60_000 }).toBeGreaterThan(0);
  const seen = await page.evaluate(() => [...(window as unknown as { __seen: Set<string> }).__seen]);
  expect(seen).toEqual(expect.arrayContaining(['status:preparing', 'build-progress', 'status:running']));

  // Run until something is found (p = 1/900: about a thousand nonces), then stop.
  await expect.poll(async () => Number(await page.getByTestId('sprint-found-count').textContent()), { timeout: 120_000 }).toBeGreaterThan(0);
  await page.getByTestId('sprint-stop').click();
  await expect(page.getByTestId('sprint-status')).toHaveText('idle', { timeout: 60_000 });
  const tried = Number((await page.getByTestId('sprint-tried').textContent())!.replace(/,/g, ''));
  const seed = await page.getByTestId('sprint-seed').textContent();
  const foundRows = await page.getByTestId('sprint-found-list').locator('tbody tr').allTextContents();
  expect(foundRows.length).toBeGreaterThan(0);

  await page.reload();
  await expect(page.getByTestId('sprint-seed')).toHaveText(seed!);
  await expect(page.getByTestId('sprint-tried')).toHaveText(tried.toLocaleString('en-US'));
  await expect(page.getByTestId('sprint-start')).toHaveText(`Resume from nonce ${tried.toLocaleString('en-US')}`);
  expect(await page.getByTestId('sprint-found-list').locator('tbody tr').allTextContents()).toEqual(foundRows);
});

test('a lost GPU device mid-Sprint shows a typed error, keeps the progress, and Start resumes from it', async ({ page }) => {
  // WebGPU-specific: forced, since auto picks the CPU backend on SwiftShader.
  await page.goto('/?engine-test&backend=webgpu');
  await expect(page.getByTestId('gpu-ready')).toBeVisible();
  await page.getByTestId('sprint-config').selectOption('tiny');
  await page.getByTestId('sprint-start').click();
  const tried = async () => Number((await page.getByTestId('sprint-tried').textContent())!.replace(/,/g, ''));
  await expect.poll(tried, { timeout: 60_000 }).toBeGreaterThan(0);

  await page.evaluate(() => window.__sprintnetEngine!.loseDevice());
  await expect(page.getByTestId('sprint-error')).toHaveAttribute('data-code', 'DEVICE_LOST', { timeout: 60_000 });
  await expect(page.getByTestId('sprint-error')).toContainText('GPU device lost');
  await expect(page.getByTestId('sprint-status')).toHaveText('error');
  const savedAt = await tried();
  expect(savedAt).toBeGreaterThan(0);
  await expect(page.getByTestId('sprint-start')).toHaveText(`Resume from nonce ${savedAt.toLocaleString('en-US')}`);

  await page.getByTestId('sprint-start').click();
  await expect(page.getByTestId('sprint-status')).toHaveText('running', { timeout: 60_000 });
  await expect(page.getByTestId('sprint-error')).toHaveCount(0);
  await expect.poll(tried, { timeout: 60_000 }).toBeGreaterThan(savedAt);
  await page.getByTestId('sprint-stop').click();
  await expect(page.getByTestId('sprint-status')).toHaveText('idle', { timeout: 60_000 });
});
