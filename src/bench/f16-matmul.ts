/**
 * f32 against f16 arithmetic in the engine's own matmul template (src/gpu/shaders/matmul.wgsl.ts),
 * on the layer shapes of a config, on one device: the question behind the Sprint's f16 screen
 * (docs/sprint-audit.md, attack e) is whether f16 pays on this adapter at all. Every variant
 * reads the same random u8 (or f16) weights and f32 inputs; accuracy is measured against an f64
 * product on the CPU of the first rows.
 */
import { candidateVariants, f16CandidateVariants, fitsLimits, matmulTimer } from '../gpu/autotune.ts';
import type { GpuDevice } from '../gpu/device.ts';
import { variantName, type MatmulVariant } from '../gpu/shaders/matmul.wgsl.ts';
import { numberToF16 } from '../llm/dtype.ts';
import type { SprintConfig } from '../sprint/config.ts';

export interface LayerShape {
  readonly name: 'qkv' | 'wo' | 'w1' | 'w2';
  readonly N: number;
  readonly K: number;
  /** Scale exponent s of the weights (spec §4): s(n) = 7 + ceil(log2(n) / 2). */
  readonly s: number;
}

export const layerShapes = (c: SprintConfig): LayerShape[] => {
  const s = (n: number) => 7 + Math.ceil(Math.log2(n) / 2);
  return [
    { name: 'qkv', N: 3 * c.dModel, K: c.dModel, s: s(c.dModel) },
    { name: 'wo', N: c.dModel, K: c.dModel, s: s(c.dModel) },
    { name: 'w1', N: c.ffnHidden, K: c.dModel, s: s(c.dModel) },
    { name: 'w2', N: c.dModel, K: c.ffnHidden, s: s(c.ffnHidden) },
  ];
};

export interface VariantTiming {
  readonly variant: string;
  readonly arithmetic: NonNullable<MatmulVariant['arithmetic']>;
  readonly rows: number;
  readonly shape: LayerShape['name'];
  readonly ms: number;
  readonly gflops: number;
  /** RMS of (GPU − f64 reference) over the checked rows, relative to the reference's RMS. */
  readonly relRmsError: number;
}

export interface F16MatmulReport {
  readonly shaderF16: boolean;
  readonly timings: VariantTiming[];
  /** Per row count: one layer's four matmuls with the best single variant of each arithmetic. */
  readonly layers: { rows: number; f32: { variant: string; ms: number }; f16: { variant: string; ms: number } | null; speedup: number | null }[];
}

