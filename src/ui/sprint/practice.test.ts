import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { clearOtherPractice, ephemeralKey, fromHex, loadCurrentPractice, newPracticeSprint, savePractice, toHex } from './practice.ts';

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
});
