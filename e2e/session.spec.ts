import { expect, test } from '@playwright/test';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { at } from '../src/sprint/indexing.ts';
import { submitRestore } from './protocol-helpers.ts';

const known = at(vectorsFile.vectors, 0, 'test vector');

test('the unlocked wallet is the peer identity; locking switches to a throwaway one', async ({ page }) => {
  await page.goto('/#/wallet');
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'none');
  const ephemeral = page.getByTestId('network-peer-id');
  await expect(ephemeral).toHaveText(/^12D3KooW/);
  expect(await ephemeral.textContent()).not.toBe(known.peerId);

  await submitRestore(page, known.mnemonic);
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked');
  await expect(page.getByTestId('network-peer-id')).toHaveText(known.peerId);

  await page.getByTestId('wallet-lock').click();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'locked');
  await expect(page.getByTestId('network-peer-id')).not.toHaveText(known.peerId);
  await expect(page.getByTestId('network-peer-id')).toHaveText(/^12D3KooW/);
});