/** Deterministic pseudo-random generator (xorshift32), so that every run multiplies the same data. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const CHECK_ROWS = 8;

export async function measureF16Matmuls(
  dev: GpuDevice,
  config: SprintConfig,
  rowsList: readonly number[],
  windowMs = 60,
  log: (line: string) => void = () => {},
): Promise<F16MatmulReport> {
  const f32Variants = candidateVariants(dev.adapter);
  // Without shader-f16 the emulated form still measures the f16 design's accuracy (not its speed).
  const f16Variants = dev.hasShaderF16
    ? f16CandidateVariants()
    : f16CandidateVariants()
        .slice(1, 2)
        .map((v): MatmulVariant => ({ ...v, arithmetic: 'f16-emulated' }));
  const timings: VariantTiming[] = [];
  const maxRows = Math.max(...rowsList);
  for (const shape of layerShapes(config)) {
    const rnd = random(shape.N * 31 + shape.K);
    const codes = Uint8Array.from({ length: shape.N * shape.K }, () => Math.floor(rnd() * 256));
    const xs = Float32Array.from({ length: maxRows * shape.K }, () => (rnd() + rnd() + rnd() - 1.5) * 2);
    const values = Float64Array.from(codes, (q) => (2 * q - 255) * 2 ** -shape.s);
    const reference = new Float64Array(CHECK_ROWS * shape.N);
    for (let m = 0; m < CHECK_ROWS; m++) {
      for (let n = 0; n < shape.N; n++) {
        let acc = 0;
        // xs holds maxRows ≥ CHECK_ROWS rows of K, values N rows of K.
        for (let k = 0; k < shape.K; k++) acc += xs[m * shape.K + k]! * values[n * shape.K + k]!;
        reference[m * shape.N + n] = acc;
      }
    }
    const refRms = Math.sqrt(reference.reduce((a, v) => a + v * v, 0) / reference.length);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const x = dev.createBuffer('f16b-x', 4 * xs.length, usage);
    const y = dev.createBuffer('f16b-y', 4 * maxRows * shape.N, usage);
    const wU8 = dev.createBuffer('f16b-w-u8', codes.length, usage);
    const wF16 = dev.createBuffer('f16b-w-f16', 2 * codes.length, usage);
    dev.queue.writeBuffer(x, 0, xs);
    dev.queue.writeBuffer(wU8, 0, codes);
    dev.queue.writeBuffer(
      wF16,
      0,
      Uint16Array.from(values, (v) => numberToF16(v)),
    );
    try {
      for (const variant of [...f32Variants, ...f16Variants].filter((v) => fitsLimits(v, shape.K, dev.limits))) {
        for (const rows of rowsList) {
          const t = await timeVariant(
            dev,
            variant,
            { M: rows, N: shape.N, K: shape.K },
            shape.s,
            x,
            variant.weightFormat === 'u8' ? wU8 : wF16,
            y,
            windowMs,
          ).catch((e: unknown) => {
            log(`${shape.name} M=${rows} ${variantName(variant)} failed: ${String(e)}`);
            return null;
          });
          if (t === null) continue;
          const out = new Float32Array(await dev.read(y, 0, 4 * CHECK_ROWS * shape.N));
          if (out.length !== reference.length) throw new RangeError(`read ${out.length} outputs back, expected ${reference.length}`);
          const err = Math.sqrt(out.reduce((a, v, i) => a + (v - reference[i]!) ** 2, 0) / out.length) / refRms;
          const flops = 2 * rows * shape.N * shape.K;
          timings.push({
            variant: variantName(variant),
            arithmetic: variant.arithmetic ?? 'f32',
            rows,
            shape: shape.name,
            ms: t,
            gflops: flops / t / 1e6,
            relRmsError: err,
          });
          log(`${shape.name} M=${rows} ${variantName(variant)}: ${t.toFixed(3)} ms, ${(flops / t / 1e6).toFixed(0)} GFLOP/s, rel err ${err.toExponential(2)}`);
        }
      }
    } finally {
      [x, y, wU8, wF16].forEach((b) => dev.free(b));
    }
  }
  const layers = rowsList.map((rows) => {
    const best = (arith: 'f32' | 'f16') => {
      const perVariant = new Map<string, number>();
      for (const t of timings) if (t.rows === rows && t.arithmetic === arith) perVariant.set(t.variant, (perVariant.get(t.variant) ?? 0) + t.ms);
      const complete = [...perVariant].filter(([v]) => timings.filter((t) => t.rows === rows && t.variant === v).length === 4);
      return complete.length ? complete.reduce((a, b) => (b[1] < a[1] ? b : a)) : null;
    };
    const f32 = best('f32')!;
    const f16 = best('f16');
    return { rows, f32: { variant: f32[0], ms: f32[1] }, f16: f16 ? { variant: f16[0], ms: f16[1] } : null, speedup: f16 ? f32[1] / f16[1] : null };
  });
  return { shaderF16: dev.hasShaderF16, timings, layers };
}

/** Milliseconds per dispatch: many dispatches in one submission (the queue's latency amortised), best of 3 rounds. */
async function timeVariant(
  dev: GpuDevice,
  variant: MatmulVariant,
  shape: { M: number; N: number; K: number },
  s: number,
  x: GPUBuffer,
  w: GPUBuffer,
  y: GPUBuffer,
  windowMs: number,
): Promise<number> {
  const { run, free } = await matmulTimer(dev, variant, shape, { relu: false, residual: false }, variant.weightFormat === 'u8' ? 2 ** -s : 1, { x, w, y });
  try {
    await run(1); // pipeline creation, first touch
    const first = (await run(10)) / 10;
    const iterations = Math.max(1, Math.min(2000, Math.round(windowMs / Math.max(first, 0.005))));
    let best = Infinity;
    for (let r = 0; r < 3; r++) best = Math.min(best, (await run(iterations)) / iterations);
    return best;
  } finally {
    free();
  }
}
