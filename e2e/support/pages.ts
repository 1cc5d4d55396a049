/**
 * Browser pages on a local network, shared by the specs that run several of them against one
 * relay (protocol, split, split-failover): Chromium flags that let two pages on one machine reach
 * each other over WebRTC, and a page in a context of its own (its own wallet and storage) that
 * has agreed to the terms, is served the network's network.json, and has restored a wallet.
 * Playwright does not close contexts a test makes itself: left open, a page that takes part keeps
 * searching and re-dialling its dead relay through the later tests, so specs close them after each.
 */
import type { Browser, BrowserContext, LaunchOptions, Page } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.ts';
import { restoreWallet, serveNetwork } from '../protocol-helpers.ts';
import { agreeBeforeLoad } from '../shell-helpers.ts';

/** WebRTC between pages of one machine: loopback candidates, and real addresses instead of mDNS names. */
export const webrtcLaunchOptions: LaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [...chromiumArgs, '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'],
};

const opened = new Set<BrowserContext>();

/** Closes every context openNetworkPage made (call it after each test). */
export async function closeNetworkPages(): Promise<void> {
  const contexts = [...opened];
  opened.clear();
  await Promise.all(contexts.map((c) => c.close()));
}

/**
 * A new context (network.json is served by a route, which a service worker would bypass, so
 * service workers are blocked) with one page at `path`, its console errors printed under `name`,
 * and the wallet of `mnemonic` restored and unlocked.
 */
export async function openNetworkPage(browser: Browser, network: unknown, o: { mnemonic: string; name: string; path: string }): Promise<Page> {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  opened.add(context);
  await agreeBeforeLoad(context);
  await serveNetwork(context, network);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[${o.name}] ${m.text()}`);
  });
  await page.goto(o.path);
  await restoreWallet(page, o.mnemonic);
  return page;
}
