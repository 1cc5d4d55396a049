import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import { RequestTimeoutError } from '../node/errors.ts';
import { Phase } from '../split/codec.ts';
import { localVolunteer, seedSigner, strictVerifier } from '../split/local.ts';
import { checkProof, encodeProof } from '../split/proof.ts';
import { NETWORK, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import type { SplitTransport } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { failoverSummary, ReachingTransport, transportOfLastSegment } from './split-failover.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const USER = seedOf(7);
const K = 4;

/** A link that stops answering after `answers` calls, as NodeTransport does when the call's deadline passes. */
class TimingOut implements SplitTransport {
  calls = 0;
  constructor(
    private readonly inner: SplitTransport,
    private readonly answers: number,
  ) {}
  get volunteerKey() {
    return this.inner.volunteerKey;
  }
  get label() {
    return this.inner.label;
  }
  call(request: Uint8Array): Promise<Uint8Array> {
    if (++this.calls > this.answers) return Promise.reject(new RequestTimeoutError(`${this.label}: no answer within the deadline`));
    return this.inner.call(request);
  }
}

describe('failover in the browser wiring', () => {
  it('skips an unreachable volunteer, survives one that times out and one that disconnects, and ends with the unsplit greedy output', async () => {
    const prompt = rig.prompts[2]!;
    const unsplit = await generate(rig.model, prompt, { maxTokens: 20, eosTokenIds: [] });
    const vols = [0, 1, 2, 3].map((i) =>
      localVolunteer({
        model: rig.model,
        lowestK: 1,
        modelHash: rig.hash,
        normWeight: rig.norm,
        networkId: NETWORK,
        userSeed: USER,
        seed: seedOf(60 + i),
        label: `v${i}`,
      }),
    );
    const dials: string[] = [];
    const reach = (label: string, ok: boolean) => async () => {
      dials.push(label);
      if (!ok) throw new Error('no relay circuit to it');
    };
    // Ranked order: v0 cannot be reached, v1 stops answering at its 6th call (open, prefill, 4 decode steps), v2 is cut after 5 more decode steps, v3 finishes.
    const transports = [
      new ReachingTransport(vols[0]!.link, reach('v0', false)),
      new ReachingTransport(new TimingOut(vols[1]!.link, 6), reach('v1', true)),
      new ReachingTransport(vols[2]!.link, reach('v2', true)),
      new ReachingTransport(vols[3]!.link, reach('v3', true)),
    ];
    let decodeOnV2 = 0;
    const result = await splitGenerate(prompt, {
      model: rig.model,
      k: K,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: transports,
      thresholds: { ...rig.calibration, tau: 2, maxEntropy: 100 },
      signer: seedSigner(USER),
      networkId: NETWORK,
      maxTokens: 20,
      eosTokenIds: [],
      onStep: (s) => {
        if (s.volunteer === 'v2' && s.phase === 'decode' && ++decodeOnV2 === 5) vols[2]!.link.disconnect();
      },
    });
    expect(result.tokens).toEqual(unsplit.tokens);
    // v0 never got a session: it is skipped while connecting, which is not a switch of a live volunteer.
    expect(dials).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(transports[0]!.lastProblem).toMatch(/unreachable: no relay circuit/);
    expect(transports[1]!.lastProblem).toMatch(/deadline/);
    expect(failoverSummary(result)).toEqual({ switches: 2, served: ['v1', 'v2', 'v3'], finalVolunteer: 'v3' });
    const [s1, s2, s3] = result.segments;
    expect(s1!.steps.filter((s) => s.phase === Phase.decode)).toHaveLength(4);
    expect(s2!.steps.filter((s) => s.phase === Phase.decode)).toHaveLength(5);
    // v3 rebuilt from the history: one prefill of the prompt and the 9 tokens accepted before, then the rest.
    expect(s3!.steps[0]).toMatchObject({ phase: Phase.prefill, position: 0, count: prompt.length + 9 });
    expect(s3!.steps.filter((s) => s.phase === Phase.decode)).toHaveLength(20 - 9);
    // The proof covers v3's session and goes to v3's transport.
    expect(transportOfLastSegment(result, transports)).toBe(transports[3]);
    const record = { hash: rig.hash, config: rig.model.config, tau: 2 };
    expect(checkProof(encodeProof(s3!.proof!), NETWORK, () => record, strictVerifier)).toMatchObject({ ok: true });
  });

  it('a failed dial is tried again on the next call', async () => {
    const v = localVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      networkId: NETWORK,
      userSeed: USER,
      seed: seedOf(70),
    });
    let tries = 0;
    const t = new ReachingTransport(v.link, async () => {
      if (++tries === 1) throw new Error('relay busy');
    });
    const close = Uint8Array.from([1, 4, ...new Uint8Array(16)]);
    await expect(t.call(close)).rejects.toMatchObject({ name: 'PeerGoneError' });
    // Reached now: the volunteer itself answers (an in-band error: it knows no such session).
    expect((await t.call(close)).length).toBeGreaterThan(0);
    expect(tries).toBe(2);
    await t.call(close);
    expect(tries).toBe(2);
  });
});
