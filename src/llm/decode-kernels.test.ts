/**
 * The decode kernels (shaders/decode.wgsl.ts) against float64 arithmetic on the same (rounded)
 * weights: the GEMV at M = 1..4 over K and N that are not multiples of its tiles, with every fusion
 * (norm prologue, q|k|v parts, SwiGLU pair, bias, residual) and F32/F16/BF16 weights; the
 * key-parallel attention at context lengths below, at and above its 64 invocations; the greedy pick
 * against sampling.ts's argmax (ties, NaN, −∞, several chunks); the q|k|v GEMV with RoPE in its
 * epilogue against the GEMV followed by the RoPE kernel, bit for bit; every GEMV shape (lanes per row ×
 * loads per lane in flight) on K whose 16-byte units are not a multiple of lanes · unroll, unroll
 * bit-identical to the one-load loop and 64 lanes within float reassociation of 32.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { decodeFloats, encodeFloats, type FloatDType } from './dtype.ts';
import { argmax } from './sampling.ts';
import {
  ARGMAX_CHUNK,
  argmaxKernel,
  decodeAttentionKernel,
  decodeGemvGrid,
  decodeGemvKernel,
  decodeGemvUniform,
  decodeRopeKernel,
  DEFAULT_GEMV_SHAPE,
  decodeGemvKey,
  GEMV_SHAPES,
  gemvOutputs,
  gemvShapeLabel,
  type DecodeGemvShape,
  type DecodeGemvSpec,
} from './shaders/decode.wgsl.ts';

let dev: GpuDevice;
beforeAll(async () => {
  dev = await GpuDevice.create(await getGpu());
});
afterAll(() => dev?.destroy());

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Values as the GPU holds them: rounded to `dtype`, widened back exactly. */
function rounded(dtype: FloatDType, values: number[]): { bytes: Uint8Array; exact: Float64Array } {
  const bytes = encodeFloats(dtype, values);
  return { bytes, exact: decodeFloats(dtype, bytes) };
}

function upload(bytes: ArrayBufferView, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
  const b = dev.createBuffer(label, size, STORAGE());
  const padded = new Uint8Array(size);
  padded.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  dev.queue.writeBuffer(b, 0, padded);
  return b;
}

async function run(code: string, buffers: GPUBuffer[], grid: [number, number, number]): Promise<void> {
  const pipe = await dev.pipeline(`test:${code.length}:${code.slice(-200)}:${Math.random()}`, () => code);
  const group = dev.bindGroup(pipe, buffers);
  const enc = dev.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(...grid);
  pass.end();
  dev.queue.submit([enc.finish()]);
}

interface GemvCase {
  dtype: FloatDType;
  parts: number[];
  K: number;
  M: number;
  norm?: boolean;
  swiglu?: boolean;
  bias?: boolean;
  residual?: boolean;
  lastOnly?: boolean;
  shape?: DecodeGemvShape;
}

async function checkGemv(c: GemvCase, seed: number): Promise<number> {
  return (await gemvRun(c, seed)).rel;
}

