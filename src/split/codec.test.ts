import { beforeAll, describe, expect, it } from 'vitest';
import { numberToF16 } from '../llm/dtype.ts';
import {
  decodeAnswer,
  decodeRequest,
  encodeAnswer,
  encodeFloats,
  encodeRequest,
  EvidencePart,
  Phase,
  Precision,
  type EvidenceAnswer,
  type EvidenceRequest,
  type StepRequest,
} from './codec.ts';
import { MAX_EVIDENCE_CHUNK, MAX_POSITIONS_PER_REQUEST, MAX_REQUEST_BYTES } from './constants.ts';
import { isSplitError, SplitError } from './errors.ts';
import { seedSigner } from './local.ts';
import { NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import { SplitVolunteer } from './volunteer.ts';

let rig: TestRig;
beforeAll(async () => {
  rig = await testRig();
});

const session = new Uint8Array(16).fill(3);
const hash = new Uint8Array(32).fill(4);
const step = (o: Partial<StepRequest> = {}): StepRequest => ({
  kind: 'step',
  sessionId: session,
  modelHash: hash,
  k: 2,
  step: 0,
  position: 0,
  count: 2,
  phase: Phase.prefill,
  precision: Precision.f32,
  hidden: encodeFloats(new Float32Array(2 * 64).fill(0.5), Precision.f32),
  ...o,
});
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isSplitError(e)) return e.code;
    throw e;
  }
  return 'ok';
};

