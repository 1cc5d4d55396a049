import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import { PeerGoneError, RequestError, RequestTimeoutError } from '../node/errors.ts';
import { submitProof } from '../split/evidence.ts';
import { decodeRequest, encodeAnswer, Phase, type SplitRequest } from '../split/codec.ts';
import type { ReferenceKvCache } from '../llm/reference.ts';
import { seedSigner, strictVerifier } from '../split/local.ts';
import { checkProof, encodeProof } from '../split/proof.ts';
import { NETWORK, rigVolunteer, seedOf, testRig, type TestRig } from '../split/test-support.ts';
import type { SplitTransport } from '../split/transport.ts';
import { splitGenerate, type SplitGenerateOptions } from '../split/user.ts';
import { failoverSummary, ObservedTransport, ReachingTransport, transportOfLastSegment } from './split-failover.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const USER = seedOf(7);
const K = 4;

/** Volunteers v0, v1, … for USER, seeded from `base`. */
const volunteers = (base: number, count: number) =>
  Array.from({ length: count }, (_, i) => rigVolunteer(rig, USER, { seed: seedOf(base + i), label: `v${i}` }));

/** A split generation at layer K with no EOS, thresholds loose enough (τ 2, no entropy cap) that only the links decide who serves. */
const split = (
  prompt: readonly number[],
  transports: readonly SplitTransport[],
  more: Partial<SplitGenerateOptions<ReferenceKvCache>> & { maxTokens: number },
) =>
  splitGenerate(prompt, {
    model: rig.model,
    k: K,
    privacy: 'allow-split',
    modelHash: rig.hash,
    volunteers: transports,
    thresholds: { ...rig.calibration, tau: 2, maxEntropy: 100 },
    signer: seedSigner(USER),
    networkId: NETWORK,
    eosTokenIds: [],
    ...more,
  });

/** The proof checks against the rig's model record at τ 2. */
const checkRigProof = (proof: Uint8Array) => checkProof(proof, NETWORK, () => ({ hash: rig.hash, config: rig.model.config, tau: 2 }), strictVerifier);

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

/** Counts what goes per call (sealed by the link) and what goes as session frames (sealed by the user), and keeps the frames. */
class Counted implements SplitTransport {
  calls = 0;
  readonly frames: Uint8Array[] = [];
  constructor(private readonly inner: SplitTransport) {}
  get volunteerKey() {
    return this.inner.volunteerKey;
  }
  get label() {
    return this.inner.label;
  }
  call(request: Uint8Array): Promise<Uint8Array> {
    this.calls++;
    return this.inner.call(request);
  }
  callSession(frame: Uint8Array): Promise<Uint8Array> {
    this.frames.push(frame.slice());
    return this.inner.callSession!(frame);
  }
}

const keyHex = (m: SplitRequest) => (m.kind === 'open' && m.sessionKey ? Buffer.from(m.sessionKey).toString('hex') : null);

