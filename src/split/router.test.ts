import { beforeAll, describe, expect, it } from 'vitest';
import { isSplitError } from './errors.ts';
import { localVolunteer, seedSigner } from './local.ts';
import { splitGenerate } from './user.ts';
import { chooseRoute, measureDecodeRate, probeVolunteer, splitRate } from './router.ts';
import { NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import type { SplitTransport } from './transport.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

describe('routing', () => {
  it('measures the device and the volunteer, and splits only when that is faster', async () => {
    const full = await measureDecodeRate(rig.model);
    const prefix = await measureDecodeRate(rig.model, { toLayer: 2 });
    expect(full).toBeGreaterThan(0);
    expect(prefix).toBeGreaterThan(full); // 2 of 8 layers
    const v = localVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      networkId: NETWORK,
      userSeed: seedOf(7),
      seed: seedOf(50),
    });
    const probe = await probeVolunteer(v.link, { modelHash: rig.hash, k: 2, hiddenSize: rig.model.config.hiddenSize });
    expect(probe.stepMs).toBeGreaterThan(0);
    expect(v.volunteer.openSessions).toBe(0);
    // Fast enough here: local, whatever the volunteer does.
    expect(
      chooseRoute({ privacy: 'allow-split', localTokensPerSecond: full, prefixTokensPerSecond: prefix, volunteers: [probe], targetTokensPerSecond: full / 2 })
        .route,
    ).toBe('local');
    // A device too slow for the target (the same measurements, the target above them): the faster of the two.
    const slow = chooseRoute({
      privacy: 'allow-split',
      localTokensPerSecond: full / 100,
      prefixTokensPerSecond: prefix,
      volunteers: [probe],
      targetTokensPerSecond: full * 10,
    });
    expect(slow).toMatchObject({ route: 'split', volunteers: [probe.label] });
    expect(slow.tokensPerSecond).toBeCloseTo(splitRate(prefix, probe.stepMs), 9);
    expect(
      chooseRoute({ privacy: 'allow-split', localTokensPerSecond: 1e9, prefixTokensPerSecond: prefix, volunteers: [probe], targetTokensPerSecond: 1e12 }).route,
    ).toBe('local');
  });

  it('never sends h_k on "this device only", even when the device is slow', async () => {
    let calls = 0;
    const spy: SplitTransport = {
      volunteerKey: new Uint8Array(32),
      label: 'spy',
      call: async () => {
        calls++;
        throw new Error('must not be called');
      },
    };
    const route = chooseRoute({
      privacy: 'device-only',
      localTokensPerSecond: 0.01,
      prefixTokensPerSecond: 100,
      volunteers: [{ label: spy.label, stepMs: 1 }],
      targetTokensPerSecond: 50,
    });
    expect(route.route).toBe('local');
    // And the session itself refuses before computing or calling anything.
    await expect(
      splitGenerate(rig.prompts[0]!, {
        model: rig.model,
        k: 2,
        privacy: 'device-only',
        modelHash: rig.hash,
        volunteers: [spy],
        thresholds: rig.calibration,
        signer: seedSigner(seedOf(7)),
        networkId: NETWORK,
        maxTokens: 4,
      }),
    ).rejects.toMatchObject({ code: 'PRIVACY' });
    expect(calls).toBe(0);
    try {
      chooseRoute({
        privacy: 'device-only',
        localTokensPerSecond: null,
        prefixTokensPerSecond: 100,
        volunteers: [{ label: 'fast', stepMs: 1 }],
        targetTokensPerSecond: 50,
      });
      expect.unreachable();
    } catch (e) {
      expect(isSplitError(e, 'PRIVACY')).toBe(true);
    }
  });
});
