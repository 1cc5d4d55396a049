/**
 * Y = act(scale · X·Wᵀ) (+ Y): the one matmul template every linear layer uses.
 * X is [M, K] f32 (K contiguous), W is [N, K] in a weight format (K contiguous: spec layout
 * [out, in]), Y is [M, ldY] f32 written at columns colOffset … colOffset+N−1.
 *
 * Variants (autotuned per adapter, src/gpu/autotune.ts):
 * - direct: each invocation computes a tileM×tileN block with vec4 loads straight from storage.
 *   Fastest on SwiftShader (CPU) where workgroup barriers are expensive.
 * - workgroup memory: a (wgY·tileM)×(wgX·tileN) block per workgroup, K staged through
 *   workgroup memory in chunks; what real GPUs want.
 */
import { grid1d, linearIndex, weightLoader, type WeightFormat } from './common.wgsl.ts';

export interface MatmulVariant {
  readonly tileM: number;
  readonly tileN: number;
  readonly useWorkgroupMemory: boolean;
  /** Invocations per workgroup: direct variants use wg×1, workgroup-memory variants √wg×√wg. */
  readonly workgroupSize: number;
  readonly weightFormat: WeightFormat;
  /**
   * 'f16' (needs the adapter's shader-f16; workgroup-memory variants only): X and W are staged
   * into workgroup memory as f16 and multiplied and summed in f16 over `f16Chunks` staged K chunks,
   * each such partial sum then added in f32. The Sprint's f16 screen (src/gpu/screen.ts); every
   * distance that counts comes from an f32 pass. 'f16-emulated' rounds the same operations to f16
   * in f32 registers (pack2x16float): as accurate as 'f16' and slower than f32, so that the screen's
   * accuracy can be measured, and the screen tested, on adapters without shader-f16. Absent: f32.
   */
  readonly arithmetic?: 'f32' | 'f16' | 'f16-emulated';
  /** f16 arithmetic: staged K chunks summed in f16 before an f32 add (default 1). */
  readonly f16Chunks?: number;
}

export interface MatmulEpilogue {
  readonly relu: boolean;
  /** Add into Y instead of overwriting it (the residual stream). */
  readonly residual: boolean;
}

export interface MatmulShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

export const isF16Arithmetic = (v: MatmulVariant): boolean => v.arithmetic === 'f16' || v.arithmetic === 'f16-emulated';

export const variantName = (v: MatmulVariant): string =>
  `${v.useWorkgroupMemory ? 'wgmem' : 'direct'}-${v.tileM}x${v.tileN}-wg${v.workgroupSize}-${v.weightFormat}${isF16Arithmetic(v) ? `-${v.arithmetic === 'f16' ? 'h' : 'emu'}16c${v.f16Chunks ?? 1}` : ''}`;

/** K chunk (in vec4) staged per step by workgroup-memory variants: the largest of 8,4,2,1 dividing K/4. */
const kChunk4 = (K: number): number => [8, 4, 2, 1].find((c) => (K / 4) % c === 0)!;

/** Workgroup memory a variant declares (0 for direct variants). */
export function matmulWorkgroupBytes(v: MatmulVariant, K: number): number {
  if (!v.useWorkgroupMemory) return 0;
  const side = Math.sqrt(v.workgroupSize);
  return (side * v.tileM + side * v.tileN) * kChunk4(K) * (v.arithmetic === 'f16' ? 8 : 16);
}

export const matmulKey = (v: MatmulVariant, e: MatmulEpilogue, K: number): string =>
  `matmul:${variantName(v)}:${e.relu ? 'relu' : 'id'}:${e.residual ? 'res' : 'set'}${v.useWorkgroupMemory ? `:kc${kChunk4(K)}` : ''}`;

/** Uniform words: M, N, K, ldY, colOffset, scale (f32). */
export const matmulUniform = (shape: MatmulShape, ldY: number, colOffset: number, scale: number): number[] => [
  shape.M,
  shape.N,
  shape.K,
  ldY,
  colOffset,
  scale,
];
export const MATMUL_UNIFORM_FLOATS: ReadonlySet<number> = new Set([5]);