describe('session codec', () => {
  it('round-trips every message kind', () => {
    for (const m of [
      { kind: 'open', sessionId: session, modelHash: hash, k: 3, maxContext: 512 } as const,
      { kind: 'open', sessionId: session, modelHash: hash, k: 3, maxContext: 512, sessionKey: new Uint8Array(32).fill(9) } as const,
      step(),
      step({ phase: Phase.decode, count: 1, precision: Precision.f16, hidden: encodeFloats(new Float32Array(64).fill(-1.5), Precision.f16) }),
      { kind: 'rewind', sessionId: session, step: 7 } as const,
      { kind: 'close', sessionId: session } as const,
      { kind: 'submit', proof: new Uint8Array([1, 2, 3]) } as const,
      { kind: 'evidence', user: hash, sessionId: session, part: EvidencePart.logits, step: 9, offset: 4096, length: 1024 } as const,
      { kind: 'evidence', user: hash, sessionId: session, part: EvidencePart.hk, step: 0, offset: 0, length: MAX_EVIDENCE_CHUNK } as const,
    ]) {
      expect(decodeRequest(encodeRequest(m))).toEqual(m);
    }
    for (const a of [
      { kind: 'opened', sessionId: session, numLayers: 8, hiddenSize: 64, vocab: 384, openedAtMs: 5 } as const,
      { kind: 'opened', sessionId: session, numLayers: 8, hiddenSize: 64, vocab: 384, openedAtMs: 5, sessionKey: new Uint8Array(32).fill(8) } as const,
      {
        kind: 'stepped',
        sessionId: session,
        step: 2,
        position: 9,
        precision: Precision.f32,
        logits: encodeFloats([1, 2, 3], Precision.f32),
        cost: 0.25,
        entropy: 1.5,
      } as const,
      { kind: 'rewound', sessionId: session, step: 2, length: 9 } as const,
      { kind: 'receipt', sessionId: session, receipt: new Uint8Array([1, 2]), signature: new Uint8Array(64) } as const,
      { kind: 'error', code: 'OUT_OF_ORDER', message: 'step 3, expected 2' } as const,
      { kind: 'error', code: 'FORBIDDEN', message: 'evidence goes to validators only' } as const,
      { kind: 'submitted', note: 'published for epoch 3' } as const,
      { kind: 'evidence', part: EvidencePart.leaves, step: 0, offset: 32, total: 96, bytes: new Uint8Array(64).fill(7) } as const,
    ]) {
      expect(decodeAnswer(encodeAnswer(a))).toEqual(a);
    }
  });

  it('refuses evidence chunks of no, or more than MAX_EVIDENCE_CHUNK, bytes, unknown parts, a step on a part without one, and chunks outside their part', () => {
    const ask = (o: Partial<{ part: number; step: number; offset: number; length: number }>) =>
      code(() =>
        decodeRequest(
          encodeRequest({ kind: 'evidence', user: hash, sessionId: session, part: EvidencePart.hk, step: 0, offset: 0, length: 64, ...o } as EvidenceRequest),
        ),
      );
    expect(ask({})).toBe('ok');
    expect(ask({ length: 0 })).toBe('LIMIT');
    expect(ask({ length: MAX_EVIDENCE_CHUNK + 1 })).toBe('LIMIT');
    expect(ask({ part: 3 })).toBe('MALFORMED');
    expect(ask({ part: EvidencePart.leaves, step: 2 })).toBe('MALFORMED');
    expect(ask({ part: EvidencePart.logits, step: 2 })).toBe('ok');
    const answer = (o: Partial<{ part: number; step: number; offset: number; total: number; bytes: Uint8Array }>) =>
      code(() =>
        decodeAnswer(
          encodeAnswer({ kind: 'evidence', part: EvidencePart.hk, step: 0, offset: 0, total: 64, bytes: new Uint8Array(64), ...o } as EvidenceAnswer),
        ),
      );
    expect(answer({})).toBe('ok');
    expect(answer({ bytes: new Uint8Array(0) })).toBe('MALFORMED');
    expect(answer({ offset: 1 })).toBe('MALFORMED');
    expect(answer({ total: 63 })).toBe('MALFORMED');
    expect(answer({ part: 9 })).toBe('MALFORMED');
    expect(answer({ step: 1 })).toBe('MALFORMED');
    // A chunk over the limit is refused by its length prefix, before the bytes are read.
    expect(answer({ bytes: new Uint8Array(MAX_EVIDENCE_CHUNK + 1), total: MAX_EVIDENCE_CHUNK + 1 })).toBe('MALFORMED');
  });

  it('refuses truncated, trailing, oversize, unknown and non-finite input with typed errors', () => {
    const good = encodeRequest(step());
    expect(code(() => decodeRequest(good.subarray(0, good.length - 1)))).toBe('MALFORMED');
    expect(code(() => decodeRequest(new Uint8Array([...good, 0])))).toBe('MALFORMED');
    expect(code(() => decodeRequest(new Uint8Array([2, ...good.subarray(1)])))).toBe('MALFORMED'); // version
    expect(code(() => decodeRequest(new Uint8Array([1, 99])))).toBe('MALFORMED'); // kind
    expect(code(() => decodeRequest(new Uint8Array(MAX_REQUEST_BYTES + 1)))).toBe('LIMIT');
    expect(code(() => decodeRequest(encodeRequest(step({ count: MAX_POSITIONS_PER_REQUEST + 1 }))))).toBe('LIMIT');
    expect(code(() => decodeRequest(encodeRequest(step({ phase: Phase.decode }))))).toBe('MALFORMED'); // decode with 2 positions
    expect(code(() => decodeRequest(encodeRequest(step({ hidden: new Uint8Array(12) }))))).toBe('MALFORMED'); // not 2 whole rows
    const nan = encodeFloats(new Float32Array(128).fill(NaN), Precision.f32);
    expect(code(() => decodeRequest(encodeRequest(step({ hidden: nan }))))).toBe('MALFORMED');
    const inf16 = new Uint8Array(256);
    new DataView(inf16.buffer).setUint16(0, numberToF16(Infinity), true);
    expect(code(() => decodeRequest(encodeRequest(step({ precision: Precision.f16, hidden: inf16 }))))).toBe('MALFORMED');
    const badCost = encodeAnswer({
      kind: 'stepped',
      sessionId: session,
      step: 0,
      position: 0,
      precision: Precision.f32,
      logits: encodeFloats([1, 2], Precision.f32),
      cost: 3,
      entropy: 0,
    });
    expect(code(() => decodeAnswer(badCost))).toBe('MALFORMED');
    expect(code(() => decodeAnswer(new Uint8Array([1, 0xff, 200, 0, 0, 0, 0, 0])))).toBe('MALFORMED'); // unknown error code
    expect(() => decodeRequest('x' as unknown as Uint8Array)).toThrow(SplitError);
  });
});

