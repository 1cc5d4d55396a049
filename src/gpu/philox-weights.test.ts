import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { philox4x32Array } from '../sprint/philox.ts';
import { weightKey } from '../sprint/seeds.ts';
import { GLOBAL_LAYER, TensorId, generateTensor, generateTensorCodes, tensorShape } from '../sprint/weights.ts';
import { GpuDevice } from './device.ts';
import { getGpu } from './gpu-node.ts';
import { philoxTestKernel } from './shaders/philox.wgsl.ts';
import { WeightStore } from './weight-store.ts';

const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
let dev: GpuDevice;

beforeAll(async () => {
  dev = await GpuDevice.create(await getGpu());
});
afterAll(() => dev?.destroy());

describe('WGSL Philox4x32-10', () => {
  it('matches src/sprint/philox.ts bit for bit', async () => {
    const cases: number[][] = [
      [0, 0, 0, 0, 0, 0],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0],
    ];
    for (let i = 0; i < 61; i++) cases.push(Array.from({ length: 6 }, (_, j) => (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(j + 3, 0x85ebca6b)) >>> 0));
    const input = new Uint32Array(cases.flat());
    const pipeline = await dev.pipeline('test:philox', philoxTestKernel);
    const inBuf = dev.createBuffer('in', input.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const outBuf = dev.createBuffer('out', cases.length * 16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    dev.queue.writeBuffer(inBuf, 0, input);
    const enc = dev.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, dev.bindGroup(pipeline, [inBuf, outBuf]));
    pass.dispatchWorkgroups(Math.ceil(cases.length / 64));
    pass.end();
    dev.queue.submit([enc.finish()]);
    const got = new Uint32Array(await dev.read(outBuf));
    cases.forEach((c, i) => {
      expect(Array.from(got.subarray(4 * i, 4 * i + 4))).toEqual(Array.from(philox4x32Array(c.slice(0, 4), c.slice(4))));
    });
    expect(Array.from(got.subarray(0, 4), (w) => w.toString(16))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });
});

describe('weights generated on the GPU', () => {
  const tiny = CONFIGS.tiny;
  const key = weightKey(seed);

  it('u8 codes of every tiny tensor equal generateTensorCodes, also when split into small bindings', async () => {
    for (const maxBindingBytes of [undefined, 2048]) {
      const store = await WeightStore.generate(dev, tiny, key, { format: 'u8', maxBindingBytes });
      const all = [
        ...[TensorId.tokEmb, TensorId.posEmb, TensorId.lmHead, TensorId.target].map((id) => [id, GLOBAL_LAYER] as const),
        ...[0, 1].flatMap((l) => [TensorId.wq, TensorId.wk, TensorId.wv, TensorId.wo, TensorId.w1, TensorId.w2].map((id) => [id, l] as const)),
      ];
      for (const [id, layer] of all) {
        const { rows, cols } = tensorShape(tiny, id);
        expect(await store.read(dev, id, layer)).toEqual(generateTensorCodes(key, id, layer, rows * cols));
      }
      if (maxBindingBytes) expect(store.tensor(TensorId.tokEmb).chunks.length).toBeGreaterThan(1);
      store.destroy();
    }
  });

  it('f16 values equal generateTensor exactly', async () => {
    const store = await WeightStore.generate(dev, tiny, key, { format: 'f16' });
    for (const [id, layer] of [
      [TensorId.tokEmb, GLOBAL_LAYER],
      [TensorId.w2, 1],
      [TensorId.lmHead, GLOBAL_LAYER],
    ] as const) {
      const bytes = await store.read(dev, id, layer);
      const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      const expected = generateTensor(tiny, key, id, layer);
      expect(Array.from(halves, f16ToNumber)).toEqual(Array.from(expected));
    }
    store.destroy();
  });
});

function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