export function matmulDispatch(v: MatmulVariant, shape: MatmulShape, maxPerDim: number): [number, number, number] {
  if (v.useWorkgroupMemory) {
    const side = Math.sqrt(v.workgroupSize);
    return [Math.ceil(shape.N / (side * v.tileN)), Math.ceil(shape.M / (side * v.tileM)), 1];
  }
  const tiles = Math.ceil(shape.M / v.tileM) * Math.ceil(shape.N / v.tileN);
  return grid1d(tiles, v.workgroupSize, maxPerDim);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function header(v: MatmulVariant): string {
  return /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, ldY: u32, colOffset: u32, scale: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${weightLoader(v.weightFormat)}
`;
}

function epilogue(
  v: MatmulVariant,
  e: MatmulEpilogue,
  rowExpr: (i: number) => string,
  colExpr: (j: number) => string,
  valueOf = (i: number, j: number) => `p.scale * dot(acc_${i}_${j}, vec4<f32>(1.0))`,
): string {
  const lines: string[] = [];
  for (const i of range(v.tileM)) {
    for (const j of range(v.tileN)) {
      const value = valueOf(i, j);
      const act = e.relu ? `max(${value}, 0.0)` : value;
      lines.push(`  if (${rowExpr(i)} < p.M && ${colExpr(j)} < p.N) {
    let o = ${rowExpr(i)} * p.ldY + p.colOffset + ${colExpr(j)};
    Y[o] = ${e.residual ? `Y[o] + ` : ''}${act};
  }`);
    }
  }
  return lines.join('\n');
}

const declareAcc = (v: MatmulVariant): string =>
  range(v.tileM)
    .flatMap((i) => range(v.tileN).map((j) => `  var acc_${i}_${j} = vec4<f32>(0.0);`))
    .join('\n');

const fmas = (v: MatmulVariant): string =>
  range(v.tileM)
    .flatMap((i) => range(v.tileN).map((j) => `    acc_${i}_${j} = fma(x${i}, w${j}, acc_${i}_${j});`))
    .join('\n');

function directKernel(v: MatmulVariant, e: MatmulEpilogue): string {
  return /* wgsl */ `${header(v)}
@compute @workgroup_size(${v.workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = ${linearIndex(v.workgroupSize)};
  let tilesN = (p.N + ${v.tileN - 1}u) / ${v.tileN}u;
  let tilesM = (p.M + ${v.tileM - 1}u) / ${v.tileM}u;
  if (tile >= tilesN * tilesM) { return; }
  let n0 = (tile % tilesN) * ${v.tileN}u;
  let m0 = (tile / tilesN) * ${v.tileM}u;
  let K4 = p.K / 4u;
${range(v.tileM)
  .map((i) => `  let xRow${i} = min(m0 + ${i}u, p.M - 1u) * K4;`)
  .join('\n')}
${range(v.tileN)
  .map((j) => `  let wRow${j} = min(n0 + ${j}u, p.N - 1u) * K4;`)
  .join('\n')}
${declareAcc(v)}
  for (var k = 0u; k < K4; k++) {
${range(v.tileM)
  .map((i) => `    let x${i} = X[xRow${i} + k];`)
  .join('\n')}
${range(v.tileN)
  .map((j) => `    let w${j} = loadW4(wRow${j} + k);`)
  .join('\n')}
${fmas(v)}
  }
${epilogue(
  v,
  e,
  (i) => `(m0 + ${i}u)`,
  (j) => `(n0 + ${j}u)`,
)}
}
`;
}

/**
 * Both workgroup kernels stage one chunk of KC vec4s along K into workgroup memory, [kk][row], the
 * inputs as `x(load)` and the weights as `w(load)` give them (f32 as loaded, or rounded to f16).
 */
function stageChunk(v: MatmulVariant, KC: number, side: number, x: (load: string) => string, w: (load: string) => string): string {
  const BM = side * v.tileM;
  const BN = side * v.tileN;
  return `    for (var l = li; l < ${BM * KC}u; l += ${v.workgroupSize}u) {
      xs[(l % ${KC}u) * ${BM}u + l / ${KC}u] = ${x(`X[min(m0 + l / ${KC}u, p.M - 1u) * K4 + k0 + l % ${KC}u]`)};
    }
    for (var l = li; l < ${BN * KC}u; l += ${v.workgroupSize}u) {
      ws[(l % ${KC}u) * ${BN}u + l / ${KC}u] = ${w(`loadW4(min(n0 + l / ${KC}u, p.N - 1u) * K4 + k0 + l % ${KC}u)`)};
    }`;
}

/** An invocation's tile operands for step kk, from workgroup memory (rows side apart). */
function tileRegisters(v: MatmulVariant, side: number): string {
  const BM = side * v.tileM;
  const BN = side * v.tileN;
  return [
    ...range(v.tileM).map((i) => `      let x${i} = xs[kk * ${BM}u + lid.y + ${i * side}u];`),
    ...range(v.tileN).map((j) => `      let w${j} = ws[kk * ${BN}u + lid.x + ${j * side}u];`),
  ].join('\n');
}

function workgroupKernel(v: MatmulVariant, e: MatmulEpilogue, K: number): string {
  const side = Math.sqrt(v.workgroupSize);
  const BM = side * v.tileM;
  const BN = side * v.tileN;
  const KC = kChunk4(K);
  return /* wgsl */ `${header(v)}
var<workgroup> xs: array<vec4<f32>, ${BM * KC}>;
var<workgroup> ws: array<vec4<f32>, ${BN * KC}>;

@compute @workgroup_size(${side}, ${side})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  let K4 = p.K / 4u;
${declareAcc(v)}
  for (var k0 = 0u; k0 < K4; k0 += ${KC}u) {
    // Global reads walk along K (contiguous); workgroup memory is [kk][row], so in the inner loop
    // neighbouring invocations read neighbouring vec4s (no bank conflicts) and store coalesced.
${stageChunk(
  v,
  KC,
  side,
  (x) => x,
  (w) => w,
)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${KC}u; kk++) {
${tileRegisters(v, side)}
${fmas(v).replace(/^ {4}/gm, '      ')}
    }
    workgroupBarrier();
  }
${epilogue(
  v,
  e,
  (i) => `(m0 + lid.y + ${i * side}u)`,
  (j) => `(n0 + lid.x + ${j * side}u)`,
)}
}
`;
}

/**
 * f16 rounding of an f32 vec4 without shader-f16: the significand rounded to 11 bits, to nearest
 * even, by integer arithmetic. (unpack2x16float(pack2x16float(v)) is folded away to v by NVIDIA's
 * Vulkan compiler: measured f32-exact on an H100.) f16's exponent range is not emulated: values
 * below 2^−14 keep 11 bits where f16 would keep fewer, an absolute difference under 2^−25.
 */
const ROUND_F16_WGSL = /* wgsl */ `
fn f16r(v: vec4<f32>) -> vec4<f32> {
  let b = bitcast<vec4<u32>>(v);
  let rounded = b + vec4<u32>(0xfffu) + ((b >> vec4<u32>(13u)) & vec4<u32>(1u));
  return bitcast<vec4<f32>>(rounded & vec4<u32>(0xffffe000u));
}`;

/**
 * The f16-arithmetic form of workgroupKernel. The weights are staged as values (u8 codes times
 * the scale, exact in f16 by spec §4), so partial sums stay near the outputs' size, far from f16's
 * range limit (65504); each f16 partial sum covers f16Chunks·KC·4 products of one output's K.
 * Emulated: the same values and sums rounded to f16 after every operation, in f32 registers.
 */
function workgroupKernelF16(v: MatmulVariant, e: MatmulEpilogue, K: number): string {
  const native = v.arithmetic === 'f16';
  const H = native ? 'vec4<f16>' : 'vec4<f32>';
  const toH = (expr: string) => (native ? `vec4<f16>(${expr})` : `f16r(${expr})`);
  const zero = native ? 'vec4<f16>(0.0h)' : 'vec4<f32>(0.0)';
  const side = Math.sqrt(v.workgroupSize);
  const BM = side * v.tileM;
  const BN = side * v.tileN;
  const KC = kChunk4(K);
  const flushEvery = v.f16Chunks ?? 1;
  const cells = range(v.tileM).flatMap((i) => range(v.tileN).map((j) => [i, j] as const));
  const flush = cells.map(([i, j]) => `sum_${i}_${j} += vec4<f32>(acc_${i}_${j}); acc_${i}_${j} = ${zero};`);
  const fmaH = cells.map(([i, j]) => `        acc_${i}_${j} = ${native ? `fma(x${i}, w${j}, acc_${i}_${j})` : `f16r(fma(x${i}, w${j}, acc_${i}_${j}))`};`);
  return /* wgsl */ `${native ? 'enable f16;' : ROUND_F16_WGSL}
${header(v)}
var<workgroup> xs: array<${H}, ${BM * KC}>;
var<workgroup> ws: array<${H}, ${BN * KC}>;

@compute @workgroup_size(${side}, ${side})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  let K4 = p.K / 4u;
${cells.map(([i, j]) => `  var acc_${i}_${j} = ${zero};\n  var sum_${i}_${j} = vec4<f32>(0.0);`).join('\n')}
  var chunk = 0u;
  for (var k0 = 0u; k0 < K4; k0 += ${KC}u) {
${stageChunk(v, KC, side, toH, (w) => toH(`p.scale * ${w}`))}
    workgroupBarrier();
    for (var kk = 0u; kk < ${KC}u; kk++) {
${tileRegisters(v, side)}
${fmaH.join('\n')}
    }
    workgroupBarrier();
    chunk++;
    if (chunk % ${flushEvery}u == 0u) {
${flush.map((l) => `      ${l}`).join('\n')}
    }
  }
${flush.map((l) => `  ${l}`).join('\n')}
${epilogue(
  v,
  e,
  (i) => `(m0 + lid.y + ${i * side}u)`,
  (j) => `(n0 + lid.x + ${j * side}u)`,
  (i, j) => `dot(sum_${i}_${j}, vec4<f32>(1.0))`,
)}
}
`;
}

export function matmulKernel(v: MatmulVariant, e: MatmulEpilogue, K: number): string {
  if (K % 4 !== 0) throw new Error(`matmul needs K divisible by 4, got ${K}`);
  if (isF16Arithmetic(v)) {
    if (!v.useWorkgroupMemory) throw new Error('f16 arithmetic is built for workgroup-memory variants only');
    return workgroupKernelF16(v, e, K);
  }
  return v.useWorkgroupMemory ? workgroupKernel(v, e, K) : directKernel(v, e);
}
