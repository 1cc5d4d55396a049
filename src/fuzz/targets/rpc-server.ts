/**
 * The request/response server (serveCall in src/node/reqresp.ts) on an in-memory stream: real sealed
 * requests from a few clients, damaged at the frame level (head kind, ephemeral key, announced
 * length, dropped, repeated, reordered or extra frames, a flipped ciphertext bit) and at the byte
 * level, cut into arbitrary chunks, ended by close, reset or silence (then the deadline). Every call
 * must settle, answer or refuse with a typed error, and give back its stream slot and budget.
 */
import fc from 'fast-check';
import { RequestTimeoutError } from '../../node/errors.ts';
import { FRAME_BODY, FRAME_REQUEST_HEAD, MAX_BODY_CHUNK, u32le } from '../../node/framing.ts';
import { DEFAULT_REQUEST_LIMITS, StreamGuard, serveCall, type RequestHandler, type ServeCall } from '../../node/reqresp.ts';
import { requesterKeys, seal } from '../../node/sealed-box.ts';
import { FakeStream, encodeFrames } from '../../node/fake-stream.ts';
import { INTERESTING_U32, InvariantError, applyMutations, type FuzzTarget, type Mutation, type Outcome } from '../harness.ts';
import { LOW_ORDER_X25519, SMALL_ORDER_ED25519, key } from './samples.ts';
import { at } from '../../sprint/indexing.ts';

const PROTOCOL = '/sprintnet/sprintnet-local/rpc/echo/1';

type FrameEdit =
  | { kind: 'head-kind'; value: number }
  | { kind: 'ephemeral'; bytes: Uint8Array }
  | { kind: 'length'; value: number; relative: boolean }
  | { kind: 'drop' | 'dup' | 'swap' | 'empty'; at: number }
  | { kind: 'extra'; frame: Uint8Array }
  | { kind: 'flip'; at: number; bit: number };

interface Input {
  client: number;
  identity: 'real' | 'none' | 'small-order';
  request: number;
  edits: FrameEdit[];
  bytes: Mutation[];
  cuts: number[];
  ending: 'close' | 'silent' | 'reset';
  handler: 'echo' | 'fail' | 'empty';
  guard: 'default' | 'tight' | 'full';
  maxRequestBytes: number;
}

