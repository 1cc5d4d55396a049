/**
 * Private split inference between two browser pages over the local relay (issue 13): a volunteer
 * page serves sessions of the built-in test model from its LLM Worker; a user page splits after
 * layer k, gets its completion, signs the proof with its wallet and submits it, and the volunteer
 * publishes it to the ledger. Every request the user's page sends is read before encryption (the
 * `?split-test` hook) and decoded with src/split's codec: only h_k as f32 rows, never the prompt's
 * token ids or text. A second test adds the ledger: a headless host with genesis weight that holds
 * the same model judges the published proof, and both pages' ledgers credit the volunteer's CU.
 * A third finds the volunteer in the list its announcements fill instead of typing its id: the
 * router first runs the whole model on the page (fast enough, nothing sent), then "always split"
 * pings and ranks the listed volunteer (no session) and splits with it.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vectorsFile from '../src/wallet/vectors.json' with { type: 'json' };
import { modelHostArgs } from '../src/cli/test-support.ts';
import { writeTestModel } from '../src/llm/test-model-files.ts';
import { decodeFloats, decodeRequest, Precision } from '../src/split/codec.ts';
import { peerPublicKey } from '../src/split/transport.ts';
import { identityFromEd25519Seed } from '../src/wallet/identity.ts';
import { spawnSprintnet, startLocalNetwork, stopProc, waitForOutput, type LocalNetwork, type Proc } from './network-helpers.ts';
import { takePart } from './protocol-helpers.ts';
import { openScreen } from './shell-helpers.ts';
import { closeNetworkPages, openNetworkPage, webrtcLaunchOptions } from './support/pages.ts';
import { chooseSplit, loadTestModel, startServing, volunteerRow } from './support/split.ts';
import { startWeightedNetwork, waitForProofWindow } from './support/weighted-network.ts';

test.use({ launchOptions: webrtcLaunchOptions });

test.describe.configure({ mode: 'serial' });

let network: LocalNetwork | undefined;
let relay: Proc | undefined;
let host: Proc | undefined;
test.afterEach(async () => {
  if (host)
    console.log(
      host.output
        .join('')
        .split('\n')
        .filter((l) => /inference|judg|certified|Serving|failed/.test(l))
        .join('\n'),
    );
  await closeNetworkPages();
  await stopProc(host);
  await stopProc(relay);
  await network?.stop();
  host = undefined;
  relay = undefined;
  network = undefined;
});

/** A relay whose demo genesis needs no Sprint: split sessions and their proofs do not wait for an epoch. */
const splitNetwork = async () => (network = await startLocalNetwork({ sprintMs: 60_000, skewMs: 1_500, startInMs: 5_000, hostSeeds: [] })).json;

async function openPage(browser: Browser, network: unknown, mnemonic: string, name: string): Promise<Page> {
  const page = await openNetworkPage(browser, network, { mnemonic, name, path: '/?split-test#/model' });
  await loadTestModel(page);
  return page;
}

/** On a fresh split network: a volunteer page serving the test model (first test wallet) and a user page with it loaded (second). */
async function volunteerAndUser(browser: Browser): Promise<{ volunteer: Page; volunteerPeer: string; user: Page }> {
  const network = await splitNetwork();
  const [first, second] = vectorsFile.vectors;
  const volunteer = await openPage(browser, network, first!.mnemonic, 'volunteer');
  const volunteerPeer = await startServing(volunteer);
  const user = await openPage(browser, network, second!.mnemonic, 'user');
  return { volunteer, volunteerPeer, user };
}

/** Does `needle` occur in `hay` as a contiguous byte run? */
const contains = (hay: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};

