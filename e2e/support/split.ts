/**
 * Steps of the split-inference specs (split, split-failover) on the "Run a model" screen: load
 * the built-in test model, serve it as a volunteer, and set up the user's side.
 */
import { expect, type Page } from '@playwright/test';
import { openScreen } from '../shell-helpers.ts';

/** Loads the built-in test model (2 layers, D 64) in the page's LLM Worker. */
export async function loadTestModel(page: Page): Promise<void> {
  await openScreen(page, 'model');
  await page.getByTestId('llm-load-test').click();
  await expect(page.getByTestId('llm-model')).toBeVisible({ timeout: 120_000 });
}

/** "Serve private inference with this model"; returns the page's peer id once it serves. */
export async function startServing(page: Page): Promise<string> {
  await page.getByTestId('split-serve').check();
  await expect(page.getByTestId('split-serving')).toBeVisible({ timeout: 60_000 });
  const peer = (await page.getByTestId('split-serving-peer').textContent())!.trim();
  expect(peer).toMatch(/^12D3Koo/);
  return peer;
}

/** "Split with a volunteer" (the notice accepted), split after layer `k`, with "always split" or "automatic". */
export async function chooseSplit(page: Page, o: { k: number; route: 'split' | 'auto' }): Promise<void> {
  await page.getByTestId('split-allow').check();
  await page.getByTestId('split-notice-ok').click();
  await page.getByTestId('split-k').fill(String(o.k));
  await page.getByTestId('split-route').selectOption(o.route);
}

/** The row of `peer` in the user's list of volunteers, which their announcements fill. */
export const volunteerRow = (page: Page, peer: string) => page.locator(`[data-testid="split-volunteer-row"][data-peer="${peer}"]`);
