/**
 * Failover of private split inference in real browsers (issue 13, docs/split-inference.md §8 and
 * §13): two volunteer pages serve the built-in test model over the local relay, and a user page
 * first runs the prompt greedily on its own device, then splits it with "always split", the first
 * volunteer picked by hand, so the failover order is that one, then the other listed one. Once the
 * first has served a few decode steps its page is closed. The generation goes on with the second
 * volunteer, which rebuilds its KV cache from the h_k history, the screen counts one switch, and
 * the completion equals the local greedy one.
 */
import { expect, test } from '@playwright/test';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { startLocalNetwork, type LocalNetwork } from './network-helpers.ts';
import { closeNetworkPages, openNetworkPage, webrtcLaunchOptions } from './support/pages.ts';
import { chooseSplit, loadTestModel, startServing, volunteerRow } from './support/split.ts';

test.use({ launchOptions: webrtcLaunchOptions });

let network: LocalNetwork | undefined;
test.afterEach(async () => {
  await closeNetworkPages();
  await network?.stop();
  network = undefined;
});

/** Decode steps the first volunteer serves before its page closes; the rest of MAX_TOKENS go to the second. */
const BEFORE_CLOSE = 4;
/**
 * The prompt's greedy completion on the test model runs to this limit without an end token, so the
 * first volunteer still has ~90 steps to go when the test sees its 4th: the close lands
 * mid-generation however slowly the test reacts on a loaded machine.
 */
const PROMPT = 'Hello! Who are you?';
const MAX_TOKENS = 96;

test('the first volunteer page closes mid-generation; the user page finishes on the second with the local greedy completion', async ({ browser }) => {
  test.setTimeout(180_000);
  // No Sprint is needed: a split session and its proof do not wait for an epoch.
  network = await startLocalNetwork({ sprintMs: 60_000, skewMs: 1_500, startInMs: 5_000, hostSeeds: [] });
  const [a, b, u] = vectorsFile.vectors;
  const open = async (mnemonic: string, name: string) => {
    const page = await openNetworkPage(browser, network!.json, { mnemonic, name, path: '/?split-test#/model' });
    await loadTestModel(page);
    return page;
  };
  const first = await open(a!.mnemonic, 'first');
  const second = await open(b!.mnemonic, 'second');
  const firstPeer = await startServing(first);
  const secondPeer = await startServing(second);
  const user = await open(u!.mnemonic, 'user');

  // The reference: the whole model on the user's device ("on this device only", greedy by default).
  await user.getByTestId('llm-prompt').fill(PROMPT);
  await user.getByTestId('llm-max-tokens').fill(String(MAX_TOKENS));
  await expect(user.getByTestId('split-device-only')).toBeChecked();
  await user.getByTestId('llm-generate').click();
  await expect(user.getByTestId('llm-stats')).toContainText(/\d+ tokens \(/, { timeout: 60_000 });
  const local = (await user.getByTestId('llm-output').textContent()) ?? '';
  const localStats = (await user.getByTestId('llm-stats').textContent()) ?? '';
  expect(localStats).toContain(`${MAX_TOKENS} tokens (max-tokens)`);

  await chooseSplit(user, { k: 1, route: 'split' });
  // Both announce themselves; picking the first by hand puts it first and leaves the second as its failover.
  await expect(volunteerRow(user, firstPeer)).toBeVisible({ timeout: 60_000 });
  await expect(volunteerRow(user, secondPeer)).toBeVisible({ timeout: 60_000 });
  await volunteerRow(user, firstPeer).getByTestId('split-pick').check();
  await expect(user.getByTestId('split-volunteer')).toHaveValue(firstPeer);
  await user.getByTestId('llm-generate').click();

  // Watched in the page, so the close follows the BEFORE_CLOSE-th decode step without a round trip per poll.
  await user.waitForFunction(
    (n) => [...document.querySelectorAll('[data-testid="split-step"]')].filter((r) => r.textContent?.includes('decode')).length >= n,
    BEFORE_CLOSE,
    { polling: 20, timeout: 60_000 },
  );
  const closedAt = Date.now();
  await first.context().close();
  // The second volunteer's session starts with a prefill row of its own.
  await user.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="split-step"]')].filter((r) => r.textContent?.includes('prefill')).length >= 2,
    undefined,
    { polling: 50, timeout: 90_000 },
  );
  const tookOverAfterMs = Date.now() - closedAt;

  await expect(user.getByTestId('split-result').or(user.getByTestId('split-error'))).toBeVisible({ timeout: 120_000 });
  await expect(user.getByTestId('split-error')).toHaveCount(0);
  const finishedAfterMs = Date.now() - closedAt;
  await expect(user.getByTestId('split-switch-count')).toHaveText('1');
  await expect(user.getByTestId('split-switches')).toContainText(`served by volunteer ${firstPeer.slice(-8)} → volunteer ${secondPeer.slice(-8)}`);
  await expect(user.getByTestId('split-result')).toContainText(`max-tokens after ${MAX_TOKENS} tokens`);
  expect(await user.getByTestId('split-output').textContent()).toBe(local);
  // The first volunteer served a few decode steps, not the whole generation.
  const decodeSteps = await user.getByTestId('split-step').filter({ hasText: 'decode' }).count();
  expect(decodeSteps).toBeGreaterThan(BEFORE_CLOSE);
  // The proof covers the second volunteer's session (the rebuild and the rest), and it published it.
  await expect(user.getByTestId('split-proof')).toContainText('signed by your wallet');
  await expect(second.getByTestId('split-served')).toHaveText('1');
  await expect(second.getByTestId('split-published')).toHaveText('1');
  // The second session began with one prefill of the prompt and every position accepted before.
  const prefills = await user.getByTestId('split-step').filter({ hasText: 'prefill' }).allTextContents();
  expect(prefills).toHaveLength(2);
  console.log(
    `split failover e2e: ${decodeSteps} decode steps, prefills ${JSON.stringify(prefills)}, the second took over ${(tookOverAfterMs / 1000).toFixed(1)} s and finished ${(finishedAfterMs / 1000).toFixed(1)} s after the close; ${localStats}`,
  );
});
