/**
 * Peer-to-peer network in real browsers: a relay spawned from the test, two browser contexts
 * (two identities) that discover each other, upgrade to direct WebRTC, gossip both ways, make an
 * end-to-end encrypted 1 MiB request, and keep talking after the relay is gone; then a headless
 * host and a browser page that see each other's gossip.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs } from '../playwright.config.ts';
import { shortId } from '../src/app/plain-words.ts';
import { freePort, spawnSprintnet, stopProc, waitForOutput, type Proc } from './network-helpers.ts';

// Plain IP host candidates on loopback make ICE between two local pages fast and deterministic.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...chromiumArgs, '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'],
  },
});
test.describe.configure({ mode: 'serial' });

const SEED_A = '0a'.repeat(32);
const SEED_B = '0b'.repeat(32);
const SEED_HOST = '0c'.repeat(32);
const SEED_PAGE = '0d'.repeat(32);

async function startRelay(): Promise<{ proc: Proc; addr: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sprintnet-e2e-'));
  const proc = spawnSprintnet(['relay', '--port', String(port), '--write', join(dir, 'network.json')]);
  const [, addr = ''] = await waitForOutput(proc, /listening on (\S+)/);
  return { proc, addr };
}

/** Playwright closes only its own fixtures' contexts: a page left open keeps re-dialling its dead relay in later tests. */
const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

async function openPeer(browser: Browser, relay: string, seed: string): Promise<{ page: Page; peerId: string }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`/?relay=${encodeURIComponent(relay)}&seed=${seed}&debug=1#/network`); // the network view is on its own screen (issue 11)
  await expect(page.getByTestId('network-status')).toHaveAttribute('data-status', 'online');
  const peerId = (await page.getByTestId('network-peer-id').textContent())!.trim();
  expect(peerId).toMatch(/^12D3Koo/);
  return { page, peerId };
}

const receivedFrom = async (page: Page, peerId: string) =>
  Number((await page.locator(`[data-testid="network-peer"][data-peer="${peerId}"]`).getAttribute('data-received')) ?? 0);

test.describe('two browsers', () => {
  let relay: { proc: Proc; addr: string } | undefined;

  test.beforeAll(async () => {
    relay = await startRelay();
  });
  test.afterAll(async () => {
    await stopProc(relay?.proc);
  });

  test('discover each other over the relay, upgrade to WebRTC, gossip, request, survive the relay', async ({ browser }) => {
    const a = await openPeer(browser, relay!.addr, SEED_A);
    const b = await openPeer(browser, relay!.addr, SEED_B);
    await expect(a.page.getByTestId('network-relay-state')).toHaveText('connected');
    await expect(b.page.getByTestId('network-relay-state')).toHaveText('connected');

    // Direct WebRTC: the address carries /webrtc (signalled via /p2p-circuit, data flows directly).
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      // Raw connections are folded under "Connections and recent messages": present, not shown.
      const webrtc = self.page.locator(`[data-testid="network-connection"][data-peer="${other.peerId}"][data-transport="webrtc"]`);
      await expect(webrtc.first()).toBeAttached({ timeout: 60_000 });
      const addr = (await webrtc.first().getAttribute('data-addr'))!;
      expect(addr).toContain('/webrtc');
      expect(addr.includes('/p2p-circuit') && !addr.includes('/webrtc')).toBe(false);
    }

    // Gossip both ways.
    await expect.poll(() => receivedFrom(a.page, b.peerId)).toBeGreaterThan(0);
    await expect.poll(() => receivedFrom(b.page, a.peerId)).toBeGreaterThan(0);

    // 1 MiB request/response, sealed end to end with keys bound to both peer ids.
    const echo = await a.page.evaluate(
      (peer) => (window as unknown as { __sprintnet: { echo(p: string, n: number): Promise<unknown> } }).__sprintnet.echo(peer, 1024 * 1024),
      b.peerId,
    );
    expect(echo).toMatchObject({ ok: true, bytes: 1024 * 1024, matches: true });

    // Relay gone: the direct connection keeps carrying gossip, and the pages try to re-dial.
    await stopProc(relay!.proc);
    await expect(a.page.getByTestId('network-relay-state')).not.toHaveText('connected', { timeout: 30_000 });
    const beforeA = await receivedFrom(a.page, b.peerId);
    const beforeB = await receivedFrom(b.page, a.peerId);
    await expect.poll(() => receivedFrom(a.page, b.peerId), { timeout: 30_000 }).toBeGreaterThan(beforeA + 1);
    await expect.poll(() => receivedFrom(b.page, a.peerId), { timeout: 30_000 }).toBeGreaterThan(beforeB + 1);
    await expect(a.page.locator(`[data-testid="network-connection"][data-peer="${b.peerId}"][data-transport="webrtc"]`).first()).toBeAttached();
    const after = await b.page.evaluate(
      (peer) => (window as unknown as { __sprintnet: { echo(p: string, n: number): Promise<unknown> } }).__sprintnet.echo(peer, 64 * 1024),
      a.peerId,
    );
    expect(after).toMatchObject({ ok: true, matches: true });
  });
});

test.describe('mixed network', () => {
  let relay: { proc: Proc; addr: string } | undefined;
  let host: Proc | undefined;

  test.beforeAll(async () => {
    relay = await startRelay();
    host = spawnSprintnet(['host', '--relay', relay.addr, '--label', 'e2e-host', '--engine', 'off'], { SPRINTNET_SEED: SEED_HOST });
    await waitForOutput(host, /Host started, peer id (\S+);/);
  });
  test.afterAll(async () => {
    await stopProc(host);
    await stopProc(relay?.proc);
  });

  test('a headless host and a browser page see each other’s gossip', async ({ browser }) => {
    const [, hostPeerId = ''] = host!.output.join('').match(/Host started, peer id (\S+);/)!;
    const page = await openPeer(browser, relay!.addr, SEED_PAGE);
    await expect.poll(() => receivedFrom(page.page, hostPeerId), { timeout: 60_000 }).toBeGreaterThan(0);
    await waitForOutput(host!, new RegExp(`Message on presence from peer ${shortId(page.peerId)}`), 60_000);
  });
});