/** The GEMV's output rows (residual base and columns around the result included) and their largest error relative to float64. */
async function gemvRun(c: GemvCase, seed: number): Promise<{ rel: number; got: Float32Array }> {
  const rnd = random(seed);
  const rowsX = c.M; // rows held in x; with lastOnly only the last is used
  const M = c.lastOnly ? 1 : c.M;
  const spec: DecodeGemvSpec = {
    dtype: c.dtype,
    parts: c.parts,
    rows: M,
    norm: c.norm ? c.dtype : null,
    swiglu: !!c.swiglu,
    bias: c.bias ? c.dtype : null,
    residual: !!c.residual,
    shape: c.shape,
  };
  const N = gemvOutputs(spec);
  const ldY = N + 3; // output rows wider than the result, written at colOffset
  const colOffset = 2;
  const eps = 1e-5;
  const x = Array.from({ length: rowsX * c.K }, () => rnd() * 4);
  const W = c.parts.map((n) =>
    rounded(
      c.dtype,
      Array.from({ length: n * c.K }, () => rnd()),
    ),
  );
  const g = rounded(
    c.dtype,
    Array.from({ length: c.K }, () => 1 + rnd()),
  );
  const totalRows = c.parts.reduce((a, b) => a + b, 0);
  const bias = rounded(
    c.dtype,
    Array.from({ length: totalRows + (totalRows % 2) }, () => rnd()),
  );
  const y0 = Array.from({ length: M * ldY }, () => rnd());
  // float64 expectation
  const expected = Float64Array.from(y0);
  for (let m = 0; m < M; m++) {
    const src = (c.lastOnly ? rowsX - 1 : m) * c.K;
    let xs = x.slice(src, src + c.K);
    if (c.norm) {
      const inv = 1 / Math.sqrt(xs.reduce((s, v) => s + v * v, 0) / c.K + eps);
      xs = xs.map((v, k) => v * inv * g.exact[k]!);
    }
    const dotRow = (r: number): number => {
      let p = 0;
      let start = 0;
      for (const [i, n] of c.parts.entries()) {
        if (r < start + n) {
          for (let k = 0; k < c.K; k++) p += W[i]!.exact[(r - start) * c.K + k]! * xs[k]!;
          return p + (c.bias ? bias.exact[r]! : 0);
        }
        start += n;
      }
      throw new RangeError('row');
    };
    for (let r = 0; r < N; r++) {
      let v: number;
      if (c.swiglu) {
        const gate = dotRow(r);
        const up = dotRow(c.parts[0]! + r);
        v = (gate / (1 + Math.exp(-gate))) * up;
      } else v = dotRow(r);
      const o = m * ldY + colOffset + r;
      expected[o] = (c.residual ? y0[o]! : 0) + v;
    }
    if (!c.residual) for (let r = 0; r < ldY; r++) if (r < colOffset || r >= colOffset + N) expected[m * ldY + r] = y0[m * ldY + r]!;
  }
  const dyn = dev.uniform('dyn', [rowsX, 0, 0, 0]);
  const params = dev.uniform('p', decodeGemvUniform(c.K, ldY, colOffset, !!c.lastOnly, eps), new Set([4]));
  const X = upload(Float32Array.from(x), 'x');
  const Y = upload(Float32Array.from(y0), 'y');
  const buffers = [dyn, params, X, Y, ...W.map((w, i) => upload(w.bytes, `w${i}`))];
  if (c.norm) buffers.push(upload(g.bytes, 'g'));
  if (c.bias) buffers.push(upload(bias.bytes, 'b'));
  await run(decodeGemvKernel(spec), buffers, decodeGemvGrid(N, dev.limits.maxComputeWorkgroupsPerDimension, c.shape));
  const got = new Float32Array(await dev.read(Y, 0, M * ldY * 4));
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  for (const b of buffers) b.destroy();
  return { rel: worst / scale, got };
}

