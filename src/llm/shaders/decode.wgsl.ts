/**
 * Kernels of the small-batch (decode, M = 1..4 rows) path. Decode reads every weight once per token,
 * so what matters is many workgroups streaming weights with wide coalesced loads and few dispatches:
 * - `decodeGemvKernel`: Y = W·x for M ≤ 4 rows, 256-invocation workgroups of `lanes` invocations
 *   per output row (32: 8 rows a workgroup, the default; or 64: 4 rows) striding over K with 16-byte
 *   weight loads (8 bf16/f16 values, or two vec4<f32>), `unroll` of them issued before their FMAs,
 *   shared-memory reduction. Fusions: RMSNorm of x in the prologue (each workgroup
 *   recomputes the row's scale: x is small and cached), up to three weight matrices as one output
 *   (q | k | v), a SwiGLU pair (act = silu(gate·x)·(up·x)), bias and residual add in the epilogue.
 * - `decodeRopeKernel`: RoPE of q in place and of k into the cache, v copied, reading the packed
 *   [q | k | v] rows the fused GEMV writes; one invocation per rotated pair.
 * - `decodeAttentionKernel`: one 64-invocation workgroup per (row, query head), invocations split
 *   the keys (online softmax each), then a workgroup combine; also used for prefill rows.
 */
import type { FloatDType } from '../dtype.ts';
import { DYN_STRUCT, loader, weightArray } from './llm.wgsl.ts';

export const GEMV_THREADS = 256;
export const ATTENTION_THREADS = 64;

/**
 * How the decode GEMV walks a weight row. A GEMV is memory-bound: what keeps HBM busy is bytes in
 * flight per SM (latency × bandwidth ÷ SMs ≈ 16–20 KiB on an H100), and a lane waits for its load
 * before the FMAs that need it. `unroll` independent 16-byte loads per lane are issued before any
 * FMA, multiplying what is in flight; `lanes` per row (workgroup of 256 = 256 / lanes rows) doubles
 * the workgroups of the 4096-row GEMVs (o, down: 512 → 1024 groups, more SMs busy) and halves each
 * lane's trip over K. Same sums in the same order for any unroll (one accumulator, units in
 * ascending order), so unroll changes no bit; lanes changes the split of K and so the rounding.
 */
export interface DecodeGemvShape {
  readonly lanes: 32 | 64;
  readonly unroll: 1 | 2 | 4;
}

/** The kernel before the knobs existed (and the default until a device run picks another). */
export const DEFAULT_GEMV_SHAPE: DecodeGemvShape = { lanes: 32, unroll: 1 };

/** Every shape the template builds: what `bench:llm --gemv-sweep` times, the default first. */
export const GEMV_SHAPES: readonly DecodeGemvShape[] = [
  DEFAULT_GEMV_SHAPE,
  { lanes: 32, unroll: 2 },
  { lanes: 32, unroll: 4 },
  { lanes: 64, unroll: 1 },
  { lanes: 64, unroll: 2 },
  { lanes: 64, unroll: 4 },
];

export const gemvShapeLabel = (s: DecodeGemvShape): string => `l${s.lanes}u${s.unroll}`;

/** The shape itself when it is one the template builds; a RangeError otherwise (options may come from untyped callers). */
export function checkGemvShape(s: DecodeGemvShape): DecodeGemvShape {
  if (!GEMV_SHAPES.some((g) => g.lanes === s?.lanes && g.unroll === s?.unroll))
    throw new RangeError(`decode GEMV shape must be lanes 32|64 and unroll 1|2|4, got ${JSON.stringify(s)}`);
  return s;
}

/** Output rows one workgroup computes. */
export const gemvRowsPerGroup = (s: DecodeGemvShape = DEFAULT_GEMV_SHAPE): number => GEMV_THREADS / s.lanes;

