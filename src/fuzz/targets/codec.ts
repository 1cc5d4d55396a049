/** The canonical binary codec (src/codec/binary.ts): random schemas, encoded, mutated, decoded with the same schema. */
import fc from 'fast-check';
import { BinaryReader, BinaryWriter } from '../../codec/binary.ts';
import { applyMutations, type FuzzTarget } from '../harness.ts';

type Field =
  | { t: 'u8' | 'u16' | 'u32' | 'u64' | 'f64'; v: number }
  | { t: 'fixed'; v: Uint8Array }
  | { t: 'bytes'; max: number; v: Uint8Array }
  | { t: 'string'; max: number; v: string };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ t: fc.constant('u8' as const), v: fc.nat({ max: 0xff }) }),
  fc.record({ t: fc.constant('u16' as const), v: fc.nat({ max: 0xffff }) }),
  fc.record({ t: fc.constant('u32' as const), v: fc.nat({ max: 0xffffffff }) }),
  fc.record({ t: fc.constant('u64' as const), v: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)) }),
  fc.record({ t: fc.constant('f64' as const), v: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ t: fc.constant('fixed' as const), v: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ t: fc.constant('bytes' as const), max: fc.nat({ max: 80 }), v: fc.uint8Array({ maxLength: 60 }) }),
  fc.record({ t: fc.constant('string' as const), max: fc.nat({ max: 80 }), v: fc.string({ unit: 'binary', maxLength: 20 }) }),
);

interface Input {
  schema: Field[];
  bytes: Uint8Array;
  readerMax: number | undefined;
}

function encode(schema: Field[]): Uint8Array {
  const w = new BinaryWriter();
  for (const f of schema) {
    switch (f.t) {
      case 'fixed':
        w.fixed(f.v, f.v.length);
        break;
      case 'bytes':
        w.bytes(f.v);
        break;
      case 'string':
        w.string(f.v);
        break;
      default:
        w[f.t](f.v);
    }
  }
  return w.finish();
}

function decode(schema: Field[], bytes: Uint8Array, readerMax: number | undefined): void {
  const r = new BinaryReader(bytes, readerMax);
  for (const f of schema) {
    switch (f.t) {
      case 'fixed':
        r.fixed(f.v.length);
        break;
      case 'bytes':
        r.bytes(f.max);
        break;
      case 'string':
        r.string(f.max);
        break;
      default:
        r[f.t]();
    }
  }
  r.end();
}

export const codecTarget: FuzzTarget<Input> = {
  name: 'codec',
  covers: 'BinaryReader: u8/u16/u32/u64/f64/fixed/bytes/string/end over random schemas (src/codec/binary.ts)',
  async setup() {
    const mutationArb = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
        fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.nat({ max: 0xffffffff }) }),
        fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x80, 0xc0, 0xe0, 0xf0, 0xff, 0xed, 0x7f) }),
      ),
      { maxLength: 3 },
    );
    const arbitrary = fc
      .tuple(fc.array(field, { maxLength: 8 }), mutationArb, fc.option(fc.nat({ max: 100 }), { nil: undefined }))
      .map(([schema, mutations, readerMax]) => ({ schema, bytes: applyMutations(encode(schema), mutations), readerMax }));
    return {
      arbitrary,
      run(input) {
        decode(input.schema, input.bytes, input.readerMax);
        return 'accepted';
      },
    };
  },
};
