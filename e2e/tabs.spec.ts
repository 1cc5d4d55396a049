import { expect, test, type Page } from '@playwright/test';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { agreeBeforeLoad } from './shell-helpers.ts';
import { findsOf, restoreWallet, serveNetwork, soloNetwork, submitRestore, takePart } from './protocol-helpers.ts';
import { at } from '../src/sprint/indexing.ts';

// network.json is served by a route; a service worker would fetch it past the route.
test.use({ serviceWorkers: 'block' });

// Two pages of one browser context are two tabs: one origin, one IndexedDB, Web Locks and BroadcastChannel.
const tried = async (page: Page) => Number((await page.getByTestId('sprint-tried').textContent())!.replace(/,/g, ''));

test('two tabs: one runs the GPU and the protocol, the other takes over the same Sprint with no find lost; a newer tab upgrading the database stops both with a banner', async ({
  context,
}) => {
  await agreeBeforeLoad(context); // the Sprint view is on Contribute, where an agreed volunteer lands
  await serveNetwork(context, soloNetwork());
  const a = await context.newPage();
  await a.goto('/?engine-test');
  await expect(a.getByTestId('gpu-ready')).toBeVisible();
  await restoreWallet(a, vectorsFile.vectors[0]!.mnemonic);
  await takePart(a);
  await expect(a.getByTestId('sprint-seed')).toHaveText(/^[0-9a-f]{64}$/, { timeout: 60_000 });
  const seed = await a.getByTestId('sprint-seed').textContent();

  // The second tab finds the Web Lock held: it does not take part (one browser, one protocol peer) and offers to take over.
  const b = await context.newPage();
  await b.goto('/?engine-test');
  await expect(b.getByTestId('sprint-other-tab')).toContainText('Another Sprintnet tab is contributing this GPU');
  await expect(b.getByTestId('sprint-start')).toHaveCount(0);
  expect(await b.evaluate(async () => (await navigator.locks.query()).held?.map((l) => l.name))).toEqual(['sprintnet-gpu']);
  await expect.poll(() => tried(a), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(() => findsOf(a, 0), { timeout: 60_000 }).not.toEqual([]);

  // B takes over with the wallet locked there: A stops, B resumes the same Sprint from what A saved.
  await expect(b.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await b.getByTestId('sprint-take-over').click();
  await expect(b.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  await expect(a.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  await expect(a.getByTestId('sprint-other-tab')).toHaveAttribute('data-taken-over', 'true');
  const handedOver = await tried(a);
  const foundByA = await findsOf(a, 0);
  expect(handedOver).toBeGreaterThan(0);
  await expect(b.getByTestId('sprint-seed')).toHaveText(seed!, { timeout: 60_000 }); // the same Sprint, continued
  await expect.poll(() => tried(b), { timeout: 60_000 }).toBeGreaterThan(handedOver);
  expect(await findsOf(b, 0)).toEqual(expect.arrayContaining(foundByA));

  // What a newer build does on load: open the database at a higher version. Both tabs step aside.
  const version = await b.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('sprintnet', 1000);
        req.onsuccess = () => {
          req.result.close();
          resolve(req.result.version);
        };
        req.onerror = () => reject(req.error);
      }),
  );
  expect(version).toBe(1000);
  for (const page of [a, b]) {
    await expect(page.getByTestId('storage-banner')).toContainText('Sprintnet was updated in another tab; reload.');
    await expect(page.getByTestId('storage-banner')).toHaveAttribute('data-reason', 'versionchange');
  }
  await expect(b.getByTestId('sprint-status')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  expect(await b.evaluate(async () => (await navigator.locks.query()).held?.length)).toBe(0);
  // The old page refuses to take part again: the newer one is where the work belongs.
  await b.getByTestId('sprint-take-over').or(b.getByTestId('sprint-start')).click();
  await expect(b.getByTestId('sprint-error')).toHaveAttribute('data-code', 'UPGRADED_ELSEWHERE');
  await expect(b.getByTestId('sprint-status')).toHaveAttribute('data-status', 'error');
});

test('two tabs, one wallet: the locked screen needs the passphrase to replace it, and the other tab follows', async ({ context }) => {
  const first = at(vectorsFile.vectors, 0, 'test vector');
  const second = at(vectorsFile.vectors, 1, 'test vector');
  const PASS = 'e2e passphrase 123';
  const a = await context.newPage();
  await a.goto('/#/wallet');
  await submitRestore(a, first.mnemonic, PASS);
  await expect(a.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');

  const b = await context.newPage();
  await b.goto('/#/wallet');
  await expect(b.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await submitRestore(b, second.mnemonic, 'another passphrase');
  await expect(b.getByTestId('wallet-error')).toHaveAttribute('data-code', 'BACKUP_REQUIRED');
  await b.getByTestId('replace-current-passphrase').fill(PASS);
  await b.getByTestId('restore-submit').click();
  await expect(b.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  await expect(b.getByTestId('wallet-address')).toHaveText(second.address);

  // The first tab held the old wallet unlocked: the notice locks it and shows what is stored now.
  await expect(a.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await expect(a.getByTestId('wallet-address')).toHaveText(second.address);
  await expect(a.getByTestId('wallet-error')).toHaveAttribute('data-code', 'KEYSTORE_CHANGED');
});
