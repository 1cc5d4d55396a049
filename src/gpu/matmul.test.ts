import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateVariants } from './autotune.ts';
import { GpuDevice, type AdapterDescription } from './device.ts';
import { getGpu } from './gpu-node.ts';
import { MATMUL_UNIFORM_FLOATS, matmulDispatch, matmulKernel, matmulKey, matmulUniform, variantName, type MatmulVariant } from './shaders/matmul.wgsl.ts';

let dev: GpuDevice;
beforeAll(async () => {
  dev = await GpuDevice.create(await getGpu());
});
afterAll(() => dev?.destroy());

const gpuLike: AdapterDescription = { vendor: 'x', architecture: 'y', device: '', description: '', isFallback: false };
const cpuLike: AdapterDescription = { ...gpuLike, isFallback: true };
const variants: MatmulVariant[] = [...candidateVariants(gpuLike), ...candidateVariants(cpuLike)].filter(
  (v, i, all) => all.findIndex((w) => variantName(w) === variantName(v)) === i,
);

/** Codes q of element (n, k), and their f16 packing, for a weight matrix [N, K]. */
function weights(N: number, K: number) {
  const q = Uint8Array.from({ length: N * K }, (_, i) => (i * 151 + 7) & 0xff);
  const f16 = new Uint16Array(N * K);
  // (2q − 255)·2^−8 as f16: exact (an odd integer below 2^8 times a power of two).
  q.forEach((b, i) => (f16[i] = toF16((2 * b - 255) / 256)));
  return { q, f16 };
}

function toF16(x: number): number {
  const bits = new DataView(new ArrayBuffer(4));
  bits.setFloat32(0, x);
  const u = bits.getUint32(0);
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (x === 0) return sign;
  if (exp <= 0) return sign | ((((u & 0x7fffff) | 0x800000) >>> (14 - exp)) >>> 0);
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

describe('matmul template', () => {
  it.each(variants.map((v) => [variantName(v), v] as const))('%s: relu + residual into a column window, ragged M and N', async (_name, v) => {
    const M = 10;
    const N = 36;
    const K = 64;
    const ldY = 40;
    const colOffset = 3;
    const x = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.7));
    const y0 = Float32Array.from({ length: M * ldY }, (_, i) => Math.cos(i));
    const { q, f16 } = weights(N, K);
    const w = v.weightFormat === 'u8' ? q : new Uint8Array(f16.buffer);
    const scale = v.weightFormat === 'u8' ? 2 ** -8 : 1;
    const xb = dev.createBuffer('x', x.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const wb = dev.createBuffer('w', w.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const yb = dev.createBuffer('y', y0.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    dev.queue.writeBuffer(xb, 0, x);
    dev.queue.writeBuffer(wb, 0, w);
    dev.queue.writeBuffer(yb, 0, y0);
    const epilogue = { relu: true, residual: true };
    const pipeline = await dev.pipeline(matmulKey(v, epilogue, K), () => matmulKernel(v, epilogue, K));
    const shape = { M, N, K };
    const u = dev.uniform('u', matmulUniform(shape, ldY, colOffset, scale), MATMUL_UNIFORM_FLOATS);
    const encoder = dev.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, dev.bindGroup(pipeline, [u, xb, wb, yb]));
    pass.dispatchWorkgroups(...matmulDispatch(v, shape, 65535));
    pass.end();
    dev.queue.submit([encoder.finish()]);
    const got = new Float32Array(await dev.read(yb));
    expect(got.length).toBe(M * ldY);
    expect([x.length, q.length]).toEqual([M * K, N * K]);
    let worst = 0;
    // Every array's length is checked or set above from M, N, K and ldY, the loops' bounds.
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < ldY; c++) {
        const n = c - colOffset;
        let want = y0[m * ldY + c]!;
        if (n >= 0 && n < N) {
          let s = 0;
          for (let k = 0; k < K; k++) s += x[m * K + k]! * (2 * q[n * K + k]! - 255) * 2 ** -8;
          want += Math.max(0, s);
        }
        worst = Math.max(worst, Math.abs(got[m * ldY + c]! - want));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    [xb, wb, yb, u].forEach((b) => dev.free(b));
  });
});