export const rpcServerTarget: FuzzTarget<Input> = {
  name: 'rpc-server',
  covers: 'serveCall: request head, announced length, body frames, decryption, handler, answer, stream cap and byte budget (src/node/reqresp.ts)',
  async setup() {
    const server = key(20);
    const clients = [21, 22, 23].map(key);
    const sizes = [0, 1, 300, 20_000, 40_000];
    const requests = clients.map((c) =>
      sizes.map((size) => {
        const keys = requesterKeys(c.seed, server.pub, PROTOCOL);
        const sealed = seal(keys.requestKey, new Uint8Array(size).fill(size & 0xff), PROTOCOL);
        const head = new Uint8Array(37);
        head[0] = FRAME_REQUEST_HEAD;
        head.set(keys.ephemeralPublic, 1);
        head.set(u32le(sealed.length), 33);
        const frames = [head];
        for (let at = 0; at < sealed.length; at += MAX_BODY_CHUNK) frames.push(Uint8Array.of(FRAME_BODY, ...sealed.subarray(at, at + MAX_BODY_CHUNK)));
        return frames;
      }),
    );
    const guards = {
      default: new StreamGuard(),
      tight: new StreamGuard({ maxBufferedBytes: 24 * 1024, maxBufferedBytesPerPeer: 16 * 1024, maxStreamsPerPeer: 2 }),
      full: new StreamGuard({ maxBufferedBytes: 1 << 20, maxBufferedBytesPerPeer: 1 << 20, maxStreamsPerPeer: 2 }),
    };
    const handlers: Record<Input['handler'], RequestHandler> = {
      echo: async (r) => r,
      fail: async () => {
        throw new Error('handler failed');
      },
      empty: async () => new Uint8Array(0),
    };
    const edit: fc.Arbitrary<FrameEdit> = fc.oneof(
      fc.record({ kind: fc.constant('head-kind' as const), value: fc.constantFrom(0, 2, 3, 4, 0xff) }),
      fc.record({
        kind: fc.constant('ephemeral' as const),
        bytes: fc.oneof(fc.constantFrom(...LOW_ORDER_X25519), fc.uint8Array({ minLength: 32, maxLength: 32 })),
      }),
      fc.record({
        kind: fc.constant('length' as const),
        value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(...INTERESTING_U32)),
        relative: fc.boolean(),
      }),
      fc.record({ kind: fc.constantFrom('drop' as const, 'dup' as const, 'swap' as const, 'empty' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('extra' as const),
        frame: fc.oneof(fc.constant(Uint8Array.of(FRAME_BODY, 1)), fc.uint8Array({ minLength: 1, maxLength: 40 })),
      }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    );
    const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
    );
    const arbitrary: fc.Arbitrary<Input> = fc.record({
      client: fc.nat({ max: clients.length - 1 }),
      identity: fc.constantFrom<Input['identity']>('real', 'real', 'real', 'real', 'real', 'real', 'none', 'small-order'),
      request: fc.nat({ max: sizes.length - 1 }),
      edits: fc.oneof({ weight: 1, arbitrary: fc.constant<FrameEdit[]>([]) }, { weight: 4, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }) }),
      bytes: fc.oneof({ weight: 6, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 2 }) }),
      cuts: fc.array(fc.nat(), { maxLength: 5 }),
      ending: fc.constantFrom<Input['ending']>('close', 'close', 'close', 'close', 'silent', 'reset'),
      handler: fc.constantFrom<Input['handler']>('echo', 'echo', 'echo', 'fail', 'empty'),
      guard: fc.constantFrom<Input['guard']>('default', 'default', 'tight', 'full'),
      maxRequestBytes: fc.constantFrom(DEFAULT_REQUEST_LIMITS.maxRequestBytes, 10, 300, 30_000),
    });

    const framesFor = (input: Input): Uint8Array => {
      const frames: Uint8Array[] = at(at(requests, input.client, 'client'), input.request, 'request').map((f) => f.slice());
      const head = at(frames, 0, 'head frame'); // edits below may move it, not replace it
      for (const e of input.edits) {
        const i = 'at' in e ? e.at % frames.length : 0;
        switch (e.kind) {
          case 'head-kind':
            head[0] = e.value;
            break;
          case 'ephemeral':
            head.set(e.bytes, 1);
            break;
          case 'length': {
            const announced = new DataView(head.buffer).getUint32(33, true);
            head.set(u32le(e.relative ? Math.max(0, announced + (e.value | 0)) % 2 ** 32 : e.value >>> 0), 33);
            break;
          }
          case 'drop':
            if (frames.length > 1) frames.splice(i, 1);
            break;
          case 'dup':
            frames.splice(i, 0, at(frames, i, 'frame').slice());
            break;
          case 'swap': {
            const [first, second] = frames.slice(i, i + 2);
            if (first && second) frames.splice(i, 2, second, first);
            break;
          }
          case 'empty':
            frames.splice(i, 0, Uint8Array.of(FRAME_BODY));
            break;
          case 'extra':
            frames.push(e.frame);
            break;
          case 'flip': {
            const f = frames.at(-1);
            if (f && frames.length > 1 && f.length > 1) f[1 + (e.at % (f.length - 1))]! ^= 1 << e.bit; // index < f.length
            break;
          }
        }
      }
      return applyMutations(encodeFrames(frames), input.bytes);
    };

    return {
      arbitrary,
      async run(input): Promise<Outcome> {
        const guard = guards[input.guard];
        const client = at(clients, input.client, 'client');
        const call: ServeCall = {
          ownSeed: server.seed,
          peerId: client.peerId,
          remotePublicKey: input.identity === 'real' ? client.pub : input.identity === 'none' ? undefined : SMALL_ORDER_ED25519[input.client],
          protocol: PROTOCOL,
          handler: handlers[input.handler],
          limits: { ...DEFAULT_REQUEST_LIMITS, maxRequestBytes: input.maxRequestBytes },
          guard,
        };
        const bytes = framesFor(input);
        // 'full': the peer already has every stream slot, so this call must be refused as busy.
        const held = input.guard === 'full' ? [guard.admit(client.peerId), guard.admit(client.peerId)] : [];
        const points = [...new Set(input.cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let last = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(last, p));
          last = p;
        }
        const stream = new FakeStream();
        const deadline = new AbortController();
        let settled = false;
        const done = serveCall(stream, call, deadline.signal).finally(() => (settled = true));
        await stream.deliver(chunks, { keepOpen: input.ending !== 'close' });
        if (input.ending === 'reset') stream.reset();
        await new Promise((r) => setImmediate(r));
        // A requester that goes silent is cut off by the deadline.
        if (!settled) deadline.abort(new RequestTimeoutError('deadline'));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const outcome = await Promise.race([done, new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), 3_000)))]);
        clearTimeout(timer);
        for (const release of held) release();
        if (outcome === 'hang') throw new InvariantError('serveCall did not settle after the deadline');
        if (guard.openStreams() !== 0 || guard.budget.usedBytes() !== 0) {
          throw new InvariantError(`leak: ${guard.openStreams()} streams, ${guard.budget.usedBytes()} bytes still held`);
        }
        if (input.guard === 'full' && outcome.ok) throw new InvariantError('a peer over the stream cap was served');
        if (outcome.ok) return 'accepted';
        throw outcome.error; // counted as a typed rejection when it is one
      },
    };
  },
};
