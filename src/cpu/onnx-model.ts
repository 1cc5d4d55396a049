/**
 * A minimal ONNX ModelProto writer (protobuf wire format by hand): one MatMul or Gemm node with its
 * weight as an initializer. Used by the onnxruntime-web wasm peer of the benchmark; no protobuf
 * library needed.
 */
import { ProtoWriter } from '../codec/protobuf.ts';

const FLOAT = 1;
const ATTR_INT = 2;

function valueInfo(w: ProtoWriter, field: number, name: string, dims: readonly number[]): void {
  w.msg(field, (v) => {
    v.str(1, name);
    v.msg(2, (t) =>
      t.msg(1, (tt) => {
        tt.int(1, FLOAT);
        tt.msg(2, (shape) => dims.forEach((d) => shape.msg(1, (dim) => dim.int(1, d))));
      }),
    );
  });
}

/**
 * Y[M,N] = X[M,K] · B with B an f32 initializer: `MatMul` takes B as [K,N]; `Gemm` with transB = 1
 * takes it as [N,K] (the engine's own [out, in] layout).
 */
export function matmulModel(op: 'MatMul' | 'Gemm', m: number, k: number, n: number, weights: Float32Array): Uint8Array {
  if (weights.length !== k * n) throw new RangeError('weights must hold K·N floats');
  const wDims = op === 'MatMul' ? [k, n] : [n, k];
  const root = new ProtoWriter();
  root.int(1, 8); // ir_version
  root.str(2, 'sprintnet-bench');
  root.msg(8, (o) => o.str(1, '').int(2, 17)); // opset 17
  root.msg(7, (g) => {
    g.msg(1, (node) => {
      node.str(1, 'X').str(1, 'W').str(2, 'Y').str(3, 'mm').str(4, op);
      if (op === 'Gemm') node.msg(5, (a) => a.str(1, 'transB').int(3, 1).int(20, ATTR_INT));
    });
    g.str(2, 'matmul');
    g.msg(5, (t) => {
      wDims.forEach((d) => t.int(1, d));
      t.int(2, FLOAT);
      t.str(8, 'W');
      t.len(9, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
    });
    valueInfo(g, 11, 'X', [m, k]);
    valueInfo(g, 12, 'Y', [m, n]);
  });
  return root.finish();
}