describe('decode GEMV kernel vs float64', () => {
  const shapes: [number[], number][] = [
    [[1], 8],
    [[13], 40],
    [[37], 264],
    [[9], 1032],
  ];
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype}: M = 1..4, K and N off the tiles, plain and residual`, async () => {
      let seed = 1;
      for (const [parts, K] of shapes) {
        for (const M of [1, 2, 3, 4]) {
          const rel = await checkGemv({ dtype, parts, K, M, residual: M % 2 === 0 }, seed++);
          expect(rel, `${dtype} N=${parts} K=${K} M=${M}`).toBeLessThan(2e-6);
        }
      }
    });
    it(`${dtype}: fused q|k|v with norm and bias, SwiGLU pair with norm, the head's last row only`, async () => {
      const qkv = await checkGemv({ dtype, parts: [24, 8, 8], K: 48, M: 1, norm: true, bias: true }, 11);
      expect(qkv).toBeLessThan(2e-6);
      const qkv3 = await checkGemv({ dtype, parts: [20, 6, 6], K: 56, M: 3, norm: true, bias: true }, 12);
      expect(qkv3).toBeLessThan(2e-6);
      const mlp = await checkGemv({ dtype, parts: [19, 19], K: 72, M: 2, norm: true, swiglu: true }, 13);
      expect(mlp).toBeLessThan(2e-6);
      const mlpBias = await checkGemv({ dtype, parts: [10, 10], K: 16, M: 1, swiglu: true, bias: true }, 14);
      expect(mlpBias).toBeLessThan(2e-6);
      const head = await checkGemv({ dtype, parts: [301], K: 64, M: 3, norm: true, lastOnly: true }, 15);
      expect(head).toBeLessThan(2e-6);
    });
  }
  it('rejects specs it cannot build', () => {
    const base: DecodeGemvSpec = { dtype: 'F32', parts: [4], rows: 1, norm: null, swiglu: false, bias: null, residual: false };
    expect(() => decodeGemvKernel({ ...base, rows: 5 })).toThrow(RangeError);
    expect(() => decodeGemvKernel({ ...base, parts: [] })).toThrow(RangeError);
    expect(() => decodeGemvKernel({ ...base, parts: [4, 5], swiglu: true })).toThrow(RangeError);
  });
});

describe('decode GEMV shapes: lanes per row × 16-byte loads in flight per lane', () => {
  const variants = GEMV_SHAPES.filter((s) => s !== DEFAULT_GEMV_SHAPE);
  /**
   * K8 = K / 8 units per row: 259 and 133 leave a ragged rest after every lanes · unroll (32…256),
   * 70 is under 64 · 2, 5 is under one lane's stride (most lanes idle).
   */
  const cases: (GemvCase & { what: string })[] = [
    { what: 'plain, K8 259, M 1', dtype: 'F32', parts: [37], K: 8 * 259, M: 1 },
    { what: 'residual, K8 259, M 4', dtype: 'F32', parts: [37], K: 8 * 259, M: 4, residual: true },
    { what: 'q|k|v with norm and bias, K8 133, M 3', dtype: 'F16', parts: [24, 8, 8], K: 8 * 133, M: 3, norm: true, bias: true },
    { what: 'SwiGLU pair with norm, K8 70, M 2', dtype: 'BF16', parts: [19, 19], K: 8 * 70, M: 2, norm: true, swiglu: true },
    { what: "the head's last row with norm, K8 133, M 3", dtype: 'BF16', parts: [301], K: 8 * 133, M: 3, norm: true, lastOnly: true },
    { what: 'SwiGLU with bias, K8 5, M 1', dtype: 'F16', parts: [10, 10], K: 40, M: 1, swiglu: true, bias: true },
    { what: 'residual, K8 259, M 2', dtype: 'BF16', parts: [13], K: 8 * 259, M: 2, residual: true },
  ];
  for (const [i, c] of cases.entries()) {
    it(`${c.dtype} ${c.what}: every shape within 2e-6 of float64; unroll bit-identical to one load; 64 lanes within reassociation of 32`, async () => {
      const seed = 100 + i;
      const byLabel = new Map<string, { rel: number; got: Float32Array }>();
      byLabel.set(gemvShapeLabel(DEFAULT_GEMV_SHAPE), await gemvRun({ ...c, shape: DEFAULT_GEMV_SHAPE }, seed));
      for (const shape of variants) byLabel.set(gemvShapeLabel(shape), await gemvRun({ ...c, shape }, seed));
      let scale = 1;
      for (const v of byLabel.get('l32u1')!.got) scale = Math.max(scale, Math.abs(v));
      for (const shape of GEMV_SHAPES) {
        const label = gemvShapeLabel(shape);
        const r = byLabel.get(label)!;
        expect(r.rel, `${label} vs float64`).toBeLessThan(2e-6);
        const oneLoad = byLabel.get(gemvShapeLabel({ lanes: shape.lanes, unroll: 1 }))!.got;
        expect(r.got, `${label} vs ${shape.lanes} lanes, one load`).toEqual(oneLoad);
        let diff = 0;
        const l32 = byLabel.get(gemvShapeLabel({ lanes: 32, unroll: shape.unroll }))!.got;
        for (let k = 0; k < l32.length; k++) diff = Math.max(diff, Math.abs(r.got[k]! - l32[k]!));
        expect(diff / scale, `${label} vs 32 lanes`).toBeLessThan(2e-6);
      }
    });
  }

  it('keys and grids follow the shape; shapes the template does not build are refused', () => {
    const base: DecodeGemvSpec = { dtype: 'F16', parts: [4096], rows: 1, norm: null, swiglu: false, bias: null, residual: false };
    const keys = new Set(GEMV_SHAPES.map((shape) => decodeGemvKey({ ...base, shape })));
    expect(keys.size).toBe(GEMV_SHAPES.length);
    expect(decodeGemvKey(base)).toBe(decodeGemvKey({ ...base, shape: DEFAULT_GEMV_SHAPE }));
    expect(decodeGemvGrid(4096, 65535)).toEqual([512, 1, 1]);
    expect(decodeGemvGrid(4096, 65535, { lanes: 64, unroll: 4 })).toEqual([1024, 1, 1]);
    expect(decodeGemvGrid(128256 * 4, 65535, { lanes: 64, unroll: 1 })).toEqual([64128, 2, 1]);
    expect(decodeGemvKernel({ ...base, shape: { lanes: 64, unroll: 4 } })).toContain('u += 256u');
    for (const shape of [
      { lanes: 16, unroll: 1 },
      { lanes: 32, unroll: 3 },
      { lanes: 64, unroll: 8 },
    ])
      expect(() => decodeGemvKernel({ ...base, shape: shape as unknown as DecodeGemvShape })).toThrow(RangeError);
  });
});

