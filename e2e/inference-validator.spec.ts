/**
 * The browser as validator of private split inference (issue 13): the only key with weight is a
 * browser page's wallet; it takes part (Contribute) and loads the same model folder a headless
 * volunteer (`host --serve-model`, no weight) serves. A command-line user splits with that
 * volunteer; the volunteer publishes the proof; the page fetches the evidence from the volunteer
 * through the relay's circuit, re-runs its sample on its own engine, publishes "consistent", and
 * after the epoch closes its ledger credits the volunteer's key with inference CU. No headless
 * validator takes part.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { modelHostArgs } from '../src/cli/test-support.ts';
import { writeTestModel } from '../src/llm/test-model-files.ts';
import { identityFromEd25519Seed } from '../src/wallet/identity.ts';
import { spawnSprintnet, stopProc, waitForOutput, type Proc } from './network-helpers.ts';
import { restoreWallet, serveNetwork, takePart } from './protocol-helpers.ts';
import { agreeBeforeLoad, openScreen } from './shell-helpers.ts';
import { startWeightedNetwork, waitForProofWindow } from './support/weighted-network.ts';

const procs: Proc[] = [];
/** Playwright closes only its own fixtures' contexts: a page left open keeps searching and re-dialling in later tests. */
const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
  for (const p of procs.splice(0)) {
    console.log(
      p.output
        .join('')
        .split('\n')
        .filter((l) => /inference|judg|published|Relay|failed|error/i.test(l))
        .join('\n'),
    );
    await stopProc(p);
  }
});

test('a weighted browser page judges a headless volunteer’s inference proof, and its ledger credits the CU', async ({ browser }) => {
  test.setTimeout(420_000);
  const dir = mkdtempSync(join(tmpdir(), 'sprintnet-inference-validator-e2e-'));
  const modelDir = join(dir, 'model');
  writeTestModel(modelDir, { layers: 4, seed: 3 });
  const validator = vectorsFile.vectors[0]!;
  const { relay, relays, genesis, genesisPath, network } = await startWeightedNetwork(dir, {
    weightedKey: Uint8Array.from(Buffer.from(validator.publicKey, 'hex')),
    startInMs: 25_000,
  });
  procs.push(relay);
  const hostSeed = '4d'.repeat(32);
  const hostKey = Buffer.from((await identityFromEd25519Seed(Uint8Array.from(Buffer.from(hostSeed, 'hex')))).publicKey).toString('hex');
  const host = spawnSprintnet(modelHostArgs({ seed: hostSeed, relay: relays[0]!, genesisPath, dataDir: join(dir, 'host'), modelDir }));
  procs.push(host);
  const hostPeer = (await waitForOutput(host, /Host started, peer id (\S+);/, 90_000))[1]!;
  await waitForOutput(host, /serving split inference: model [0-9a-f]{16}…/, 90_000);

  const context = await browser.newContext({ serviceWorkers: 'block' });
  contexts.push(context);
  await agreeBeforeLoad(context);
  await serveNetwork(context, network);
  const page: Page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[validator] ${m.text()}`);
  });
  await page.goto('/?engine-test#/model');
  await restoreWallet(page, validator.mnemonic);
  await takePart(page);
  await openScreen(page, 'model');
  await page.getByTestId('llm-folder-input').setInputFiles(modelDir);
  await expect(page.getByTestId('llm-model')).toBeVisible({ timeout: 120_000 });

  // The session must open and be proved inside one epoch's [start, proof deadline): start well inside one.
  let published = false;
  for (let attempt = 0; attempt < 3 && !published; attempt++) {
    await waitForProofWindow(genesis, 15_000);
    const user = spawnSprintnet([
      'infer',
      '--model',
      modelDir,
      '--prompt',
      'Hello there',
      '--split',
      '2',
      '--max-tokens',
      '6',
      '--backend',
      'cpu',
      '--peer',
      hostPeer,
      '--relay',
      relays[0]!,
      '--json',
    ]);
    procs.push(user);
    const exit = await new Promise<number | null>((resolve) => user.child.once('exit', resolve));
    const out = user.output.join('');
    published = exit === 0 && /published for epoch \d+/.test(out);
    if (!published) console.log(`inference validator e2e: attempt ${attempt} did not publish (exit ${exit}): ${out.slice(-600)}`);
  }
  expect(published).toBe(true);

  await openScreen(page, 'network');
  const given = page.getByTestId('inference-verdicts-given');
  await expect(given.locator(`li[data-volunteer="${hostKey}"]`)).toHaveAttribute('data-verdict', 'consistent', { timeout: 90_000 });
  console.log(`inference validator e2e: ${await given.locator('li').first().textContent()}`);
  const row = page.locator(`[data-testid="inference-reputation-row"][data-key="${hostKey}"]`);
  await expect(row).toHaveAttribute('data-consistent', '1', { timeout: 30_000 });
  const cu = () =>
    page.evaluate((key) => window.__sprintnetEngine?.snapshot()?.runtime?.ledger?.rows.find((r) => r.publicKey === key)?.inferenceCuTotal ?? 0, hostKey);
  await expect.poll(cu, { timeout: 180_000, intervals: [2_000] }).toBeGreaterThan(0);
  console.log(`inference validator e2e: the page's ledger credits the volunteer ${await cu()} inference CU`);
});
