import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openSprintnetDb } from '../../wallet/index.ts';
import { clearOtherPractice, ephemeralKey, fromHex, loadCurrentPractice, loadPractice, newPracticeSprint, savePractice, toHex } from './practice.ts';

describe('practice Sprint persistence', () => {
  it('saves progress, loads the latest practice Sprint, and a new one replaces the old', async () => {
    expect(await loadCurrentPractice()).toBeNull();
    const key = ephemeralKey();
    expect(key.publicKey).toHaveLength(32);
    const first = newPracticeSprint('tiny', key);
    expect(fromHex(first.sprintSeedHex)).toHaveLength(32);
    expect(toHex(fromHex(first.publicKeyHex))).toBe(first.publicKeyHex);
    await savePractice({ ...first, nextNonce: 512, found: [{ nonce: 17, distance: 1.2 }] });
    expect(await loadCurrentPractice()).toMatchObject({ sprintId: first.sprintId, nextNonce: 512, found: [{ nonce: 17, distance: 1.2 }], keySource: 'ephemeral' });

    await new Promise((r) => setTimeout(r, 5));
    const second = newPracticeSprint('canonical', key);
    await savePractice(second);
    await clearOtherPractice(second.sprintId);
    expect((await loadCurrentPractice())?.sprintId).toBe(second.sprintId);
    expect(second.sprintSeedHex).not.toBe(first.sprintSeedHex);
  });

  it('two tabs saving one Sprint keep every find of both and the furthest resume point (issue 9: the last write won)', async () => {
    const [tabA, tabB] = [await openSprintnetDb('practice-two-tabs'), await openSprintnetDb('practice-two-tabs')];
    const sprint = newPracticeSprint('tiny', ephemeralKey());
    await savePractice(sprint, tabA);
    // Each tab loaded the Sprint at nonce 0 and then found something the other does not know about.
    const a = { ...sprint, nextNonce: 512, found: [{ nonce: 17, distance: 1.2 }] };
    const b = { ...sprint, nextNonce: 1024, found: [{ nonce: 900, distance: 1.1 }] };
    const [savedA, savedB] = await Promise.all([savePractice(a, tabA), savePractice(b, tabB)]);
    const both = { nextNonce: 1024, found: [{ nonce: 17, distance: 1.2 }, { nonce: 900, distance: 1.1 }] };
    expect(await loadPractice(sprint.sprintId, tabA)).toMatchObject(both);
    // The later of the two saves returns what the other tab had found, so its view catches up.
    expect([savedA, savedB].some((s) => s.found.length === 2 && s.nextNonce === 1024)).toBe(true);
    // A stale save (an older view of the same Sprint) moves nothing back.
    expect(await savePractice({ ...sprint, nextNonce: 100, found: [] }, tabB)).toMatchObject(both);
    expect(await loadPractice(sprint.sprintId, tabB)).toMatchObject(both);
    tabA.close();
    tabB.close();
  });
});