export interface DecodeGemvSpec {
  readonly dtype: FloatDType;
  /** Rows of each weight binding, concatenated into the output in order (1 to 3 parts). */
  readonly parts: readonly number[];
  /** Rows of x (compile-time; the dispatch's dyn.rows must not exceed it). */
  readonly rows: number;
  /** RMSNorm weight dtype when x is normalised first. */
  readonly norm: FloatDType | null;
  /** Two equal parts (gate, up) written as silu(gate)·up, `parts[0]` columns per row. */
  readonly swiglu: boolean;
  readonly bias: FloatDType | null;
  readonly residual: boolean;
  /**
   * q|k|v with RoPE in the epilogue: parts [H·hd, G·hd, G·hd]; each output slot computes the row pair
   * (i, i + hd/2) of one head, rotates q into Y and k into the K cache at dyn.pos0 + row, and copies
   * v into the V cache (bindings after the bias: cos/sin table, K cache, V cache).
   */
  readonly rope?: { readonly headDim: number; readonly heads: number; readonly kvHeads: number } | null;
  /** Lanes per row and loads per lane in flight (default DEFAULT_GEMV_SHAPE). */
  readonly shape?: DecodeGemvShape;
}

export const decodeGemvKey = (s: DecodeGemvSpec): string =>
  `llm-decode-gemv:${s.dtype}:${s.parts.join('+')}:m${s.rows}:${s.norm ?? 'nonorm'}:${s.swiglu ? 'swiglu' : 'plain'}:${s.bias ?? 'nobias'}:${s.residual ? 'res' : 'set'}${s.rope ? `:rope${s.rope.headDim}x${s.rope.heads}x${s.rope.kvHeads}` : ''}:${gemvShapeLabel(s.shape ?? DEFAULT_GEMV_SHAPE)}`;

/** Uniform words: K, ldY, colOffset, lastOnly, eps (f32 bits at index 4). */
export const decodeGemvUniform = (K: number, ldY: number, colOffset: number, lastOnly: boolean, eps: number): number[] => [
  K,
  ldY,
  colOffset,
  lastOnly ? 1 : 0,
  eps,
  0,
  0,
  0,
];

/** Output slots of the GEMV: one per gate/up row pair (SwiGLU), per rotated row pair (RoPE), else per row. */
export const gemvOutputs = (s: Pick<DecodeGemvSpec, 'parts' | 'swiglu' | 'rope'>): number =>
  s.swiglu ? s.parts[0]! : s.rope ? s.parts.reduce((a, b) => a + b, 0) / 2 : s.parts.reduce((a, b) => a + b, 0);

