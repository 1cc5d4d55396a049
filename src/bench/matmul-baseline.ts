/**
 * The efficiency yardstick: plain f32 matmuls Y[M,N] = X[M,K]·W[N,K]ᵀ of the FFN shape, written
 * independently of the engine (f32 weights, no epilogue), timed on the same device. The best of a
 * few variants is the "what this adapter can do" number the engine is compared against.
 */
import type { GpuDevice } from '../gpu/device.ts';
import { timeRepeated, type Timing } from './timing.ts';

export interface MatmulShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

interface Variant {
  readonly name: string;
  readonly source: (shape: MatmulShape) => string;
  readonly dispatch: (shape: MatmulShape) => [number, number, number];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const BINDINGS = /* wgsl */ `
struct Shape { M: u32, N: u32, K: u32, pad: u32 }
@group(0) @binding(0) var<uniform> s: Shape;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
`;

/** Each invocation computes tm×tn outputs with vec4 loads straight from storage: what CPU adapters like. */
function registerTiled(tm: number, tn: number, wg = 64): Variant {
  const tiles = (sh: MatmulShape) => Math.ceil(sh.M / tm) * Math.ceil(sh.N / tn);
  return {
    name: `direct-${tm}x${tn}`,
    dispatch: (sh) => [Math.ceil(tiles(sh) / wg), 1, 1],
    source: () => /* wgsl */ `${BINDINGS}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let tilesN = (s.N + ${tn - 1}u) / ${tn}u;
  if (gid.x >= tilesN * ((s.M + ${tm - 1}u) / ${tm}u)) { return; }
  let n0 = (gid.x % tilesN) * ${tn}u;
  let m0 = (gid.x / tilesN) * ${tm}u;
  let K4 = s.K / 4u;
${range(tm)
  .map((i) => `  let xr${i} = min(m0 + ${i}u, s.M - 1u) * K4;`)
  .join('\n')}
${range(tn)
  .map((j) => `  let wr${j} = min(n0 + ${j}u, s.N - 1u) * K4;`)
  .join('\n')}
${range(tm)
  .flatMap((i) => range(tn).map((j) => `  var a${i}_${j} = vec4<f32>(0.0);`))
  .join('\n')}
  for (var k = 0u; k < K4; k++) {
${range(tm)
  .map((i) => `    let x${i} = X[xr${i} + k];`)
  .join('\n')}
${range(tn)
  .map((j) => `    let w${j} = W[wr${j} + k];`)
  .join('\n')}
${range(tm)
  .flatMap((i) => range(tn).map((j) => `    a${i}_${j} = fma(x${i}, w${j}, a${i}_${j});`))
  .join('\n')}
  }
${range(tm)
  .flatMap((i) => range(tn).map((j) => `  if (m0 + ${i}u < s.M && n0 + ${j}u < s.N) { Y[(m0 + ${i}u) * s.N + n0 + ${j}u] = dot(a${i}_${j}, vec4<f32>(1.0)); }`))
  .join('\n')}
}
`,
  };
}

/** Classic shared-memory tiling (16×16 threads, 4×4 outputs each, K in chunks of 16): what real GPUs like. */
function workgroupTiled(): Variant {
  const T = 16;
  const R = 4;
  const B = T * R; // 64×64 output block
  const KC = 4; // vec4s of K per step (16 scalars)
  return {
    name: 'wgmem-64x64',
    dispatch: (sh) => [Math.ceil(sh.N / B), Math.ceil(sh.M / B), 1],
    source: () => /* wgsl */ `${BINDINGS}
var<workgroup> xs: array<vec4<f32>, ${B * KC}>;
var<workgroup> ws: array<vec4<f32>, ${B * KC}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${B}u;
  let n0 = wid.x * ${B}u;
  let K4 = s.K / 4u;
${range(R)
  .flatMap((i) => range(R).map((j) => `  var a${i}_${j} = vec4<f32>(0.0);`))
  .join('\n')}
  for (var k0 = 0u; k0 < K4; k0 += ${KC}u) {
    for (var l = li; l < ${B * KC}u; l += ${T * T}u) {
      let kk = min(k0 + l % ${KC}u, K4 - 1u);
      xs[l] = X[min(m0 + l / ${KC}u, s.M - 1u) * K4 + kk];
      ws[l] = W[min(n0 + l / ${KC}u, s.N - 1u) * K4 + kk];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${KC}u; kk++) {
      if (k0 + kk >= K4) { break; }
${range(R)
  .map((i) => `      let x${i} = xs[(lid.y * ${R}u + ${i}u) * ${KC}u + kk];`)
  .join('\n')}
${range(R)
  .map((j) => `      let w${j} = ws[(lid.x * ${R}u + ${j}u) * ${KC}u + kk];`)
  .join('\n')}
${range(R)
  .flatMap((i) => range(R).map((j) => `      a${i}_${j} = fma(x${i}, w${j}, a${i}_${j});`))
  .join('\n')}
    }
    workgroupBarrier();
  }
${range(R)
  .flatMap((i) =>
    range(R).map(
      (j) =>
        `  { let m = m0 + lid.y * ${R}u + ${i}u; let n = n0 + lid.x * ${R}u + ${j}u; if (m < s.M && n < s.N) { Y[m * s.N + n] = dot(a${i}_${j}, vec4<f32>(1.0)); } }`,
    ),
  )
  .join('\n')}
}
`,
  };
}

export const MATMUL_VARIANTS: readonly Variant[] = [registerTiled(4, 4), registerTiled(2, 8), registerTiled(4, 8), workgroupTiled()];

export interface MatmulResult {
  readonly variant: string;
  readonly gflops: number;
  readonly timing: Timing;
}

export interface MatmulBaseline {
  readonly shape: MatmulShape;
  readonly best: MatmulResult;
  readonly all: readonly MatmulResult[];
}

/**
 * Times every variant on `shape` and returns the best. `minSeconds` is the measuring window per
 * variant (after one warm-up dispatch). `skip` names variants not worth timing on this adapter.
 */
export async function measureMatmulBaseline(
  dev: GpuDevice,
  shape: MatmulShape,
  minSeconds: number,
  skip: (name: string) => boolean = () => false,
): Promise<MatmulBaseline> {
  if (shape.K % 4 !== 0) throw new Error(`K must be a multiple of 4, got ${shape.K}`);
  const { M, N, K } = shape;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const x = dev.createBuffer('bench-x', M * K * 4, usage);
  const w = dev.createBuffer('bench-w', N * K * 4, usage);
  const y = dev.createBuffer('bench-y', M * N * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  // Values do not change the speed; small non-zero ones keep every lane doing real work.
  dev.queue.writeBuffer(x, 0, smallValues(M * K));
  dev.queue.writeBuffer(w, 0, smallValues(N * K));
  const uniform = dev.uniform('bench-shape', [M, N, K, 0]);
  const flops = 2 * M * N * K;
  const all: MatmulResult[] = [];
  try {
    for (const variant of MATMUL_VARIANTS) {
      if (skip(variant.name)) continue;
      const pipeline = await dev.pipeline(`bench-matmul:${variant.name}`, () => variant.source(shape));
      const bindGroup = dev.bindGroup(pipeline, [uniform, x, w, y]);
      const [gx, gy, gz] = variant.dispatch(shape);
      const run = async (times: number) => {
        const encoder = dev.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < times; i++) pass.dispatchWorkgroups(gx, gy, gz);
        pass.end();
        dev.queue.submit([encoder.finish()]);
        await dev.queue.onSubmittedWorkDone();
      };
      const timing = await timeRepeated(run, minSeconds);
      all.push({ variant: variant.name, gflops: (flops * timing.perSecond) / 1e9, timing });
    }
  } finally {
    [x, w, y, uniform].forEach((b) => b.destroy());
  }
  const best = all.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { shape, best, all };
}

function smallValues(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((i * 2654435761) % 1024) / 1024 - 0.5;
  return out;
}
