import { expect, test, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { at } from '../src/sprint/indexing.ts';
import { PASS, submitRestore } from './protocol-helpers.ts';

// Real KDF cost (scrypt N=2^17) throughout: the UI has no weaker setting to switch on.
const known = at(vectorsFile.vectors, 0, 'test vector');

async function restore(page: Page, mnemonic: string, passphrase = PASS) {
  await submitRestore(page, mnemonic, passphrase);
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
}

test('create a wallet, reload, unlock: same address; restore its phrase in a fresh browser', async ({ page, browser }) => {
  await page.goto('/#/wallet');
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  await page.getByTestId('wallet-create').click();
  await page.getByTestId('create-passphrase').fill(PASS);
  await page.getByTestId('create-passphrase-repeat').fill(PASS);
  await page.getByTestId('create-passphrase-submit').click();

  const words = await page.getByTestId('mnemonic').locator('li').allTextContents();
  expect(words).toHaveLength(12);
  await page.getByTestId('mnemonic-written').click();
  await expect(page.getByTestId('mnemonic')).toHaveCount(0); // gone from the page once written down
  const inputs = page.locator('[data-testid^="confirm-word-"]');
  await expect(inputs).toHaveCount(3);
  // A wrong word is refused and nothing is stored.
  for (const input of await inputs.all()) await input.fill('wrong');
  await page.getByTestId('confirm-submit').click();
  await expect(page.getByTestId('wallet-error')).toHaveAttribute('data-code', 'BACKUP_MISMATCH');
  for (const input of await inputs.all()) {
    const n = Number((await input.getAttribute('data-testid'))!.split('-').pop());
    await input.fill(at(words, n - 1, 'recovery word'));
  }
  await page.getByTestId('confirm-submit').click();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  const address = (await page.getByTestId('wallet-address').textContent())!;
  const peerId = (await page.getByTestId('wallet-peer-id').textContent())!;
  expect(address).toMatch(/^sn1[02-9ac-hj-np-z]{38}$/);
  expect(peerId).toMatch(/^12D3KooW/);

  await page.reload();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await expect(page.getByTestId('wallet-address')).toHaveText(address);
  await page.getByTestId('unlock-passphrase').fill('not the passphrase');
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('wallet-error')).toHaveAttribute('data-code', 'WRONG_PASSPHRASE');
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await page.getByTestId('unlock-passphrase').fill(PASS);
  const started = Date.now();
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  console.log(`unlock with scrypt N=2^17 took ${Date.now() - started} ms`);
  await expect(page.getByTestId('wallet-address')).toHaveText(address);
  await page.getByTestId('wallet-lock').click();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');

  const other = await browser.newContext();
  const page2 = await other.newPage();
  await page2.goto('/#/wallet');
  await expect(page2.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  await restore(page2, words.join(' '), 'a different passphrase');
  await expect(page2.getByTestId('wallet-address')).toHaveText(address);
  await expect(page2.getByTestId('wallet-peer-id')).toHaveText(peerId);
  await other.close();
});

test('keystore file round trip in Chromium: export, wrong passphrase refused, import', async ({ page, browser }) => {
  await page.goto('/#/wallet');
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  await restore(page, known.mnemonic);
  await expect(page.getByTestId('wallet-address')).toHaveText(known.address); // same as Node's vectors
  await expect(page.getByTestId('wallet-peer-id')).toHaveText(known.peerId);
  const downloading = page.waitForEvent('download');
  await page.getByTestId('wallet-export').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`sprintnet-keystore-${known.address}.json`);
  const path = (await download.path())!;
  expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1, address: known.address, kdf: { N: 2 ** 17 } });

  const other = await browser.newContext();
  const page2 = await other.newPage();
  await page2.goto('/#/wallet');
  await page2.getByTestId('wallet-import').click();
  await page2.getByTestId('import-file').setInputFiles(path);
  await page2.getByTestId('import-passphrase').fill('wrong passphrase');
  await page2.getByTestId('import-submit').click();
  await expect(page2.getByTestId('wallet-error')).toHaveAttribute('data-code', 'WRONG_PASSPHRASE');
  await expect(page2.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  await page2.getByTestId('import-passphrase').fill(PASS);
  await page2.getByTestId('import-submit').click();
  await expect(page2.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  await expect(page2.getByTestId('wallet-address')).toHaveText(known.address);
  await page2.reload();
  await expect(page2.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await expect(page2.getByTestId('wallet-address')).toHaveText(known.address);
  await other.close();
});
