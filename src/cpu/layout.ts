/**
 * The CPU backend's shared-memory contract with its kernels (assembly/cpu/index.ts): control-block
 * words, step records, op codes, and a bump allocator for the one shared WebAssembly.Memory.
 */
import { KERNELS_BASE64, KERNELS_RELAXED_BASE64 } from './kernels.wasm.ts';

/** i32 word indices of the control block. */
export const Ctrl = {
  JOB: 0,
  DONE: 1,
  QUIT: 2,
  BAR_COUNT: 3,
  BAR_GEN: 4,
  PROG: 5,
  STEPS: 6,
  SCRATCH: 7,
  SCRATCH_STRIDE: 8,
  THREADS: 9,
  KC: 10,
  MAX_ROWS: 11,
  ABORT: 12,
} as const;
export const CTRL_BYTES = 256;

export const Op = { GENERATE: 1, EMBED: 2, MATMUL: 3, ATTENTION: 4, OUTPUT: 5, COPY: 6 } as const;
export const Mode = { STORE: 0, RELU: 1, ADD: 2 } as const;
/** The LLM decoder's steps (assembly/cpu/llm.ts; programs written by src/llm/cpu-model.ts). */
export const LlmOp = { RMSNORM: 7, LINEAR: 8, ROPE: 9, ATTEND: 10, SILU_MUL: 11 } as const;
/** Weight element types of LlmOp.LINEAR. */
export const LlmDType = { F32: 0, F16: 1, BF16: 2 } as const;

/** i32 words per step: op, unit counter, 14 arguments. */
export const STEP_WORDS = 16;
/** Depth of the f32 panel buffer each thread converts u8 codes into (rows of 8 floats). */
export const KC = 256;
/** Bytes of OUTPUT's per-nonce info: fingerprint (4 words) and permutation keys (8 words). */
export const INFO_WORDS = 12;
/** The kernels' static data lies below this address (checked in kernels.test.ts). */
export const STATIC_BYTES = 65536;
const PAGE = 65536;

/** `simd`: WebAssembly SIMD; `relaxed-simd`: the same with fused multiply-adds in the matmul. */
export type KernelVariant = 'simd' | 'relaxed-simd';

export function kernelBytes(variant: KernelVariant = 'simd'): Uint8Array {
  const bin = atob(variant === 'relaxed-simd' ? KERNELS_RELAXED_BASE64 : KERNELS_BASE64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The faster build this runtime accepts (relaxed SIMD: Chrome ≥ 114, Node ≥ 22; not Node 20 without a flag). */
export function bestKernelVariant(): KernelVariant {
  try {
    return WebAssembly.validate(kernelBytes('relaxed-simd') as BufferSource) ? 'relaxed-simd' : 'simd';
  } catch {
    return 'simd';
  }
}

export const kernelName = (v: KernelVariant): string => (v === 'relaxed-simd' ? 'wasm-relaxed-simd-4x8-u8' : 'wasm-simd-4x8-u8');

/** Bytes of one thread's scratch: panel buffer, partial tile, row scales, Feistel tables. */
export function scratchBytes(maxRows: number, vocabBits: number): number {
  const tables = 8 * 2 ** Math.ceil(vocabBits / 2) * 4;
  return align(KC * 32 + maxRows * 32 + maxRows * 4 + tables, 64);
}

export const align = (n: number, to = 64): number => Math.ceil(n / to) * to;

/** Bump allocator over [STATIC_BYTES, …). */
export class Arena {
  private top = STATIC_BYTES;

  alloc(bytes: number, alignment = 64): number {
    const at = align(this.top, alignment);
    this.top = at + bytes;
    return at;
  }

  get bytes(): number {
    return this.top;
  }

  get pages(): number {
    return Math.ceil(this.top / PAGE);
  }
}

/** One program: step records written into the shared memory at `ptr`. */
export class Program {
  private readonly words: number[] = [];
  private readonly f32Bits = new DataView(new ArrayBuffer(4));

  get steps(): number {
    return this.words.length / STEP_WORDS;
  }

  /** Adds a step; an argument given as `{ f: x }` is stored as f32 bits. */
  add(op: number, args: readonly (number | { f: number })[]): this {
    if (args.length > STEP_WORDS - 2) throw new RangeError('too many step arguments');
    const rec = new Array<number>(STEP_WORDS).fill(0);
    rec[0] = op;
    args.forEach((a, i) => {
      if (typeof a === 'number') rec[2 + i] = a | 0;
      else {
        this.f32Bits.setFloat32(0, a.f);
        rec[2 + i] = this.f32Bits.getInt32(0);
      }
    });
    this.words.push(...rec);
    return this;
  }

  append(other: Program): this {
    this.words.push(...other.words);
    return this;
  }

  /** Writes the records (with zeroed unit counters) at `ptr`. */
  write(memory: Int32Array, ptr: number): void {
    memory.set(this.words, ptr >> 2);
  }
}