describe('failover in the browser wiring', () => {
  it('skips an unreachable volunteer, survives one that times out and one that disconnects, and ends with the unsplit greedy output', async () => {
    const prompt = rig.prompts[2]!;
    const unsplit = await generate(rig.model, prompt, { maxTokens: 20, eosTokenIds: [] });
    const vols = volunteers(60, 4);
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
    const result = await split(prompt, transports, {
      maxTokens: 20,
      connectRetryMs: 10,
      onStep: (s) => {
        if (s.volunteer === 'v2' && s.phase === 'decode' && ++decodeOnV2 === 5) vols[2]!.link.disconnect();
      },
    });
    expect(result.tokens).toEqual(unsplit.tokens);
    // v0 never got a session: dialled twice (one retry of a failure to reach it), then skipped, which is not a switch of a live volunteer.
    expect(dials).toEqual(['v0', 'v0', 'v1', 'v2', 'v3']);
    expect(result.reconnects).toBe(1);
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
    expect(checkRigProof(encodeProof(s3!.proof!))).toMatchObject({ ok: true });
  });

  it('a failed dial is tried again on the next call', async () => {
    const v = rigVolunteer(rig, USER, { seed: seedOf(70) });
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

  it('with volunteers that take frames: each session is keyed, the next volunteer gets a fresh key and the rebuild as frames, and every plaintext is observed before sealing', async () => {
    const prompt = rig.prompts[3]!;
    const unsplit = await generate(rig.model, prompt, { maxTokens: 12, eosTokenIds: [] });
    const vols = volunteers(80, 2);
    const links = vols.map((v) => new Counted(v.link));
    const seen: { volunteer: string; request: SplitRequest }[] = [];
    const transports = links.map(
      (l, i) => new ObservedTransport(new ReachingTransport(l, async () => undefined), (p) => seen.push({ volunteer: `v${i}`, request: decodeRequest(p) })),
    );
    expect(transports.every((t) => typeof t.callSession === 'function')).toBe(true);
    let decodeOnV0 = 0;
    const result = await split(prompt, transports, {
      maxTokens: 12,
      onStep: (s) => {
        if (s.volunteer === 'v0' && s.phase === 'decode' && ++decodeOnV0 === 4) vols[0]!.link.disconnect();
      },
    });
    expect(result.tokens).toEqual(unsplit.tokens);
    expect(failoverSummary(result)).toEqual({ switches: 1, served: ['v0', 'v1'], finalVolunteer: 'v1' });
    const proof = encodeProof(result.segments[1]!.proof!);
    expect(checkRigProof(proof)).toMatchObject({ ok: true });
    // The submit goes per call to the last segment's volunteer (this one runs no ledger and says so).
    await expect(submitProof(transportOfLastSegment(result, transports)!, proof)).rejects.toThrow(/does not publish proofs/);

    const of = (v: string) => seen.filter((x) => x.volunteer === v).map((x) => x.request);
    const [on0, on1] = [of('v0'), of('v1')];
    // Only the open (and the submit) went per call; every step and the close went as frames, each one observed first
    // (on v0 the fifth decode step too: observed and framed, then the link was gone).
    expect(links[0]!.calls).toBe(1);
    expect(links[1]!.calls).toBe(2);
    expect(on0.filter((m) => m.kind !== 'open')).toHaveLength(links[0]!.frames.length);
    expect(on1.filter((m) => m.kind !== 'open' && m.kind !== 'submit')).toHaveLength(links[1]!.frames.length);
    expect(on1.at(-1)?.kind).toBe('submit');
    expect(on1.at(-2)?.kind).toBe('close');
    // Two sessions, each with its own ephemeral key in its open.
    const [k0, k1] = [keyHex(on0[0]!), keyHex(on1[0]!)];
    expect(k0).toMatch(/^[0-9a-f]{64}$/);
    expect(k1).toMatch(/^[0-9a-f]{64}$/);
    expect(k1).not.toBe(k0);
    // v1's first frame is the rebuild: one prefill of the prompt and the 4 tokens accepted on v0.
    expect(on1[1]).toMatchObject({ kind: 'step', phase: Phase.prefill, position: 0, count: prompt.length + 4 });
    expect(result.segments[1]!.steps[0]).toMatchObject({ phase: Phase.prefill, position: 0, count: prompt.length + 4 });
    // What went on the wire is ciphertext: no frame decodes as a request, and no observed h_k occurs in a frame.
    for (const f of links.flatMap((l) => l.frames)) {
      expect([f[0], f[1]]).toEqual([1, 0x10]);
      expect(() => decodeRequest(f)).toThrow();
    }
    const hidden = (on1[1] as Extract<SplitRequest, { kind: 'step' }>).hidden.subarray(0, 16);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(links[1]!.frames.some((f) => hex(f).includes(hex(hidden)))).toBe(false);
  });

  it('offers no session frames when the link has none, so the session is sealed per call', async () => {
    const v = rigVolunteer(rig, USER, { seed: seedOf(90) });
    const perCallOnly: SplitTransport = { volunteerKey: v.link.volunteerKey, label: 'per call', call: (r) => v.link.call(r) };
    const seen: string[] = [];
    const t = new ObservedTransport(new ReachingTransport(perCallOnly, async () => undefined), (p) => seen.push(decodeRequest(p).kind));
    expect(t.callSession).toBeUndefined();
    const result = await split(rig.prompts[1]!, [t], { maxTokens: 4 });
    expect(result.segments[0]!.proof).toBeTruthy();
    expect(seen[0]).toBe('open');
    expect(seen.at(-1)).toBe('close');
    expect(v.link.calls).toBe(seen.length);
  });
});

/** Fails the first `failures` opens the way a call does when it never reached the volunteer (or answers them with `answer`); the rest pass. */
class FlakyOpens implements SplitTransport {
  opens = 0;
  readonly callSession?: (frame: Uint8Array) => Promise<Uint8Array>;
  constructor(
    private readonly inner: SplitTransport,
    private readonly failures: number,
    private readonly failure: () => Error | Uint8Array,
  ) {
    const session = inner.callSession?.bind(inner);
    if (session) this.callSession = (frame) => session(frame);
  }
  get volunteerKey() {
    return this.inner.volunteerKey;
  }
  get label() {
    return this.inner.label;
  }
  async call(request: Uint8Array): Promise<Uint8Array> {
    if (decodeRequest(request).kind === 'open' && ++this.opens <= this.failures) {
      const f = this.failure();
      if (f instanceof Error) throw f;
      return f;
    }
    return this.inner.call(request);
  }
}

describe('a volunteer that failed while connecting is tried once more', () => {
  const run = (transports: SplitTransport[], onStep?: (s: { volunteer: string; phase: string }) => void) =>
    split(rig.prompts[0]!, transports, { maxTokens: 8, connectRetryMs: 20, ...(onStep ? { onStep } : {}) });
  const cannotReach = () => new RequestError('cannot reach v0: WebRTC: connection closed');

  it('one failed connect: the same volunteer serves the whole generation, no switch', async () => {
    const unsplit = await generate(rig.model, rig.prompts[0]!, { maxTokens: 8, eosTokenIds: [] });
    const vols = volunteers(100, 2);
    const first = new FlakyOpens(vols[0]!.link, 1, cannotReach);
    const dials: string[] = [];
    const transports = [
      new ReachingTransport(first, async () => void dials.push('v0')),
      new ReachingTransport(vols[1]!.link, async () => void dials.push('v1')),
    ];
    const result = await run(transports);
    expect(result.tokens).toEqual(unsplit.tokens);
    expect(first.opens).toBe(2);
    expect(result.reconnects).toBe(1);
    expect(failoverSummary(result)).toEqual({ switches: 0, served: ['v0'], finalVolunteer: 'v0' });
    // The failed call made the transport reach again (a fresh circuit), and v1 was never dialled.
    expect(dials).toEqual(['v0', 'v0']);
    expect(vols[1]!.link.calls).toBe(0);
    expect(result.segments[0]!.proof).toBeTruthy();
  });

  it('two failed connects in a row: the next volunteer serves', async () => {
    const vols = volunteers(110, 2);
    const first = new FlakyOpens(vols[0]!.link, 2, () => new PeerGoneError('stream to v0 failed: reset'));
    const result = await run([first, vols[1]!.link]);
    expect(first.opens).toBe(2);
    expect(result.reconnects).toBe(1);
    expect(failoverSummary(result)).toEqual({ switches: 0, served: ['v1'], finalVolunteer: 'v1' });
  });

  it('an answer is not retried: a typed refusal or a timeout moves on at once', async () => {
    for (const failure of [
      () => encodeAnswer({ kind: 'error', code: 'LIMIT', message: 'too many sessions' }),
      () => new RequestTimeoutError('no response from v0 within 30000 ms'),
    ]) {
      const vols = volunteers(120, 2);
      const first = new FlakyOpens(vols[0]!.link, 1, failure);
      const result = await run([first, vols[1]!.link]);
      expect(first.opens).toBe(1);
      expect(result.reconnects).toBe(0);
      expect(failoverSummary(result).served).toEqual(['v1']);
    }
  });

  it('after a live volunteer is lost, the next one is retried once when its first connect fails', async () => {
    const unsplit = await generate(rig.model, rig.prompts[0]!, { maxTokens: 8, eosTokenIds: [] });
    const vols = volunteers(130, 2);
    const second = new FlakyOpens(vols[1]!.link, 1, () => new RequestError('cannot reach v1: WebRTC: connection closed'));
    let decodeOnV0 = 0;
    const result = await run([vols[0]!.link, second], (s) => {
      if (s.volunteer === 'v0' && s.phase === 'decode' && ++decodeOnV0 === 3) vols[0]!.link.disconnect();
    });
    expect(result.tokens).toEqual(unsplit.tokens);
    expect(second.opens).toBe(2);
    expect(result.reconnects).toBe(1);
    expect(failoverSummary(result)).toEqual({ switches: 1, served: ['v0', 'v1'], finalVolunteer: 'v1' });
  });
});
