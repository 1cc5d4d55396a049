/** The protobuf writer against encodings from the protobuf encoding guide. */
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('ProtoWriter', () => {
  it('writes varints, negative ones as 64-bit two’s complement', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('08 96 01');
    expect(hex(new ProtoWriter().varint(300).finish())).toBe('ac 02');
    expect(hex(new ProtoWriter().varint(-1).finish())).toBe('ff ff ff ff ff ff ff ff ff 01');
    expect(hex(new ProtoWriter().varint(2n ** 63n).finish())).toBe('80 80 80 80 80 80 80 80 80 01');
  });

  it('writes strings, nested messages and floats with their wire types', () => {
    expect(hex(new ProtoWriter().str(2, 'testing').finish())).toBe('12 07 74 65 73 74 69 6e 67');
    expect(hex(new ProtoWriter().msg(3, (m) => m.int(1, 150)).finish())).toBe('1a 03 08 96 01');
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('15 00 00 80 3f');
  });
});
