import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { VALIDATION_TOLERANCE } from '../src/sprint/validate.ts';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { findsOf, restoreWallet, serveNetwork, soloNetwork, takePart } from './protocol-helpers.ts';
import { agreeBeforeLoad } from './shell-helpers.ts';
import { at } from '../src/sprint/indexing.ts';

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
  const result = await page.evaluate(({ seed, key, nonces }) => window.__sprintnetEngine!.evaluate('canonical', seed, key, nonces), {
    seed: canonical.sprintSeed,
    key: canonical.publicKey,
    nonces: wanted.map((n) => n.nonce),
  });
  console.log(
    `canonical in the browser worker: ready ${(result.readyMs / 1000).toFixed(1)} s, ${wanted.length} nonces in ${(result.evaluateMs / 1000).toFixed(1)} s, ${result.info.variant} on ${result.info.adapter}`,
  );
  expect(result.info.config).toBe('canonical');
  expect(result.phases).toEqual(expect.arrayContaining(['weights', 'compile']));
  wanted.forEach((ref, i) => {
    const gpu = at(result.distances, i, 'distance');
    const diff = Math.abs(gpu - ref.distance);
    console.log(`nonce ${ref.nonce}: gpu ${gpu} cpu ${ref.distance} |diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(VALIDATION_TOLERANCE);
  });
});

test.describe('Sprints of a one-peer network', () => {
  // network.json is served by a route; a service worker would fetch it past the route.
  test.use({ serviceWorkers: 'block' });

  test('a tiny Sprint: nonces/s > 0 and finds; a reload with the wallet locked resumes with every find', async ({ page, context }) => {
    await serveNetwork(context, soloNetwork());
    await page.goto('/?engine-test');
    await restoreWallet(page, vectorsFile.vectors[0]!.mnemonic);
    await takePart(page);
    await expect(page.getByTestId('sprint-seed')).toHaveText(/^[0-9a-f]{64}$/, { timeout: 60_000 });
    await expect(page.getByTestId('sprint-key')).toHaveText(vectorsFile.vectors[0]!.publicKey);
    await expect.poll(async () => Number(await page.getByTestId('sprint-rate').getAttribute('data-rate')), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(() => findsOf(page, 0), { timeout: 120_000 }).not.toEqual([]);
    const seed = await page.getByTestId('sprint-seed').textContent();
    const before = await findsOf(page, 0);
    // Opened, the finds list the newest LISTED_FINDS (200, FoundNoncesDetails.tsx); more may have come in since `before`.
    await page.getByTestId('found-nonces').locator('summary').click();
    // The rows render on the toggle event, after the click returns.
    await expect(page.getByTestId('sprint-found-list').locator('tbody tr').first()).toBeVisible();
    const rows = await page.getByTestId('sprint-found-list').locator('tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(Math.min(200, before.length));
    expect(rows).toBeLessThanOrEqual(200);

    await page.reload();
    await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
    // Taking part is remembered: the search resumes by itself, with the public key only.
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
    await expect(page.getByTestId('sprint-seed')).toHaveText(seed!, { timeout: 60_000 });
    await expect.poll(async () => (await findsOf(page, 0)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(before.length);
    expect(await findsOf(page, 0)).toEqual(expect.arrayContaining(before));
    await page.getByTestId('sprint-stop').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  });

  test('WebGPU: build progress shows; a lost device mid-Sprint is reported, the engine rebuilt and the search resumed with every find', async ({
    page,
    context,
  }) => {
    await serveNetwork(context, soloNetwork());
    // WebGPU-specific: forced, since auto picks the CPU backend on SwiftShader.
    await page.goto('/?engine-test&backend=webgpu');
    await expect(page.getByTestId('gpu-ready')).toBeVisible();
    await restoreWallet(page, vectorsFile.vectors[1]!.mnemonic);
    // The tiny build takes about a second: record what the panel shows instead of racing to see it.
    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { __seen: Set<string> }).__seen = seen;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="sprint-build"]')) seen.add('build-progress');
        if (document.querySelector('[data-testid="sprint-engine-backend"][data-backend="webgpu"]')) seen.add('engine:webgpu');
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await takePart(page);
    const tried = async () => Number((await page.getByTestId('sprint-tried').textContent())!.replace(/,/g, ''));
    await expect.poll(tried, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await page.evaluate(() => [...(window as unknown as { __seen: Set<string> }).__seen])).toEqual(
      expect.arrayContaining(['build-progress', 'engine:webgpu']),
    );
    await expect.poll(() => findsOf(page, 0), { timeout: 120_000 }).not.toEqual([]);

    const before = await findsOf(page, 0);
    const triedBefore = await tried();
    await page.evaluate(() => window.__sprintnetEngine!.loseDevice());
    await expect(page.getByTestId('sprint-error')).toHaveAttribute('data-code', 'DEVICE_LOST', { timeout: 60_000 });
    await expect(page.getByTestId('sprint-error')).toHaveAttribute('data-recovered', 'true');
    await expect(page.getByTestId('sprint-error')).toContainText('GPU device lost');
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running');
    await expect.poll(tried, { timeout: 60_000 }).toBeGreaterThan(triedBefore);
    expect(await findsOf(page, 0)).toEqual(expect.arrayContaining(before));
    await page.getByTestId('sprint-stop').click();
    await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  });
});
