/**
 * The CPU backend's own matmul, measured alone: Y[M,N] = X[M,K]·Wᵀ with u8 weights in the
 * engine's panel layout, on the engine's kernels and thread pool. The benchmark's `matmul_gflops`
 * for the CPU backend and the automatic backend choice both use it.
 */
import { Arena, bestKernelVariant, Ctrl, CTRL_BYTES, KC, kernelBytes, Mode, Op, Program, scratchBytes, STEP_WORDS, type KernelVariant } from './layout.ts';
import { ThreadPool, type ThreadSpawner } from './threads.ts';
import { medianRate } from './median-rate.ts';

export interface MatmulShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
}

export interface CpuMatmulResult {
  readonly gflops: number;
  readonly threads: number;
  readonly shape: MatmulShape;
  /** Matmuls timed (after one warm-up). */
  readonly runs: number;
  readonly seconds: number;
}

/** Times repeated matmuls for about `seconds` (median of 3 rounds). */
export async function measureCpuMatmul(
  shape: MatmulShape,
  options: { spawner: ThreadSpawner; threads?: number; seconds?: number; kernels?: KernelVariant },
): Promise<CpuMatmulResult> {
  const { M, K, N } = shape;
  if (K % 16 !== 0 || N % 8 !== 0) throw new RangeError('K must be a multiple of 16 and N of 8');
  const threads = options.threads ?? options.spawner.cores();
  const seconds = options.seconds ?? 0.5;
  const a = new Arena();
  const ctrl = a.alloc(CTRL_BYTES);
  const prog = a.alloc(STEP_WORDS * 4);
  const x = a.alloc(4 * M * K);
  const y = a.alloc(4 * M * N);
  const w = a.alloc(K * N);
  const stride = scratchBytes(M, 0);
  const scratch = a.alloc(stride * threads);
  const memory = new WebAssembly.Memory({ initial: a.pages, maximum: a.pages, shared: true });
  const i32 = new Int32Array(memory.buffer);
  const cw = ctrl >> 2;
  i32[cw + Ctrl.SCRATCH] = scratch;
  i32[cw + Ctrl.SCRATCH_STRIDE] = stride;
  i32[cw + Ctrl.KC] = KC;
  i32[cw + Ctrl.MAX_ROWS] = M;
  const f32 = new Float32Array(memory.buffer, x, M * K);
  for (let i = 0; i < f32.length; i++) f32[i] = Math.sin(i) * 0.5;
  const u8 = new Uint8Array(memory.buffer, w, K * N);
  for (let i = 0; i < u8.length; i++) u8[i] = (i * 2654435761) >>> 24;
  const chunk = Math.max(1, Math.floor(N / 8 / (threads * 8)));
  new Program().add(Op.MATMUL, [x, 4 * K, w, y, 4 * N, M, K, N, { f: 2 ** -12 }, 1, Mode.STORE, chunk]).write(i32, prog);
  const module = await WebAssembly.compile(kernelBytes(options.kernels ?? bestKernelVariant()) as BufferSource);
  const pool = await ThreadPool.create(options.spawner, module, memory, ctrl, threads);
  try {
    const once = async () => {
      i32[(prog >> 2) + 1] = 0;
      await pool.run(prog, 1);
    };
    const rate = await medianRate(once, seconds);
    return { gflops: (rate.perSecond * 2 * M * K * N) / 1e9, threads, shape, runs: rate.runs, seconds: rate.seconds };
  } finally {
    pool.terminate();
  }
}
