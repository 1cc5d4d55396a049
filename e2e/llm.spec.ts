import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { generate } from '../src/llm/generate.ts';
import { loadReference } from '../src/llm/loader.ts';
import { MemorySource } from '../src/llm/source.ts';
import { makeTestModel } from '../src/llm/test-model.ts';
import { LOGIT_TOLERANCE } from '../src/llm/test-support.ts';

test('Run a model on this device: folder → streamed generation → reload → load from the cache', async ({ page }) => {
  test.setTimeout(300_000);
  const { files } = makeTestModel({ dtype: 'BF16', tieEmbeddings: false, seed: 2, shards: 2 });
  const dir = join(mkdtempSync(join(tmpdir(), 'sprintnet-e2e-llm-')), 'tiny-test-model');
  mkdirSync(dir);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);

  // What the float64 CPU reference generates greedily for the same chat prompt.
  const { model: ref, manifest } = await loadReference(new MemorySource(files));
  const prompt = 'Tell me about the garden.';
  const expected = await generate(ref, manifest.tokenizer!.encodeChat([{ role: 'user', content: prompt }]), { maxTokens: 20, tokenizer: manifest.tokenizer });

  await page.goto('/#/model'); // the Run a model screen
  const panel = page.getByTestId('llm-panel');
  await expect(panel.getByTestId('llm-compat')).toBeVisible();
  await expect(panel.getByTestId('llm-cache-empty')).toBeVisible();
  await panel.getByTestId('llm-folder-input').setInputFiles(dir);
  await expect(panel.getByTestId('llm-model')).toBeVisible({ timeout: 120_000 });
  await expect(panel.getByTestId('llm-test-banner')).toContainText('random test model');
  await expect(panel.getByTestId('llm-model-label')).toHaveText('folder tiny-test-model');
  // Settings' backend choice is auto: on SwiftShader the CPU backend runs the model.
  await expect(panel.getByTestId('llm-backend')).toHaveAttribute('data-backend', 'cpu');
  await expect(panel.getByTestId('llm-cache-entry')).toHaveCount(1);
  await expect(panel.getByTestId('llm-cache-entry')).toContainText('tiny-test-model');
  // Chromium has OPFS, so the model went there (not the Cache API).
  await expect(panel.getByTestId('llm-cache-entry')).toHaveAttribute('data-store', 'opfs');
  await expect(panel.getByTestId('llm-cache-entry')).toContainText('private file system');

  const run = async () => {
    await panel.getByTestId('llm-prompt').fill(prompt);
    await panel.getByTestId('llm-max-tokens').fill('20');
    // Record every change of the output while it streams.
    await page.evaluate(() => {
      const out = document.querySelector('[data-testid="llm-output"]')!;
      const seen: number[] = [];
      (window as unknown as { __llmSeen: number[] }).__llmSeen = seen;
      new MutationObserver(() => seen.push(out.textContent!.length)).observe(out, { childList: true, characterData: true, subtree: true });
    });
    await panel.getByTestId('llm-generate').click();
    await expect(panel.getByTestId('llm-stats')).toContainText('tokens/s', { timeout: 120_000 });
    await expect(panel.getByTestId('llm-stats')).toContainText(`${expected.tokens.length} tokens (${expected.stoppedBy})`, { timeout: 120_000 });
    const seen = await page.evaluate(() => (window as unknown as { __llmSeen: number[] }).__llmSeen);
    return { text: await panel.getByTestId('llm-output').textContent(), distinctLengths: new Set(seen.filter((n) => n > 0)).size };
  };

  const first = await run();
  expect(first.text).toBe(expected.text);
  // The text arrived piece by piece: the output showed at least one part before the whole. (How many
  // parts depends on how many tokens each render coalesces: once 3 of 20 under CI load, so no more is asked.)
  expect(first.distinctLengths).toBeGreaterThan(1);

  // The saved backend setting (Settings → WebGPU) applies to the next load.
  await page.evaluate(() => localStorage.setItem('sprintnet-backend', 'webgpu'));
  await page.reload();
  await expect(panel.getByTestId('llm-cache-entry')).toHaveCount(1);
  await panel.getByTestId('llm-cache-load').click();
  await expect(panel.getByTestId('llm-model-label')).toHaveText('cache: tiny-test-model', { timeout: 120_000 });
  await expect(panel.getByTestId('llm-backend')).toHaveAttribute('data-backend', 'webgpu');
  await expect(panel.getByTestId('llm-test-banner')).toBeVisible();
  const second = await run();
  expect(second.text).toBe(expected.text);

  await panel.getByTestId('llm-cache-delete').click();
  await expect(panel.getByTestId('llm-cache-empty')).toBeVisible();
  // Deleted for real: no folder left in OPFS.
  const left = await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const models = await root.getDirectoryHandle('sprintnet-models');
    const names: string[] = [];
    for await (const key of (models as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
    return names;
  });
  expect(left).toEqual([]);
});

test('logits in the browser Worker agree with the float64 reference at every position, for F32, F16 and BF16', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?llm-test');
  await page.waitForFunction(() => window.__sprintnetLlm !== undefined);
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const { files } = makeTestModel({ dtype, seed: 3, modelType: dtype === 'F16' ? 'qwen2' : 'llama' });
    const { model: ref, manifest } = await loadReference(new MemorySource(files));
    const tokens = manifest.tokenizer!.encodeChat([{ role: 'user', content: 'Hello from the browser.' }]);
    const expected = (await ref.forward({ tokens, kvCache: ref.createKvCache(), logits: 'all' })).logits!;
    const plain = Object.fromEntries([...files].map(([name, bytes]) => [name, Array.from(bytes)]));
    const got = await page.evaluate(({ plain, tokens }) => window.__sprintnetLlm!.logits(plain, tokens), { plain, tokens });
    expect(got.logits.length).toBe(expected.length);
    let maxRef = 1;
    let maxDiff = 0;
    expected.forEach((want, i) => {
      maxRef = Math.max(maxRef, Math.abs(want));
      maxDiff = Math.max(maxDiff, Math.abs(want - (got.logits[i] ?? Number.NaN)));
    });
    console.log(
      `${dtype} in the browser worker on ${got.adapter}: ${tokens.length} positions, max |Δ| ${maxDiff.toExponential(2)}, max |logit| ${maxRef.toFixed(1)}`,
    );
    expect(maxDiff).toBeLessThanOrEqual(LOGIT_TOLERANCE * maxRef);
  }
});
