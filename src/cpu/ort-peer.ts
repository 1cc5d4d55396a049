/**
 * The CPU backend's peer: onnxruntime-web's wasm execution provider (SIMD, threads) running one
 * MatMul / Gemm of the same shape with f32 weights, in this process. Benchmarks only (Node).
 */
import { matmulModel } from './onnx-model.ts';
import type { MatmulShape } from './probe.ts';
import { medianRate } from './median-rate.ts';

export interface PeerMatmulResult {
  /** The faster of MatMul (B as [K,N]) and Gemm (transB, B as [N,K]). */
  readonly gflops: number;
  readonly op: 'MatMul' | 'Gemm';
  readonly byOp: Record<'MatMul' | 'Gemm', number>;
  readonly threads: number;
  readonly version: string;
}

let configuredThreads: number | null = null;

export async function measureOrtMatmul(shape: MatmulShape, threads: number, seconds = 0.5): Promise<PeerMatmulResult> {
  const ort = await import('onnxruntime-web');
  // onnxruntime-web fixes its thread pool at the first session of the process.
  if (configuredThreads === null) {
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.simd = true;
    configuredThreads = threads;
  } else if (configuredThreads !== threads) {
    throw new Error(`onnxruntime-web already runs ${configuredThreads} threads in this process`);
  }
  const { M, K, N } = shape;
  const weights = new Float32Array(K * N);
  for (let i = 0; i < weights.length; i++) weights[i] = (((i * 2654435761) >>> 24) * 2 - 255) / 4096;
  const input = new Float32Array(M * K);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i) * 0.5;
  const byOp = { MatMul: 0, Gemm: 0 };
  for (const op of ['MatMul', 'Gemm'] as const) {
    const session = await ort.InferenceSession.create(matmulModel(op, M, K, N, weights), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    try {
      const x = new ort.Tensor('float32', input, [M, K]);
      const once = async () => {
        const { Y: y } = await session.run({ X: x });
        if (!y) throw new Error(`the ${op} model gave no output Y`);
        y.dispose();
      };
      // Half the window each for MatMul and Gemm.
      byOp[op] = ((await medianRate(once, seconds / 2)).perSecond * 2 * M * K * N) / 1e9;
    } finally {
      await session.release();
    }
  }
  const op = byOp.Gemm > byOp.MatMul ? 'Gemm' : 'MatMul';
  return { gflops: byOp[op], op, byOp, threads, version: ort.env.versions?.web ?? 'unknown' };
}