describe('q|k|v GEMV with RoPE and the KV-cache write in its epilogue', () => {
  /** The GEMV then the RoPE kernel (6 dispatches a layer) vs RoPE in the GEMV (5): q rows, K and V cache entries. */
  async function compare(dtype: FloatDType, M: number, bias: boolean, seed: number, shape = DEFAULT_GEMV_SHAPE, K = 48): Promise<void> {
    const rnd = random(seed);
    const [hd, H, G, pos0, ctx] = [8, 4, 2, 5, 12];
    const parts = [H * hd, G * hd, G * hd];
    const stride = (H + 2 * G) * hd;
    const base = { dtype, parts, rows: M, norm: dtype, swiglu: false, bias: bias ? dtype : null, residual: false, shape } as const;
    const W = parts.map((n) =>
      encodeFloats(
        dtype,
        Array.from({ length: n * K }, () => rnd()),
      ),
    );
    const g = encodeFloats(
      dtype,
      Array.from({ length: K }, () => 1 + rnd()),
    );
    const b = encodeFloats(
      dtype,
      Array.from({ length: stride }, () => rnd()),
    );
    const x = Float32Array.from({ length: M * K }, () => rnd() * 4);
    const table = Float32Array.from({ length: ctx * hd }, () => rnd() * 2);
    const dyn = dev.uniform('dyn', [M, pos0, 0, 0]);
    const params = dev.uniform('p', decodeGemvUniform(K, stride, 0, false, 1e-5), new Set([4]));
    const inputs = [upload(x, 'x'), ...W.map((w, i) => upload(w, `w${i}`)), upload(g, 'g'), ...(bias ? [upload(b, 'b')] : []), upload(table, 'rope')];
    const [X, W0, W1, W2, G0, ...rest] = inputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, ...GPUBuffer[]];
    const B = bias ? rest[0]! : null;
    const rope = rest.at(-1)!;
    const fresh = () => ({
      Y: upload(new Float32Array(M * stride), 'y'),
      k: upload(new Float32Array(ctx * G * hd).fill(7), 'k'),
      v: upload(new Float32Array(ctx * G * hd).fill(7), 'v'),
    });
    const apart = fresh();
    const grid = (spec: DecodeGemvSpec) => decodeGemvGrid(gemvOutputs(spec), dev.limits.maxComputeWorkgroupsPerDimension, shape);
    await run(decodeGemvKernel(base), [dyn, params, X, apart.Y, W0, W1, W2, G0, ...(B ? [B] : [])], grid(base));
    await run(decodeRopeKernel(hd, H, G), [dyn, rope, apart.Y, apart.k, apart.v], [Math.ceil((M * (H + G) * (hd / 2)) / 64), 1, 1]);
    const fused = fresh();
    const spec: DecodeGemvSpec = { ...base, rope: { headDim: hd, heads: H, kvHeads: G } };
    expect(gemvOutputs(spec)).toBe(stride / 2);
    await run(decodeGemvKernel(spec), [dyn, params, X, fused.Y, W0, W1, W2, G0, ...(B ? [B] : []), rope, fused.k, fused.v], grid(spec));
    const read = async (buf: GPUBuffer) => new Float32Array(await dev.read(buf));
    const [ya, yf] = [await read(apart.Y), await read(fused.Y)];
    for (let m = 0; m < M; m++) expect(yf.subarray(m * stride, m * stride + H * hd), `q row ${m}`).toEqual(ya.subarray(m * stride, m * stride + H * hd));
    const [ka, kf, va, vf] = [await read(apart.k), await read(fused.k), await read(apart.v), await read(fused.v)];
    expect(kf).toEqual(ka);
    expect(vf).toEqual(va);
    // The rows' positions were written (no longer the fill value), and nothing else was.
    const row = G * hd;
    for (let pos = 0; pos < ctx; pos++) {
      const written = pos >= pos0 && pos < pos0 + M;
      expect(
        kf.subarray(pos * row, (pos + 1) * row).every((v) => v === 7),
        `K position ${pos}`,
      ).toBe(!written);
    }
    for (const buf of [...inputs, dyn, params, apart.Y, apart.k, apart.v, fused.Y, fused.k, fused.v]) buf.destroy();
  }

  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype}: rows 1 and 3, with and without bias, bit for bit the GEMV then the RoPE kernel`, async () => {
      await compare(dtype, 1, false, 21);
      await compare(dtype, 3, true, 22);
    });
  }

  it('every GEMV shape, K of 259 16-byte units (ragged for every lanes · unroll): bit for bit its GEMV then the RoPE kernel', async () => {
    for (const [i, shape] of GEMV_SHAPES.entries()) await compare((['F32', 'F16', 'BF16'] as const)[i % 3]!, 1 + (i % 4), i % 2 === 0, 31 + i, shape, 8 * 259);
  });

  it('refuses RoPE on parts that are not q|k|v of its heads', () => {
    const base: DecodeGemvSpec = { dtype: 'F32', parts: [32, 16, 16], rows: 1, norm: null, swiglu: false, bias: null, residual: false };
    expect(() => decodeGemvKernel({ ...base, rope: { headDim: 8, heads: 4, kvHeads: 1 } })).toThrow(RangeError);
    expect(() => decodeGemvKernel({ ...base, rope: { headDim: 8, heads: 4, kvHeads: 2 }, residual: true })).toThrow(RangeError);
    expect(decodeGemvKernel({ ...base, rope: { headDim: 8, heads: 4, kvHeads: 2 } })).toContain('kCache');
  });
});

describe('decode attention kernel vs float64', () => {
  it('GQA over contexts of 1, 5, 64, 70 and 131 positions, several rows', async () => {
    const hd = 16;
    const H = 4;
    const G = 2;
    for (const [ctx, T] of [
      [1, 1],
      [5, 1],
      [64, 1],
      [70, 3],
      [131, 2],
    ] as const) {
      const rnd = random(ctx * 31 + T);
      const pos0 = ctx - T; // rows t see positions 0 … pos0 + t
      const qStride = (H + 2 * G) * hd; // the packed q|k|v layout
      const q = Array.from({ length: T * qStride }, () => rnd() * 2);
      const k = Array.from({ length: ctx * G * hd }, () => rnd() * 2);
      const v = Array.from({ length: ctx * G * hd }, () => rnd() * 2);
      const expected = new Float64Array(T * H * hd);
      for (let t = 0; t < T; t++) {
        for (let a = 0; a < H; a++) {
          const g = Math.floor(a / (H / G));
          const scores: number[] = [];
          for (let u = 0; u <= pos0 + t; u++) {
            let s = 0;
            for (let d = 0; d < hd; d++) s += q[t * qStride + a * hd + d]! * k[u * G * hd + g * hd + d]!;
            scores.push(s / Math.sqrt(hd));
          }
          const top = Math.max(...scores);
          const w = scores.map((s) => Math.exp(s - top));
          const sum = w.reduce((x, y) => x + y, 0);
          for (let d = 0; d < hd; d++) {
            let acc = 0;
            for (let u = 0; u < w.length; u++) acc += w[u]! * v[u * G * hd + g * hd + d]!;
            expected[t * H * hd + a * hd + d] = acc / sum;
          }
        }
      }
      const dyn = dev.uniform('dyn', [T, pos0, 0, 0]);
      const out = upload(new Float32Array(T * H * hd), 'out');
      const bufs = [dyn, upload(Float32Array.from(q), 'q'), upload(Float32Array.from(k), 'k'), upload(Float32Array.from(v), 'v'), out];
      await run(decodeAttentionKernel(hd, H, G, qStride), bufs, [H, T, 1]);
      const got = new Float32Array(await dev.read(out, 0, T * H * hd * 4));
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      expect(worst, `context ${ctx}, rows ${T}`).toBeLessThan(1e-5);
      for (const b of bufs) b.destroy();
    }
  });
});

describe('greedy pick kernel vs sampling.argmax', () => {
  async function gpuArgmax(values: Float32Array): Promise<number> {
    const chunks = Math.ceil(values.length / ARGMAX_CHUNK);
    const logits = upload(values, 'logits');
    const pairs = dev.createBuffer('pairs', Math.max(16, chunks * 8), STORAGE());
    const out = dev.createBuffer('out', 16, STORAGE());
    await run(argmaxKernel('partial'), [dev.uniform('n', [values.length, 0, 0, 0]), logits, pairs], [chunks, 1, 1]);
    await run(argmaxKernel('final'), [dev.uniform('chunks', [chunks, 0, 0, 0]), pairs, out], [1, 1, 1]);
    const id = new Uint32Array(await dev.read(out, 0, 4))[0]!;
    for (const b of [logits, pairs, out]) dev.free(b);
    return id;
  }

  it('random vectors over several chunks, ties (lowest id), NaN and −∞ skipped, nothing finite → 0', async () => {
    const rand = random(11);
    const cases: [string, Float32Array][] = [];
    for (const n of [1, 7, 1024, 1025, 5000, 49152 + 13]) cases.push([`random ${n}`, Float32Array.from({ length: n }, () => rand() * 20)]);
    const tie = Float32Array.from({ length: 5000 }, () => rand());
    tie[4321] = 3;
    tie[1500] = 3;
    tie[2900] = 3; // the lowest of three equal maxima sits in the second chunk
    cases.push(['ties across chunks', tie]);
    const odd = Float32Array.from({ length: 3000 }, () => -1e30);
    odd[0] = NaN;
    odd[5] = -Infinity;
    odd[2999] = -5e29;
    odd[1200] = NaN;
    cases.push(['NaN and −∞ never win', odd]);
    cases.push(['all −∞', new Float32Array(2100).fill(-Infinity)]);
    cases.push(['all NaN', new Float32Array(33).fill(NaN)]);
    const inf = new Float32Array(1500).fill(1);
    inf[1400] = Infinity;
    cases.push(['+∞ wins', inf]);
    for (const [what, values] of cases) expect(await gpuArgmax(values), what).toBe(argmax(values));
    expect(argmax(tie)).toBe(1500);
    expect(argmax(odd)).toBe(2999);
  });
});