describe('volunteer refusals', () => {
  const user = seedSigner(seedOf(7)).publicKey;
  const other = seedSigner(seedOf(8)).publicKey;
  const ask = async (v: SplitVolunteer, m: Parameters<typeof encodeRequest>[0], peer = user) => decodeAnswer(await v.handle(encodeRequest(m), peer));
  const make = () =>
    new SplitVolunteer({
      model: rig.model,
      lowestK: 2,
      modelHash: rig.hash,
      normWeight: rig.norm,
      signer: seedSigner(seedOf(9)),
      networkId: NETWORK,
      maxSessionsPerPeer: 1,
    });
  const open = { kind: 'open', sessionId: session, modelHash: new Uint8Array(0), k: 2, maxContext: 64 } as const;

  it('checks the model, the split layer, the order of steps, who owns a session, and per-peer limits', async () => {
    const v = make();
    const D = rig.model.config.hiddenSize;
    const opened = { ...open, modelHash: rig.hash };
    expect(await ask(v, { ...open, modelHash: hash })).toMatchObject({ kind: 'error', code: 'WRONG_MODEL' });
    expect(await ask(v, { ...opened, k: 1 })).toMatchObject({ kind: 'error', code: 'WRONG_MODEL' });
    expect(await ask(v, opened)).toMatchObject({ kind: 'opened', numLayers: 8, hiddenSize: D });
    expect(await ask(v, opened)).toMatchObject({ kind: 'error', code: 'BAD_SESSION' });
    expect(await ask(v, { ...opened, sessionId: new Uint8Array(16) })).toMatchObject({ kind: 'error', code: 'LIMIT' }); // one per peer here
    const rows = (n: number) => encodeFloats(new Float32Array(n * D).fill(0.1), Precision.f32);
    const s = (o: Partial<StepRequest>) => step({ modelHash: rig.hash, hidden: rows(2), ...o });
    expect(await ask(v, s({}), other)).toMatchObject({ kind: 'error', code: 'UNKNOWN_SESSION' }); // another peer cannot use it
    expect(await ask(v, s({ phase: Phase.decode, count: 1, hidden: rows(1) }))).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER' }); // decode before prefill
    expect(await ask(v, s({ step: 1 }))).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER' });
    expect(await ask(v, s({ position: 5 }))).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER' });
    expect(await ask(v, s({ hidden: encodeFloats(new Float32Array(2 * 32), Precision.f32) }))).toMatchObject({ kind: 'error', code: 'MALFORMED' });
    expect(await ask(v, s({}))).toMatchObject({ kind: 'stepped', step: 0, position: 0, cost: 0 });
    expect(await ask(v, { kind: 'rewind', sessionId: session, step: 1 })).toMatchObject({ kind: 'error', code: 'BAD_SESSION' });
    expect(await ask(v, { kind: 'rewind', sessionId: session, step: 0 })).toMatchObject({ kind: 'rewound', length: 0 });
    expect(await ask(v, { kind: 'rewind', sessionId: session, step: 0 })).toMatchObject({ kind: 'error', code: 'BAD_SESSION' }); // once only
    expect(await ask(v, s({ position: 0, count: 2 }))).toMatchObject({ kind: 'stepped', step: 0 });
    expect(await ask(v, s({ step: 1, position: 2, phase: Phase.decode, count: 1, hidden: rows(1) }))).toMatchObject({ kind: 'stepped', step: 1, position: 2 });
    expect(await ask(v, s({ step: 2, position: 3 }))).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER' }); // prefill after decode
    expect(await ask(v, { kind: 'close', sessionId: session }, other)).toMatchObject({ kind: 'error', code: 'UNKNOWN_SESSION' });
    expect(await ask(v, { kind: 'close', sessionId: session })).toMatchObject({ kind: 'receipt' });
    expect(v.openSessions).toBe(0);
  });

  it('answers garbage with an error, never a throw', async () => {
    const v = make();
    const a = decodeAnswer(await v.handle(new Uint8Array([1, 2, 3]), user));
    expect(a).toMatchObject({ kind: 'error', code: 'MALFORMED' });
  });
});
