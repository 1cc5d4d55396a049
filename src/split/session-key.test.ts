/**
 * The per-session key (session-key.ts, docs/split-inference.md §2a): test vectors, recomputed from
 * the primitives as the text states them; replay, reordering, reflection and a foreign key refused
 * with typed errors; and a volunteer that takes a session's steps only as frames under its key.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAnswer, encodeAnswer, encodeRequest, Phase, Precision, encodeFloats } from './codec.ts';
import { isSplitError } from './errors.ts';
import { seedSigner } from './local.ts';
import {
  deriveSessionKeys,
  Direction,
  FRAME_HEAD_BYTES,
  frameHead,
  isFrame,
  openFrame,
  sealFrame,
  sessionEphemeral,
  UserChannel,
  VolunteerChannel,
  type SessionKeys,
} from './session-key.ts';
import { NETWORK, seedOf, testRig, type TestRig } from './test-support.ts';
import { MemoryLink, type SplitServer } from './transport.ts';
import { splitGenerate } from './user.ts';
import { SplitVolunteer } from './volunteer.ts';

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isSplitError(e)) return e.code;
    throw e;
  }
};

describe('session key: test vectors', () => {
  const eu = new Uint8Array(32).fill(0x11);
  const ev = new Uint8Array(32).fill(0x22);
  const Eu = x25519.getPublicKey(eu);
  const Ev = x25519.getPublicKey(ev);
  const t = {
    sessionId: new Uint8Array(16).fill(0x33),
    user: new Uint8Array(32).fill(0x44),
    volunteer: new Uint8Array(32).fill(0x55),
    userEphemeral: Eu,
    volunteerEphemeral: Ev,
  };

  it('derives the same keys on both sides, equal to HKDF over the text’s inputs and to the pinned vector', () => {
    const user = deriveSessionKeys(eu, Ev, t);
    expect(deriveSessionKeys(ev, Eu, t)).toEqual(user);
    const info = concatBytes(new TextEncoder().encode('sprintnet/split/session/v1'), t.user, t.volunteer, Eu, Ev);
    const okm = hkdf(sha256, x25519.getSharedSecret(eu, Ev), t.sessionId, info, 64);
    expect(bytesToHex(user.toVolunteer)).toBe(bytesToHex(okm.subarray(0, 32)));
    expect(bytesToHex(user.toUser)).toBe(bytesToHex(okm.subarray(32)));
    expect(bytesToHex(Eu)).toBe('7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13');
    expect(bytesToHex(Ev)).toBe('0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20');
    expect(bytesToHex(user.toVolunteer)).toBe('5325679daae145049e4b829d8186875a6b83ba83520415cfd8f3cca76c51fcb2');
    expect(bytesToHex(user.toUser)).toBe('566f9f16a8525e2b1ca4183a942b86efdb6d0a2a62edecf0a892f69ef3e1c1b3');
    // Any change of the transcript gives other keys (the wallets, the ephemerals and the session are all bound).
    for (const change of [{ user: t.volunteer }, { volunteer: t.user }, { sessionId: new Uint8Array(16) }, { userEphemeral: Ev }]) {
      expect(deriveSessionKeys(eu, Ev, { ...t, ...change }).toVolunteer).not.toEqual(user.toVolunteer);
    }
  });

  it('seals frames as the text says: head ‖ XChaCha20-Poly1305 with nonce direction ‖ u64 counter ‖ zeros and the head ‖ direction as associated data', () => {
    const k = deriveSessionKeys(eu, Ev, t);
    const up = sealFrame(k.toVolunteer, Direction.toVolunteer, t.sessionId, 7, Uint8Array.of(1, 2, 3));
    const down = sealFrame(k.toUser, Direction.toUser, t.sessionId, 7, Uint8Array.of(4, 5));
    expect(bytesToHex(up)).toBe('0110333333333333333333333333333333330700000000000000625bb36620c7cc4e46dad2b75e9f826c36e8c1');
    expect(bytesToHex(down)).toBe('01103333333333333333333333333333333307000000000000002426c4eb79f571813622eefcd788c8444bb5');
    const nonce = new Uint8Array(24);
    nonce[0] = 1;
    nonce[1] = 7;
    const head = down.subarray(0, FRAME_HEAD_BYTES);
    expect([...xchacha20poly1305(k.toUser, nonce, concatBytes(head, Uint8Array.of(1))).decrypt(down.subarray(FRAME_HEAD_BYTES))]).toEqual([4, 5]);
    expect(frameHead(up)).toEqual({ sessionId: t.sessionId, counter: 7 });
    expect(isFrame(up) && !isFrame(encodeRequest({ kind: 'close', sessionId: t.sessionId }))).toBe(true);
  });

  it('refuses non-canonical and low-order ephemeral keys', () => {
    const high = hexToBytes('ff'.repeat(32));
    expect(codeOf(() => deriveSessionKeys(eu, high, t))).toBe('MALFORMED');
    expect(codeOf(() => deriveSessionKeys(eu, new Uint8Array(32), t))).toBe('MALFORMED');
    expect(codeOf(() => deriveSessionKeys(eu, Uint8Array.of(1, ...new Uint8Array(31)), t))).toBe('MALFORMED');
    expect(codeOf(() => deriveSessionKeys(eu, Ev.subarray(0, 31), t))).toBe('MALFORMED');
  });
});

describe('session channels', () => {
  const pair = (): { keys: SessionKeys; id: Uint8Array } => {
    const a = sessionEphemeral();
    const b = sessionEphemeral();
    const id = crypto.getRandomValues(new Uint8Array(16));
    const t = { sessionId: id, user: seedOf(1), volunteer: seedOf(2), userEphemeral: a.publicKey, volunteerEphemeral: b.publicKey };
    return { keys: deriveSessionKeys(a.secret, b.publicKey, t), id };
  };

  it('carries requests and answers in order; a replay or a reordered frame is OUT_OF_ORDER and changes nothing', () => {
    const { keys, id } = pair();
    const user = new UserChannel(id, keys);
    const volunteer = new VolunteerChannel(id, keys);
    const r0 = user.seal(Uint8Array.of(10));
    const r1 = user.seal(Uint8Array.of(11));
    const r2 = user.seal(Uint8Array.of(12));
    expect(volunteer.open(r0.frame)).toEqual({ plaintext: Uint8Array.of(10), counter: 0 });
    expect([...user.open(volunteer.seal(Uint8Array.of(20), 0), 0)]).toEqual([20]);
    expect(codeOf(() => volunteer.open(r0.frame))).toBe('OUT_OF_ORDER');
    expect(volunteer.open(r2.frame).counter).toBe(2);
    expect(codeOf(() => volunteer.open(r1.frame))).toBe('OUT_OF_ORDER');
    // An answer for another request, or the user's own frame reflected back, is refused.
    expect(codeOf(() => user.open(volunteer.seal(Uint8Array.of(21), 2), 1))).toBe('BAD_RESPONSE');
    expect(codeOf(() => user.open(r2.frame, 2))).toBe('BAD_RESPONSE');
  });

  it('refuses a frame changed in any byte, under another session’s key, or moved to another session', () => {
    const a = pair();
    const b = pair();
    const frame = new UserChannel(a.id, a.keys).seal(Uint8Array.of(1, 2, 3)).frame;
    for (const i of [1, 5, FRAME_HEAD_BYTES - 1, FRAME_HEAD_BYTES, frame.length - 1]) {
      const bad = frame.slice();
      bad[i]! ^= 1;
      expect(codeOf(() => new VolunteerChannel(a.id, a.keys).open(bad))).toMatch(/BAD_SESSION|MALFORMED/);
    }
    expect(codeOf(() => new VolunteerChannel(b.id, b.keys).open(frame))).toBe('BAD_SESSION');
    const moved = frame.slice();
    moved.set(b.id, 2);
    expect(codeOf(() => openFrame(a.keys.toVolunteer, Direction.toVolunteer, moved))).toBe('BAD_SESSION');
    expect(codeOf(() => frameHead(frame.subarray(0, 30)))).toBe('MALFORMED');
  });
});

describe('a volunteer with session keys', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await testRig();
  });
  const USER = seedOf(71);
  const VOLUNTEER = seedOf(72);
  const volunteerOn = () =>
    new SplitVolunteer({ model: rig.model, lowestK: 1, modelHash: rig.hash, normWeight: rig.norm, signer: seedSigner(VOLUNTEER), networkId: NETWORK });
  const run = (server: SplitServer, sessionKey?: boolean) =>
    splitGenerate(rig.prompts[0]!, {
      model: rig.model,
      k: 2,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [new MemoryLink(server, VOLUNTEER, USER)],
      thresholds: rig.calibration,
      signer: seedSigner(USER),
      networkId: NETWORK,
      maxTokens: 6,
      eosTokenIds: [],
      sessionKey,
    });

  it('takes every step and the close as frames after a sealed open; without session keys every call is sealed on its own; same tokens', async () => {
    const v = volunteerOn();
    const seen = { calls: 0, frames: 0 };
    const counting: SplitServer = {
      publicKey: v.publicKey,
      handle: (r, p, c) => (seen.calls++, v.handle(r, p, c)),
      handleSession: (f, p) => (seen.frames++, v.handleSession(f, p)),
    };
    const keyed = await run(counting);
    expect(seen).toEqual({ calls: 1, frames: keyed.segments[0]!.steps.length + 1 });
    expect(keyed.segments[0]!.proof).not.toBeNull();
    seen.calls = seen.frames = 0;
    const perCall = await run(counting, false);
    expect(seen.frames).toBe(0);
    expect(seen.calls).toBe(perCall.segments[0]!.steps.length + 2);
    expect(perCall.tokens).toEqual(keyed.tokens);
    // A server the transport cannot deliver frames to declines the key: the session is sealed per call.
    seen.calls = seen.frames = 0;
    const noFrames = await run({ publicKey: v.publicKey, handle: (r, p) => (seen.calls++, v.handle(r, p)) });
    expect(noFrames.tokens).toEqual(keyed.tokens);
    expect(seen.frames).toBe(0);
  });

  it('a volunteer that answers a session key nobody asked for, or an unusable one, is given up', async () => {
    const v = volunteerOn();
    const injecting = (key: Uint8Array): SplitServer => ({
      publicKey: v.publicKey,
      handle: async (r, p, c) => {
        const a = decodeAnswer(await v.handle(r, p, c));
        return a.kind === 'opened' ? encodeAnswer({ ...a, sessionKey: key }) : encodeAnswer(a);
      },
    });
    await expect(run(injecting(sessionEphemeral().publicKey), false)).rejects.toMatchObject({ code: 'NO_VOLUNTEER' });
    await expect(run(injecting(new Uint8Array(32)))).rejects.toMatchObject({ code: 'NO_VOLUNTEER' });
  });

  it('refuses in the clear, typed, a replayed frame, a frame of another user, and a plaintext step of a keyed session', async () => {
    const v = volunteerOn();
    const user = seedSigner(USER).publicKey;
    const mine = sessionEphemeral();
    const id = new Uint8Array(16).fill(9);
    const opened = decodeAnswer(
      await v.handle(encodeRequest({ kind: 'open', sessionId: id, modelHash: rig.hash, k: 2, maxContext: 64, sessionKey: mine.publicKey }), user, {
        sessionKeys: true,
      }),
    );
    if (opened.kind !== 'opened' || !opened.sessionKey) throw new Error('no session key');
    const keys = deriveSessionKeys(mine.secret, opened.sessionKey, {
      sessionId: id,
      user,
      volunteer: v.publicKey,
      userEphemeral: mine.publicKey,
      volunteerEphemeral: opened.sessionKey,
    });
    const channel = new UserChannel(id, keys);
    const step = encodeRequest({
      kind: 'step',
      sessionId: id,
      modelHash: rig.hash,
      k: 2,
      step: 0,
      position: 0,
      count: 1,
      phase: Phase.prefill,
      precision: Precision.f32,
      hidden: encodeFloats(new Float32Array(64).fill(0.1), Precision.f32),
    });
    const first = channel.seal(step);
    expect(decodeAnswer(channel.open(await v.handleSession(first.frame, user), first.counter))).toMatchObject({ kind: 'stepped', step: 0 });
    expect(decodeAnswer(await v.handleSession(first.frame, user))).toMatchObject({ kind: 'error', code: 'OUT_OF_ORDER' });
    expect(decodeAnswer(await v.handleSession(channel.seal(step).frame, seedOf(5)))).toMatchObject({ kind: 'error', code: 'UNKNOWN_SESSION' });
    expect(decodeAnswer(await v.handle(encodeRequest({ kind: 'close', sessionId: id }), user))).toMatchObject({ kind: 'error', code: 'BAD_SESSION' });
    // A request of another kind inside a frame is answered sealed, as an error.
    const inner = channel.seal(encodeRequest({ kind: 'open', sessionId: id, modelHash: rig.hash, k: 2, maxContext: 64 }));
    expect(decodeAnswer(channel.open(await v.handleSession(inner.frame, user), inner.counter))).toMatchObject({ kind: 'error', code: 'BAD_SESSION' });
    // The close's receipt comes sealed; the session and its key are gone after it.
    const close = channel.seal(encodeRequest({ kind: 'close', sessionId: id }));
    expect(decodeAnswer(channel.open(await v.handleSession(close.frame, user), close.counter))).toMatchObject({ kind: 'receipt' });
    const after = channel.seal(encodeRequest({ kind: 'close', sessionId: id }));
    expect(decodeAnswer(await v.handleSession(after.frame, user))).toMatchObject({ kind: 'error', code: 'UNKNOWN_SESSION' });
  });
});