test('a user page splits with a volunteer page: only h_k leaves, the completion comes back, the proof is published', async ({ browser }) => {
  test.setTimeout(300_000);
  const { volunteer, volunteerPeer, user } = await volunteerAndUser(browser);
  const shape = (await user.getByTestId('llm-model').textContent())!;
  const hidden = Number(shape.match(/hidden (\d+)/)![1]);
  const layers = Number(shape.match(/(\d+) layers/)![1]);
  // "On this device only" is the default, and it offers no split settings.
  await expect(user.getByTestId('split-device-only')).toBeChecked();
  await user.getByTestId('split-allow').check();
  await expect(user.getByTestId('split-notice')).toContainText('does not protect against the volunteer');
  await expect(user.getByTestId('llm-generate')).toBeDisabled();
  await user.getByTestId('split-notice-ok').click();
  const k = Math.max(1, Math.floor(layers / 2));
  await user.getByTestId('split-k').fill(String(k));
  // The typed peer id with "always split": no probe, the volunteer serves exactly one session.
  await user.getByTestId('split-route').selectOption('split');
  await user.getByTestId('split-volunteer').fill(volunteerPeer);
  const prompt = 'The secret word is pineapple';
  await user.getByTestId('llm-prompt').fill(prompt);
  await user.getByTestId('llm-max-tokens').fill('8');
  await user.getByTestId('llm-generate').click();

  await expect(user.getByTestId('split-result')).toBeVisible({ timeout: 180_000 });
  await expect(user.getByTestId('split-error')).toHaveCount(0);
  const output = (await user.getByTestId('split-output').textContent()) ?? '';
  expect(output.length).toBeGreaterThan(0);
  await expect(user.getByTestId('split-proof')).toContainText('signed by your wallet');
  await expect(user.getByTestId('split-submitted')).toContainText(/published for epoch \d+/);
  await expect(user.getByTestId('split-route-taken')).toHaveText('Split with a volunteer');
  await expect(user.getByTestId('split-switch-count')).toHaveText('0');
  const decodeSteps = await user.getByTestId('split-step').filter({ hasText: 'decode' }).count();
  expect(decodeSteps).toBeGreaterThan(0);
  await expect(volunteer.getByTestId('split-served')).toHaveText('1');
  await expect(volunteer.getByTestId('split-published')).toHaveText('1');

  // Every plaintext request, as the user's page handed it to the node for sealing.
  const seen = (await user.evaluate(() => window.__sprintnetSplit!))!;
  expect(seen.promptTokens.length).toBeGreaterThan(2);
  const requests = seen.requests.map((r) => Uint8Array.from(r));
  const kinds = requests.map((r) => decodeRequest(r).kind);
  expect(kinds[0]).toBe('open');
  expect(kinds).toContain('close');
  expect(kinds[kinds.length - 1]).toBe('submit');
  let positions = 0;
  for (const r of requests) {
    const m = decodeRequest(r);
    if (m.kind !== 'step') continue;
    // A step carries structure (session, model hash, k, step, position, count) and h_k: count rows of D f32 values, nothing else.
    expect(m.k).toBe(k);
    expect(m.precision).toBe(Precision.f32);
    expect(m.position).toBe(positions);
    const values = decodeFloats(m.hidden, m.precision, 'h_k');
    expect(values.length).toBe(m.count * hidden);
    positions += m.count;
  }
  expect(positions).toBeGreaterThanOrEqual(seen.promptTokens.length + decodeSteps - 1);
  // The prompt's ids (as u32 or u16, little-endian) and its text occur in no request.
  const u32 = new Uint8Array(Uint32Array.from(seen.promptTokens).buffer);
  const u16 = new Uint8Array(Uint16Array.from(seen.promptTokens).buffer);
  const text = new TextEncoder().encode('pineapple');
  for (const r of requests) {
    expect(contains(r, u32)).toBe(false);
    expect(contains(r, u16)).toBe(false);
    expect(contains(r, text)).toBe(false);
  }
  console.log(`split e2e: ${requests.length} requests, ${positions} positions of h_k (D ${hidden}, k ${k} of ${layers}), output ${JSON.stringify(output)}`);
});

