/**
 * Helpers for specs that run the Sprint protocol in the browser: a network.json served to every
 * page of a context (with its genesis), a one-peer genesis whose Sprint is already open (for specs
 * about the engine and the tabs, which need a Sprint but no peers), and the wallet steps.
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { genesisToJson, makeGenesis, type Timings } from '../src/protocol/genesis.ts';
import { openScreen } from './shell-helpers.ts';

export const PASS = 'e2e passphrase 123';

/** Serves `json` as /network.json to every page of the context (use with serviceWorkers: 'block'). */
export async function serveNetwork(context: BrowserContext, json: unknown): Promise<void> {
  await context.route('**/network.json', (route) => route.fulfill({ json, headers: { 'cache-control': 'no-store' } }));
}

/**
 * network.json for a network of one: no relays, open join, and a Sprint of `sprintMs` that opened a
 * moment ago, so a page that takes part searches at once (p = 1/64 on tiny).
 */
export function soloNetwork(sprintMs = 600_000): unknown {
  const skewMs = 250;
  const w = 1_000;
  const t = { commitMs: w, revealMs: w, settleMs: w, sprintMs, proofMs: w, validationMs: w, syncMs: w, certifyMs: w };
  const timings: Timings = { ...t, epochMs: Object.values(t).reduce((a, b) => a + b, 0) + w };
  const genesis = makeGenesis({ networkId: 'sprintnet-local', config: 'tiny', hitRateDenominator: 64, startMs: Date.now() - 3 * w - 500, skewMs, timings });
  return { networkId: 'sprintnet-local', relays: [], genesis: genesisToJson(genesis) };
}

export async function restoreWallet(page: Page, mnemonic: string, passphrase = PASS): Promise<void> {
  await openScreen(page, 'wallet');
  await submitRestore(page, mnemonic, passphrase);
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked', { timeout: 60_000 });
}

/** On the Wallet screen: "Restore from recovery phrase" filled in (the passphrase twice) and submitted; the caller awaits the outcome. */
export async function submitRestore(page: Page, mnemonic: string, passphrase = PASS): Promise<void> {
  await page.getByTestId('wallet-restore').click();
  await page.getByTestId('restore-mnemonic').fill(mnemonic);
  await page.getByTestId('restore-passphrase').fill(passphrase);
  await page.getByTestId('restore-passphrase-repeat').fill(passphrase);
  await page.getByTestId('restore-submit').click();
}

export async function unlockWallet(page: Page, passphrase = PASS): Promise<void> {
  await openScreen(page, 'wallet');
  await page.getByTestId('unlock-passphrase').fill(passphrase);
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('wallet-state')).toHaveAttribute('data-state', 'unlocked', { timeout: 60_000 });
}

/** Contribute → Take part; the runtime is up once the view says running. */
export async function takePart(page: Page): Promise<void> {
  await openScreen(page, 'contribute');
  await page.getByTestId('sprint-start').click();
  await expect(page.getByTestId('sprint-status')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
}

/** The page's runtime snapshot (needs `?engine-test`). */
export function snapshot(page: Page) {
  return page.evaluate(() => window.__sprintnetEngine?.snapshot() ?? null);
}

export const findsOf = async (page: Page, epoch: number): Promise<number[]> => {
  const s = await snapshot(page);
  return s?.runtime && s.runtime.findsEpoch === epoch ? s.runtime.finds.map((f) => f.nonce) : [];
};
