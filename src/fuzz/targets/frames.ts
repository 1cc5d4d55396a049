/**
 * Stream framing (src/node/framing.ts): frame sequences (request head, body frames, stray kinds)
 * length-prefixed, mutated and cut into arbitrary chunks, read through a budget-charged StreamInbox
 * by FrameReader.next / body / end. Checks that the bytes held never exceed what arrived.
 */
import fc from 'fast-check';
import { ByteBudget, FRAME_BODY, FRAME_REQUEST_HEAD, FRAME_RESPONSE_HEAD, FrameReader, StreamInbox, readU32le, u32le } from '../../node/framing.ts';
import { FakeStream, encodeFrames } from '../../node/fake-stream.ts';
import { INTERESTING_U32, InvariantError, applyMutations, hex, type FuzzTarget, type Outcome } from '../harness.ts';

interface Input {
  bytes: Uint8Array;
  cuts: number[];
  maxBody: number;
  budget: number;
  ending: 'close' | 'reset';
}

const frameSeq = fc
  .tuple(
    fc.uint8Array({ maxLength: 3000 }),
    fc.integer({ min: 1, max: 1200 }),
    fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 }), fc.constantFrom(...INTERESTING_U32)),
    fc.constantFrom(FRAME_REQUEST_HEAD, FRAME_RESPONSE_HEAD, FRAME_BODY, 0, 4, 0xff),
    fc.array(fc.tuple(fc.constantFrom(FRAME_BODY, FRAME_REQUEST_HEAD, 0x02, 0x00), fc.uint8Array({ maxLength: 40 })), { maxLength: 3 }),
  )
  .map(([body, chunk, lie, headKind, extra]) => {
    const head = new Uint8Array(37);
    head[0] = headKind;
    head.set(u32le(lie > 16 ? lie : Math.max(0, body.length + lie)), 33);
    const frames = [head];
    for (let at = 0; at < body.length; at += chunk) frames.push(Uint8Array.of(FRAME_BODY, ...body.subarray(at, at + chunk)));
    for (const [kind, bytes] of extra) frames.push(Uint8Array.of(kind, ...bytes));
    return encodeFrames(frames);
  });

const mutation = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x80, 0xff, 0x01, 0x03) }),
    fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x80, 0x80, 0x01), Uint8Array.of(0), Uint8Array.of(1, 3)),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  ),
  { maxLength: 3 },
);

export const framesTarget: FuzzTarget<Input> = {
  name: 'frames',
  covers: 'StreamInbox + FrameReader.next/body/end over chunked, mutated length-prefixed frames (src/node/framing.ts)',
  async setup() {
    const arbitrary: fc.Arbitrary<Input> = fc.record({
      bytes: fc.oneof(
        { weight: 9, arbitrary: fc.tuple(frameSeq, mutation).map(([b, m]): Uint8Array => applyMutations(b, m)) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) as fc.Arbitrary<Uint8Array> },
      ),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
      maxBody: fc.constantFrom(0, 100, 2000, 16_384, 4 * 1024 * 1024),
      budget: fc.constantFrom(64, 1024, 4096, 1 << 20),
      ending: fc.constantFrom<Input['ending']>('close', 'close', 'close', 'reset'),
    });
    return {
      arbitrary,
      async run(input): Promise<Outcome> {
        const budget = new ByteBudget(input.budget, input.budget);
        const lease = budget.lease('peer');
        const stream = new FakeStream();
        const inbox = new StreamInbox(stream, (n) => lease.take(n));
        const reader = new FrameReader(inbox);
        const points = [...new Set(input.cuts.map((c) => c % (input.bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let last = 0;
        for (const p of [...points, input.bytes.length]) {
          chunks.push(input.bytes.subarray(last, p));
          last = p;
        }
        const feeding = stream.deliver(chunks, { keepOpen: input.ending === 'reset' }).then(() => {
          if (input.ending === 'reset') stream.reset();
        });
        try {
          const head = await reader.next();
          if (lease.bytes > input.bytes.length || budget.usedBytes() > input.budget) throw new InvariantError('held more than arrived or than the budget');
          if (head[0] === FRAME_REQUEST_HEAD && head.length === 37) {
            const body = await reader.body(readU32le(head, 33), input.maxBody);
            if (body.length !== readU32le(head, 33)) throw new InvariantError('body length differs from the announcement');
          }
          await reader.end();
          return 'accepted';
        } finally {
          await feeding;
          inbox.detach();
          lease.release();
          if (budget.usedBytes() !== 0) throw new InvariantError(`budget leak of ${budget.usedBytes()} bytes`);
        }
      },
      describe: (input) => `cuts=${input.cuts.join(',')} maxBody=${input.maxBody} budget=${input.budget} ${input.ending} ${hex(input.bytes)}`,
    };
  },
};
