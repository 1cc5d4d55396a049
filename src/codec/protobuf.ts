/**
 * A protobuf wire-format writer, enough to write ONNX models by hand (the onnxruntime peers of the
 * benchmarks: ../cpu/onnx-model.ts, ../llm/onnx-llama.ts) without a protobuf library. Fields are
 * written in call order; nested messages are built first, then written length-delimited.
 */
import { concatBytes } from './binary.ts';

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }

  /** Base-128 varint; negative values as their 64-bit two's complement (protobuf int64). */
  varint(v: number | bigint): this {
    const out: number[] = [];
    let n = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) byte |= 0x80;
      out.push(byte);
    } while (n > 0n);
    return this.bytes(Uint8Array.from(out));
  }

  /** Varint field (wire type 0). */
  int(field: number, v: number | bigint): this {
    return this.varint(field << 3).varint(v);
  }

  /** 32-bit float field (wire type 5). */
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.varint((field << 3) | 5).bytes(b);
  }

  /** Length-delimited field (wire type 2). */
  len(field: number, payload: Uint8Array): this {
    return this.varint((field << 3) | 2)
      .varint(payload.length)
      .bytes(payload);
  }

  str(field: number, s: string): this {
    return this.len(field, textEncoder.encode(s));
  }

  msg(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.len(field, w.finish());
  }

  finish(): Uint8Array {
    return concatBytes(this.parts);
  }
}