export function decodeGemvGrid(outputs: number, maxPerDim: number, shape: DecodeGemvShape = DEFAULT_GEMV_SHAPE): [number, number, number] {
  const groups = Math.ceil(outputs / gemvRowsPerGroup(shape));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** Bindings: 0 dyn, 1 params, 2 X, 3 Y, 4… W parts, then the norm weight, then the bias. */
export function decodeGemvKernel(s: DecodeGemvSpec): string {
  if (s.parts.length < 1 || s.parts.length > 3) throw new RangeError(`1 to 3 weight parts, got ${s.parts.length}`);
  if (s.swiglu && (s.parts.length !== 2 || s.parts[0] !== s.parts[1])) throw new RangeError('swiglu needs two equal parts');
  if (s.rows < 1 || s.rows > 4) throw new RangeError(`decode GEMV rows must be 1..4, got ${s.rows}`);
  const rope = s.rope ?? null;
  if (rope) {
    const { headDim: hd, heads: H, kvHeads: G } = rope;
    if (hd % 2 !== 0 || s.swiglu || s.residual || s.parts.join() !== [H * hd, G * hd, G * hd].join())
      throw new RangeError(`RoPE needs parts [H·hd, G·hd, G·hd] with hd even, no SwiGLU or residual; got ${s.parts.join('+')} for hd ${hd}`);
  }
  const { lanes: L, unroll: U } = checkGemvShape(s.shape ?? DEFAULT_GEMV_SHAPE);
  const rowsPerGroup = GEMV_THREADS / L;
  const R = s.rows;
  const wide = s.dtype === 'F32';
  const wType = wide ? 'array<vec4<f32>>' : 'array<vec4<u32>>';
  const parts = s.parts.map((n, i) => ({ n, binding: 4 + i, name: `W${i}` }));
  let next = 4 + parts.length;
  const normBinding = s.norm ? next++ : -1;
  const biasBinding = s.bias ? next++ : -1;
  const ropeBinding = rope ? next : -1;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  // 16-byte weight values held in w (wa/wb for F32) as two vec4<f32>.
  const widen = (w: string) =>
    wide
      ? `let wa = ${w}a; let wb = ${w}b;`
      : s.dtype === 'F16'
        ? `let wa = vec4<f32>(unpack2x16float(${w}.x), unpack2x16float(${w}.y)); let wb = vec4<f32>(unpack2x16float(${w}.z), unpack2x16float(${w}.w));`
        : `let wa = vec4<f32>(bitcast<f32>(${w}.x << 16u), bitcast<f32>(${w}.x & 0xffff0000u), bitcast<f32>(${w}.y << 16u), bitcast<f32>(${w}.y & 0xffff0000u)); let wb = vec4<f32>(bitcast<f32>(${w}.z << 16u), bitcast<f32>(${w}.z & 0xffff0000u), bitcast<f32>(${w}.w << 16u), bitcast<f32>(${w}.w & 0xffff0000u));`;
  // The raw 16-byte load of unit `unit` of a weight row into w (wa/wb for F32).
  const rawLoad = (name: string, unit: string, w: string) =>
    wide ? `let ${w}a = ${name}[2u * (base + ${unit})]; let ${w}b = ${name}[2u * (base + ${unit}) + 1u];` : `let ${w} = ${name}[base + ${unit}];`;
  // One 8-value unit u of a weight row: two vec4<f32>.
  const unpack = (name: string) =>
    wide ? `let wa = ${name}[2u * (base + u)]; let wb = ${name}[2u * (base + u) + 1u];` : `${rawLoad(name, 'u', 'w')} ${widen('w')}`;
  // x for row m, unit u, normalised when the prologue computed scales.
  const xs = (m: number, u = 'u') =>
    s.norm
      ? `let xa${m} = X[src${m} + 2u * ${u}] * scale[${m}] * loadG(2u * ${u}); let xb${m} = X[src${m} + 2u * ${u} + 1u] * scale[${m}] * loadG(2u * ${u} + 1u);`
      : `let xa${m} = X[src${m} + 2u * ${u}]; let xb${m} = X[src${m} + 2u * ${u} + 1u];`;
  const fmas = (acc: string, indent: string, u = 'u') =>
    range(R)
      .map((m) => `${indent}${xs(m, u)}\n${indent}${acc}[${m}] += dot(wa, xa${m}) + dot(wb, xb${m});`)
      .join('\n');
  // Units u, u + L, …, u + (U−1)·L: every load first, then the FMAs in ascending unit order (the
  // one-unit loop's order, so the sums are the same); the one-unit loop takes the ragged rest.
  const unrolled = (acc: string, name: string) => {
    const units = range(U).map((i) => ({ w: `w${i}`, u: i === 0 ? 'u' : `(u + ${i * L}u)` }));
    return `
      for (; u + ${(U - 1) * L}u < K8; u += ${U * L}u) {
${units.map((k) => `        ${rawLoad(name, k.u, k.w)}`).join('\n')}
${units.map((k) => `        {\n          ${widen(k.w)}\n${fmas(acc, '          ', k.u)}\n        }`).join('\n')}
      }`;
  };
  const dotLoop = (acc: string, name: string, rowExpr: string) => `
    {
      let base = (${rowExpr}) * K8;${U === 1 ? '' : `\n      var u = lane;${unrolled(acc, name)}`}
      for (${U === 1 ? 'var u = lane' : ''}; u < K8; u += ${L}u) {
        ${unpack(name)}
${fmas(acc, '        ')}
      }
    }`;
  // Which part holds global output row r (and the other rows of `more`, in the same part), as an
  // if/else chain over compile-time part sizes.
  const partChain = (acc: string, r: string, more: [string, string][] = []) => {
    let start = 0;
    const branches = parts.map((p, i) => {
      const cond = i === parts.length - 1 ? '' : `if (${r} < ${start + p.n}u) `;
      const loops = ([[acc, r], ...more] as [string, string][]).map(([a, row]) => dotLoop(a, p.name, `${row} - ${start}u`)).join('');
      const body = `${cond}{${loops}\n  }`;
      start += p.n;
      return body;
    });
    return branches.join(' else ');
  };
  const biasLoad = !s.bias
    ? ''
    : s.bias === 'F32'
      ? `@group(0) @binding(${biasBinding}) var<storage, read> B: array<f32>;\nfn loadB(i: u32) -> f32 { return B[i]; }`
      : `@group(0) @binding(${biasBinding}) var<storage, read> B: array<u32>;\nfn loadB(i: u32) -> f32 { let w = B[i / 2u]; ${
          s.bias === 'F16' ? 'return unpack2x16float(w)[i % 2u];' : 'return bitcast<f32>(select(w << 16u, w & 0xffff0000u, i % 2u == 1u));'
        } }`;
  const outputs = gemvOutputs(s);
  const sets = s.swiglu || rope ? 2 : 1;
  const half = rope ? rope.headDim / 2 : 0;
  // The rotated pair of slot r: rows rA and rA + hd/2 of head slot r / (hd/2).
  const pairRows = rope ? `let rA = (row / ${half}u) * ${rope.headDim}u + row % ${half}u;\n    let rB = rA + ${half}u;` : '';
  const ropeBindings = rope
    ? `@group(0) @binding(${ropeBinding}) var<storage, read> rope: array<f32>;
@group(0) @binding(${ropeBinding + 1}) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(${ropeBinding + 2}) var<storage, read_write> vCache: array<f32>;`
    : '';
  return /* wgsl */ `
${DYN_STRUCT}
struct Params { K: u32, ldY: u32, colOffset: u32, lastOnly: u32, eps: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${parts.map((q) => `@group(0) @binding(${q.binding}) var<storage, read> ${q.name}: ${wType};`).join('\n')}
${s.norm ? `@group(0) @binding(${normBinding}) var<storage, read> G: ${weightArray(s.norm)};\n${loader(s.norm, 'G', 'loadG')}` : ''}
${biasLoad}
${ropeBindings}
var<workgroup> red: array<f32, ${GEMV_THREADS * R * sets}>;
var<workgroup> scale: array<f32, ${R}>;
@compute @workgroup_size(${GEMV_THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = select(dyn.rows, 1u, p.lastOnly != 0u);
  let first = select(0u, dyn.rows - 1u, p.lastOnly != 0u);
  let K4 = p.K / 4u;
  let K8 = p.K / 8u;
${range(R)
  .map((m) => `  let src${m} = min(first + ${m}u, dyn.rows - 1u) * K4;`)
  .join('\n')}
${
  s.norm
    ? `  // RMSNorm scales of the M rows, reduced over the whole workgroup.
${range(R)
  .map(
    (m) => `  {
    var ss = 0.0;
    for (var c = li; c < K4; c += ${GEMV_THREADS}u) { let v = X[src${m} + c]; ss += dot(v, v); }
    red[li] = ss;
    workgroupBarrier();
    for (var st = ${GEMV_THREADS / 2}u; st > 0u; st >>= 1u) {
      if (li < st) { red[li] += red[li + st]; }
      workgroupBarrier();
    }
    if (li == 0u) { scale[${m}] = inverseSqrt(red[0] / f32(p.K) + p.eps); }
    workgroupBarrier();
  }`,
  )
  .join('\n')}`
    : ''
}
  let lane = li % ${L}u;
  let slot = li / ${L}u;
  let r = (wid.x + wid.y * nwg.x) * ${rowsPerGroup}u + slot;
  let live = r < ${outputs}u;
  let row = min(r, ${outputs - 1}u);
  var acc: array<f32, ${R}>;
${s.swiglu || rope ? `  var acc2: array<f32, ${R}>;` : ''}
  if (live) {
${s.swiglu ? `  ${dotLoop('acc', 'W0', 'row')}\n  ${dotLoop('acc2', 'W1', 'row')}` : rope ? `    ${pairRows}\n  ${partChain('acc', 'rA', [['acc2', 'rB']])}` : `  ${partChain('acc', 'row')}`}
  }
${range(R)
  .map((m) => `  red[${m * GEMV_THREADS}u + li] = acc[${m}];${s.swiglu || rope ? ` red[${(R + m) * GEMV_THREADS}u + li] = acc2[${m}];` : ''}`)
  .join('\n')}
  workgroupBarrier();
  for (var st = ${L / 2}u; st > 0u; st >>= 1u) {
    if (lane < st) {
${range(R * sets)
  .map((m) => `      red[${m * GEMV_THREADS}u + li] += red[${m * GEMV_THREADS}u + li + st];`)
  .join('\n')}
    }
    workgroupBarrier();
  }
  if (lane == 0u && live) {
${rope ? ropeEpilogue(rope, R, s.bias !== null) : ''}${range(rope ? 0 : R)
    .map((m) => {
      const value = s.swiglu
        ? `let g = red[${m * GEMV_THREADS}u + li]${s.bias ? ' + loadB(r)' : ''}; let up = red[${(R + m) * GEMV_THREADS}u + li]${s.bias ? ` + loadB(${s.parts[0]}u + r)` : ''}; let v = g / (1.0 + exp(-g)) * up;`
        : `let v = red[${m * GEMV_THREADS}u + li]${s.bias ? ' + loadB(r)' : ''};`;
      return `    if (${m}u < M) {
      ${value}
      let o = ${m}u * p.ldY + p.colOffset + r;
      Y[o] = ${s.residual ? 'Y[o] + ' : ''}v;
    }`;
    })
    .join('\n')}
  }
}
`;
}

/**
 * The RoPE GEMV's writes for row pair (rA, rB = rA + hd/2), the same arithmetic as decodeRopeKernel
 * on the same f32 values: q rotated into Y, k rotated into the K cache, v copied to the V cache.
 */
function ropeEpilogue(rope: NonNullable<DecodeGemvSpec['rope']>, R: number, bias: boolean): string {
  const { headDim: hd, heads: H, kvHeads: G } = rope;
  const half = hd / 2;
  const rows = Array.from({ length: R }, (_, m) => m);
  return `    let rA = (r / ${half}u) * ${hd}u + r % ${half}u;
    let rB = rA + ${half}u;
    let j = r % ${half}u;
${rows
  .map(
    (m) => `    if (${m}u < M) {
      let a = red[${m * GEMV_THREADS}u + li]${bias ? ' + loadB(rA)' : ''};
      let b = red[${(R + m) * GEMV_THREADS}u + li]${bias ? ' + loadB(rB)' : ''};
      let pos = dyn.pos0 + first + ${m}u;
      let c = rope[pos * ${hd}u + j];
      let s = rope[pos * ${hd}u + ${half}u + j];
      if (rA < ${H * hd}u) {
        let o = ${m}u * p.ldY + p.colOffset + rA;
        Y[o] = a * c - b * s;
        Y[o + ${half}u] = b * c + a * s;
      } else if (rA < ${(H + G) * hd}u) {
        let dst = pos * ${G * hd}u + rA - ${H * hd}u;
        kCache[dst] = a * c - b * s;
        kCache[dst + ${half}u] = b * c + a * s;
      } else {
        let dst = pos * ${G * hd}u + rA - ${(H + G) * hd}u;
        vCache[dst] = a;
        vCache[dst + ${half}u] = b;
      }
    }`,
  )
  .join('\n')}
`;
}

/**
 * RoPE on the packed rows [q (H·hd) | k (G·hd) | v (G·hd)]: q rotated in place, k rotated into the
 * cache at pos0 + t, v copied there. One invocation per (row, head slot, pair j < hd/2).
 */
export const decodeRopeKernel = (headDim: number, H: number, G: number): string => {
  const half = headDim / 2;
  const stride = (H + 2 * G) * headDim;
  return /* wgsl */ `
${DYN_STRUCT}
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<storage, read> rope: array<f32>;
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(4) var<storage, read_write> vCache: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= dyn.rows * ${(H + G) * half}u) { return; }
  let t = i / ${(H + G) * half}u;
  let slot = (i / ${half}u) % ${H + G}u;
  let j = i % ${half}u;
  let pos = dyn.pos0 + t;
  let c = rope[pos * ${headDim}u + j];
  let s = rope[pos * ${headDim}u + ${half}u + j];
  let row = t * ${stride}u;
  if (slot < ${H}u) {
    let o = row + slot * ${headDim}u + j;
    let a = qkv[o];
    let b = qkv[o + ${half}u];
    qkv[o] = a * c - b * s;
    qkv[o + ${half}u] = b * c + a * s;
  } else {
    let g = slot - ${H}u;
    let o = row + ${H * headDim}u + g * ${headDim}u + j;
    let dst = pos * ${G * headDim}u + g * ${headDim}u + j;
    let a = qkv[o];
    let b = qkv[o + ${half}u];
    kCache[dst] = a * c - b * s;
    kCache[dst + ${half}u] = b * c + a * s;
    let vo = o + ${G * headDim}u;
    vCache[dst] = qkv[vo];
    vCache[dst + ${half}u] = qkv[vo + ${half}u];
  }
}
`;
};

/**
 * Causal GQA over the cache, one workgroup per (query head a = wid.x, row t = wid.y): invocation i
 * takes keys i, i + 64, … ≤ pos0 + t with an online softmax, then the workgroup merges the 64
 * (max, sum, acc) states. q rows are `qStride` floats apart (packed qkv or a plain q buffer).
 */
export const decodeAttentionKernel = (headDim: number, H: number, G: number, qStride: number): string => {
  const dh4 = headDim / 4;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const T = ATTENTION_THREADS;
  return /* wgsl */ `
${DYN_STRUCT}
@group(0) @binding(0) var<uniform> dyn: Dyn;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kCache: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> vCache: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
var<workgroup> best: array<f32, ${T}>;
var<workgroup> red: array<vec4<f32>, ${T * 4}>;
@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let a = wid.x;
  let t = wid.y;
  let g = a / ${H / G}u;
  let last = dyn.pos0 + t;
  let qo = t * ${qStride / 4}u + a * ${dh4}u;
${range(dh4)
  .map((c) => `  let q${c} = q[qo + ${c}u] * ${1 / Math.sqrt(headDim)};`)
  .join('\n')}
  var m = -3.4e38;
  var total = 0.0;
${range(dh4)
  .map((c) => `  var acc${c} = vec4<f32>(0.0);`)
  .join('\n')}
  for (var u = li; u <= last; u += ${T}u) {
    let ko = u * ${G * dh4}u + g * ${dh4}u;
    let s = ${range(dh4)
      .map((c) => `dot(q${c}, kCache[ko + ${c}u])`)
      .join(' + ')};
    let next = max(m, s);
    let shrink = exp(m - next);
    let weight = exp(s - next);
    total = total * shrink + weight;
${range(dh4)
  .map((c) => `    acc${c} = acc${c} * shrink + vCache[ko + ${c}u] * weight;`)
  .join('\n')}
    m = next;
  }
  best[li] = m;
  workgroupBarrier();
  var top = best[0];
  for (var i = 1u; i < ${T}u; i++) { top = max(top, best[i]); }
  // Invocations without keys hold m = -3.4e38 and total 0: their factor is 0.
  let f = select(0.0, exp(m - top), total > 0.0);
  workgroupBarrier();
  best[li] = total * f;
  workgroupBarrier();
  var sum = 0.0;
  for (var i = 0u; i < ${T}u; i++) { sum += best[i]; }
  let oo = t * ${(H * headDim) / 4}u + a * ${dh4}u;
${range(Math.ceil(dh4 / 4))
  .map((b) => {
    const cs = range(4).map((j) => b * 4 + j);
    return `  {
${cs.map((c, j) => `    red[li * 4u + ${j}u] = ${c < dh4 ? `acc${c} * f` : 'vec4<f32>(0.0)'};`).join('\n')}
    workgroupBarrier();
    for (var st = ${T / 2}u; st > 0u; st >>= 1u) {
      if (li < st) { for (var j = 0u; j < 4u; j++) { red[li * 4u + j] += red[(li + st) * 4u + j]; } }
      workgroupBarrier();
    }
    if (li < ${Math.min(4, dh4 - b * 4)}u) { out[oo + ${b * 4}u + li] = red[li] / sum; }
    workgroupBarrier();
  }`;
  })
  .join('\n')}
}
`;
};

/** Logits one workgroup of the greedy pick's first pass scans (256 invocations × 4). */
export const ARGMAX_CHUNK = 1024;

/**
 * Greedy pick on the GPU, the same rule as sampling.ts's argmax: the first (lowest) index of the
 * largest logit, NaN and −∞ never chosen, 0 when nothing qualifies. Pass 1 ('partial'): workgroup w
 * reduces logits [w·1024, (w+1)·1024) to a (value, index) pair; pass 2 ('final'): one workgroup
 * reduces those pairs and writes the index to `result[0]`. An index of NONE means "nothing yet", so
 * no infinity literal is needed (WGSL constants must be finite).
 */
export const argmaxKernel = (stage: 'partial' | 'final'): string => /* wgsl */ `
const NONE = 0xffffffffu;
struct Params { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: Params;
${stage === 'partial' ? '@group(0) @binding(1) var<storage, read> logits: array<f32>;' : '@group(0) @binding(1) var<storage, read> pairs: array<u32>;'}
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
var<workgroup> bestV: array<f32, 256>;
var<workgroup> bestI: array<u32, 256>;
// Whether (v, i) beats (bv, bi): a real index over none, then the larger value, then the lower index.
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  if (i == NONE) { return false; }
  if (bi == NONE) { return true; }
  return v > bv || (v == bv && i < bi);
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  var bv = 0.0;
  var bi = NONE;
${
  stage === 'partial'
    ? `  let start = wid.x * ${ARGMAX_CHUNK}u;
  for (var k = 0u; k < 4u; k++) {
    let i = start + k * 256u + li;
    if (i < p.n) {
      let v = logits[i];
      // v >= -FLT_MAX excludes −∞ and NaN, as the CPU's v > best (from −∞) does.
      if (v >= -3.4028234663852886e38 && beats(v, i, bv, bi)) { bv = v; bi = i; }
    }
  }`
    : `  for (var w = li; w < p.n; w += 256u) {
    let v = bitcast<f32>(pairs[2u * w]);
    let i = pairs[2u * w + 1u];
    if (beats(v, i, bv, bi)) { bv = v; bi = i; }
  }`
}
  bestV[li] = bv;
  bestI[li] = bi;
  workgroupBarrier();
  for (var st = 128u; st > 0u; st >>= 1u) {
    if (li < st && beats(bestV[li + st], bestI[li + st], bestV[li], bestI[li])) {
      bestV[li] = bestV[li + st];
      bestI[li] = bestI[li + st];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
${
  stage === 'partial'
    ? `    out[2u * wid.x] = bitcast<u32>(bestV[0]);
    out[2u * wid.x + 1u] = bestI[0];`
    : `    out[0] = select(bestI[0], 0u, bestI[0] == NONE);`
}
  }
}
`;
