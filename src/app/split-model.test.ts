/**
 * WorkerRangeModel, the Worker-backed model of the browser's split sides, against the same model in
 * process: a stand-in for the LLM Worker that does what src/llm/worker.ts rangeForward does (caches
 * by id, created on first use, the caller's length applied first), then split sessions with both
 * the user and the volunteer on the proxy, an injected rewind included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import { localVolunteer, seedSigner } from '../split/local.ts';
import { NETWORK, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import { splitGenerate } from '../split/user.ts';
import { modelHashOf, splitModelOf, type RangeWorker } from './split-model.ts';
import { fakeWorker } from './split-test-support.ts';
import { decodeRateFor } from './split-route.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

describe('WorkerRangeModel', () => {
  it('measures the decode rate through the Worker once per model and layer range, and frees the caches it used', async () => {
    const worker = fakeWorker(rig);
    const m = await splitModelOf(worker);
    let forwards = 0;
    const counting: RangeWorker = {
      ...worker,
      rangeForward: (q) => {
        forwards++;
        return worker.rangeForward(q);
      },
    };
    const counted = await splitModelOf(counting);
    const whole = await decodeRateFor(counted);
    expect(whole).toBeGreaterThan(0);
    expect(forwards).toBe(9); // a warm-up and 8 timed single-token forwards
    expect(await decodeRateFor(counted)).toBe(whole);
    expect(await decodeRateFor(m)).toBe(whole); // same model hash: not measured again
    expect(forwards).toBe(9);
    const prefix = await decodeRateFor(counted, 2);
    expect(forwards).toBe(18);
    expect(prefix).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 0));
    expect(worker.caches.size).toBe(0);
  });

  it('hashes the model as src/split does', async () => {
    const facts = await fakeWorker(rig).splitModelFacts();
    expect(modelHashOf(facts.files)).toEqual(rig.hash);
  });

  it('runs both sides of a split session; greedy output equals unsplit, and a rewind keeps the caches in step', async () => {
    const worker = fakeWorker(rig);
    const m = await splitModelOf(worker);
    const user = seedOf(7);
    const v = localVolunteer({ model: m.model, lowestK: 1, modelHash: m.hash, normWeight: m.normWeight, networkId: NETWORK, userSeed: user, seed: seedOf(21) });
    const prompt = rig.prompts[1]!;
    const unsplit = await generate(rig.model, prompt, { maxTokens: 12, eosTokenIds: [] });
    // τ low enough that some decode step crosses it and is rewound (resampled), so lengths are set back through the proxy.
    const split = await splitGenerate(prompt, {
      model: m.model,
      k: 4,
      privacy: 'allow-split',
      modelHash: m.hash,
      volunteers: [v.link],
      thresholds: rig.calibration,
      signer: seedSigner(user),
      networkId: NETWORK,
      maxTokens: 12,
      eosTokenIds: [],
    });
    expect(split.tokens).toEqual(unsplit.tokens);
    expect(split.segments[0]!.proof).not.toBeNull();
    expect(split.userCacheLength).toBe(prompt.length + split.tokens.length);
    // The user's cache was freed (destroyKvCache) when the session ended; the volunteer's at close.
    await new Promise((r) => setTimeout(r, 0));
    expect(worker.caches.size).toBe(0);

    const rewound = await splitGenerate(prompt, {
      model: m.model,
      k: 4,
      privacy: 'allow-split',
      modelHash: m.hash,
      volunteers: [
        localVolunteer({ model: m.model, lowestK: 1, modelHash: m.hash, normWeight: m.normWeight, networkId: NETWORK, userSeed: user, seed: seedOf(22) }).link,
      ],
      thresholds: { tau: rig.calibration.tau, maxEntropy: 0 },
      signer: seedSigner(user),
      networkId: NETWORK,
      maxTokens: 4,
      eosTokenIds: [],
    });
    expect(rewound.rewinds).toBeGreaterThan(0);
    // The user's KV length equals the positions the volunteer accepted: the rewinds went through on both sides.
    expect(rewound.userCacheLength).toBe(rewound.steps.reduce((n, s) => n + s.positions, 0));
    expect(v.volunteer.cacheLengths?.() ?? []).toEqual([]);
  });
});