test("with a weighted validator holding the model, the volunteer page earns inference CU in both pages' ledgers", async ({ browser }) => {
  test.setTimeout(540_000);
  const dir = mkdtempSync(join(tmpdir(), 'sprintnet-split-cu-e2e-'));
  const modelDir = join(dir, 'model');
  writeTestModel(modelDir, { layers: 4, seed: 3 });
  // The validator holds weight from the genesis, so it can judge in the first epoch.
  const hostSeed = '3c'.repeat(32);
  const hostKey = (await identityFromEd25519Seed(Uint8Array.from(Buffer.from(hostSeed, 'hex')))).publicKey;
  const started = await startWeightedNetwork(dir, { weightedKey: hostKey, startInMs: 20_000 });
  relay = started.relay;
  const { relays, genesis, genesisPath, network } = started;
  host = spawnSprintnet(modelHostArgs({ seed: hostSeed, relay: relays[0]!, genesisPath, dataDir: join(dir, 'host'), modelDir }));
  await waitForOutput(host, /serving split inference: model [0-9a-f]{16}…/, 90_000);

  const load = async (page: Page) => {
    await page.getByTestId('llm-folder-input').setInputFiles(modelDir);
    await expect(page.getByTestId('llm-model')).toBeVisible({ timeout: 120_000 });
  };
  const [first, second] = vectorsFile.vectors;
  const path = '/?split-test&engine-test#/model';
  const volunteer = await openNetworkPage(browser, network, { mnemonic: first!.mnemonic, name: 'volunteer', path });
  const user = await openNetworkPage(browser, network, { mnemonic: second!.mnemonic, name: 'user', path });
  for (const p of [volunteer, user]) {
    await takePart(p);
    await openScreen(p, 'model');
    await load(p);
  }
  const volunteerPeer = await startServing(volunteer);
  const volunteerKey = Buffer.from(peerPublicKey(volunteerPeer)).toString('hex');

  await chooseSplit(user, { k: 2, route: 'split' });
  await user.getByTestId('split-volunteer').fill(volunteerPeer);
  await user.getByTestId('llm-max-tokens').fill('6');
  // A session counts in the epoch whose [start, proof deadline) holds its proof: start one well inside such a window.
  await waitForProofWindow(genesis, 12_000);
  // One try: a call with the relayed connection in hand used to join discovery's failing WebRTC dial (src/node/reqresp-relayed.test.ts).
  await user.getByTestId('llm-generate').click();
  await expect(user.getByTestId('split-result').or(user.getByTestId('split-error'))).toBeVisible({ timeout: 120_000 });
  await expect(user.getByTestId('split-error')).toHaveCount(0);
  await expect(user.getByTestId('split-submitted')).toContainText(/published for epoch \d+/);
  const epoch = Number((await user.getByTestId('split-submitted').textContent())!.match(/published for epoch (\d+)/)![1]);
  await waitForOutput(host, /judged inference proof [0-9a-f]{12}…: consistent/, 60_000);
  const cuIn = async (p: Page) =>
    p.evaluate((key) => window.__sprintnetEngine?.snapshot()?.runtime?.ledger?.rows.find((r) => r.publicKey === key)?.inferenceCuTotal ?? 0, volunteerKey);
  for (const [name, p] of [
    ['volunteer', volunteer],
    ['user', user],
  ] as const) {
    await expect.poll(() => cuIn(p), { timeout: 180_000, intervals: [2_000] }).toBeGreaterThan(0);
    console.log(`split CU e2e: ${name} page's ledger credits the volunteer ${await cuIn(p)} inference CU (epoch ${epoch})`);
  }
  await expect(volunteer.getByTestId('split-cu')).toContainText(/Inference CU credited to you in the ledger: [1-9]/);
});

test('the user page finds the volunteer in the announced list; the router runs locally when fast enough and splits with the best ranked', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const { volunteer, volunteerPeer, user } = await volunteerAndUser(browser);
  await chooseSplit(user, { k: 1, route: 'auto' });
  // The volunteer's announcement reaches the user's page through the relay and fills the list.
  const row = volunteerRow(user, volunteerPeer);
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(user.getByTestId('split-pick-auto')).toBeChecked();
  await user.getByTestId('llm-prompt').fill('The secret word is pineapple');
  await user.getByTestId('llm-max-tokens').fill('6');

  // Automatic, with a low bar: this device is fast enough, so the whole model runs here and nothing is sent.
  await user.getByTestId('split-target').fill('0.5');
  await user.getByTestId('llm-generate').click();
  await expect(user.getByTestId('split-route-taken')).toHaveText('Ran on this device', { timeout: 120_000 });
  await expect(user.getByTestId('split-route-numbers')).toContainText(/whole model \d+(\.\d)? tok\/s/);
  await expect(user.getByTestId('llm-generate')).toBeEnabled({ timeout: 120_000 });
  expect((await user.getByTestId('split-output').textContent())!.length).toBeGreaterThan(0);
  expect(await user.evaluate(() => window.__sprintnetSplit!.requests.length)).toBe(0);

  // Always split, the best ranked: the listed volunteer is pinged (no session), ranked and chosen.
  await user.getByTestId('split-route').selectOption('split');
  await user.getByTestId('llm-generate').click();
  await expect(user.getByTestId('split-result').or(user.getByTestId('split-error'))).toBeVisible({ timeout: 180_000 });
  await expect(user.getByTestId('split-error')).toHaveCount(0);
  await expect(user.getByTestId('split-route-taken')).toHaveText('Split with a volunteer');
  const ranked = user.getByTestId('split-ranked');
  await expect(ranked).toHaveCount(1);
  await expect(ranked.first()).toContainText(volunteerPeer.slice(-8));
  await expect(ranked.first()).toContainText('chosen');
  await expect(ranked.first()).toContainText(/unweighted|weighted/);
  await expect(user.getByTestId('split-proof')).toContainText('signed by your wallet');
  await expect(user.getByTestId('split-switch-count')).toHaveText('0');
  // The ranking pinged it (no session): the request is the only session served.
  await expect(volunteer.getByTestId('split-served')).toHaveText('1');
  await expect(volunteer.getByTestId('split-published')).toHaveText('1');
  // Picking from the list is the manual override: it fills the peer id.
  await row.getByTestId('split-pick').check();
  await expect(user.getByTestId('split-volunteer')).toHaveValue(volunteerPeer);
  console.log(`split list e2e: ${await user.getByTestId('split-route-numbers').textContent()} | ${await ranked.first().textContent()}`);
});
