import { describe, expect, it } from 'vitest';
import { CONFIGS, totalParams } from '../../sprint/config.ts';
import { modelFit, probeCompatibility, verdict } from './compat.ts';
import { networkModel } from './network-model.ts';
import { memoryFit, memoryNeed } from './memory.ts';

const env = { secureContext: true, cpuFallback: true };
const GiB = 2 ** 30;
const limits = { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: GiB, minStorageBufferOffsetAlignment: 256 };

function fakeGpu(info: Partial<GPUAdapterInfo> | null, extra: { limits?: object; features?: string[]; throws?: Error } = {}): GPU {
  return {
    async requestAdapter() {
      if (extra.throws) throw extra.throws;
      if (info === null) return null;
      return { info, limits: extra.limits ?? limits, features: new Set(extra.features ?? []) } as unknown as GPUAdapter;
    },
  } as unknown as GPU;
}

describe('memory need', () => {
  it('canonical: the 8-bit weights are one byte per parameter, about 600 MB, plus a small working set', () => {
    const need = memoryNeed(CONFIGS.canonical);
    // Every parameter once, plus the target codes (V bytes), each tensor padded to 16 bytes at most.
    expect(need.weightBytes).toBeGreaterThanOrEqual(totalParams(CONFIGS.canonical) + CONFIGS.canonical.vocab);
    expect(need.weightBytes).toBeLessThan(totalParams(CONFIGS.canonical) + CONFIGS.canonical.vocab + 16 * 400);
    expect(need.weightBytes / 2 ** 20).toBeGreaterThan(570);
    expect(need.weightBytes / 2 ** 20).toBeLessThan(600);
    expect(need.weightBytesF16).toBeGreaterThan(1.99 * need.weightBytes - 2 * CONFIGS.canonical.vocab);
    expect(need.workingBytes).toBeGreaterThan(0);
    expect(need.workingBytes).toBeLessThan(2 ** 20);
    expect(need.minimumBytes).toBe(need.weightBytes + need.workingBytes);
  });

  it('tiny needs far less than canonical', () => {
    expect(memoryNeed(CONFIGS.tiny).minimumBytes * 1000).toBeLessThan(memoryNeed(CONFIGS.canonical).minimumBytes);
  });

  it('fits under ordinary limits, also the WebGPU default 128 MiB binding (tensors are split by rows)', () => {
    expect(memoryFit(CONFIGS.canonical, limits).fits).toBe(true);
    expect(
      memoryFit(CONFIGS.canonical, { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20, minStorageBufferOffsetAlignment: 256 }).fits,
    ).toBe(true);
  });

  it('does not fit when one binding cannot hold the working buffers or four rows of a tensor, and says why', () => {
    const small = memoryFit(CONFIGS.canonical, { ...limits, maxStorageBufferBindingSize: 64 * 1024 });
    expect(small.fits).toBe(false);
    expect(small.problem).toMatch(/working buffer needs 131072 bytes/);
    const rows = memoryFit(CONFIGS.canonical, { ...limits, maxBufferSize: 1024 });
    expect(rows.fits).toBe(false);
    expect(rows.problem).toMatch(/cannot hold 4 rows/);
  });
});

describe('compatibility report', () => {
  it('no navigator.gpu', async () => {
    const r = await probeCompatibility(undefined, env);
    expect(r.kind).toBe('no-webgpu');
    expect(verdict(r).level).toBe('slow');
    expect(verdict(await probeCompatibility(undefined, { ...env, cpuFallback: false })).level).toBe('blocked');
  });

  it('no adapter, and an adapter request that throws', async () => {
    const none = await probeCompatibility(fakeGpu(null), env);
    expect(none).toMatchObject({ kind: 'no-adapter', problem: expect.stringMatching(/no GPU/) });
    const thrown = await probeCompatibility(fakeGpu({}, { throws: new Error('driver crashed') }), env);
    expect(thrown).toMatchObject({ kind: 'no-adapter', problem: expect.stringMatching(/driver crashed/) });
  });

  it.each([
    [{ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' }, 'SwiftShader'],
    [{ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }, 'WARP'],
    [{ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, 'llvmpipe'],
    [{ vendor: 'mesa', architecture: 'lavapipe' }, 'lavapipe'],
  ])('software adapter %o is named %s and warned about', async (info, name) => {
    const r = await probeCompatibility(fakeGpu(info), env);
    if (r.kind !== 'adapter') throw new Error(r.kind);
    expect(r.adapter.software).toBe(true);
    expect(r.adapter.softwareName).toBe(name);
    expect(verdict(r)).toEqual({ level: 'slow', text: `Software GPU (${name}): contributing will be very slow.` });
  });

  it('a fallback-flagged adapter with an ordinary name is still software', async () => {
    const r = await probeCompatibility(fakeGpu({ vendor: 'acme', description: 'Acme GPU', isFallbackAdapter: true } as Partial<GPUAdapterInfo>), env);
    expect(r.kind === 'adapter' && r.adapter.software).toBe(true);
    expect(verdict(r).text).toBe('Software GPU: contributing will be very slow.');
  });

  it('a hardware adapter: vendor, description, features and the canonical fit', async () => {
    const r = await probeCompatibility(
      fakeGpu({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA GeForce RTX 4070' }, { features: ['shader-f16'] }),
      env,
    );
    if (r.kind !== 'adapter') throw new Error(r.kind);
    expect(r.adapter).toMatchObject({
      vendor: 'nvidia',
      description: 'NVIDIA GeForce RTX 4070',
      label: 'nvidia / ada / NVIDIA GeForce RTX 4070',
      software: false,
      shaderF16: true,
    });
    expect(modelFit(r, CONFIGS.canonical).fits).toBe(true);
    expect(verdict(r)).toEqual({ level: 'good', text: 'This GPU can contribute.' });
    const tight = await probeCompatibility(fakeGpu({ vendor: 'nvidia' }, { limits: { ...limits, maxStorageBufferBindingSize: 1024 } }), env);
    expect(verdict(tight).level).toBe('blocked');
  });

  it('judges the network’s model: a GPU too small for canonical can still run a tiny network', async () => {
    // 64 KiB bindings: canonical's FFN hidden state (4 · 4 · 8192 bytes = 128 KiB) does not fit one, tiny's (4 KiB) does.
    const small = { ...limits, maxStorageBufferBindingSize: 64 * 1024 };
    const r = await probeCompatibility(fakeGpu({ vendor: 'nvidia' }, { limits: small }), env);
    if (r.kind !== 'adapter') throw new Error(r.kind);
    expect(r.limits).toEqual(small);
    expect(modelFit(r, CONFIGS.canonical).fits).toBe(false);
    expect(verdict(r)).toEqual({ level: 'blocked', text: 'This GPU cannot hold the network’s model.' });
    expect(modelFit(r, CONFIGS.tiny)).toMatchObject({ fits: true, config: 'tiny', minimumBytes: memoryNeed(CONFIGS.tiny).minimumBytes });
    expect(verdict(r, CONFIGS.tiny).level).toBe('good');
  });

  it('takes the genesis’s model once network.json is read, canonical before', () => {
    expect(networkModel(undefined)).toEqual({ config: CONFIGS.canonical, fromNetwork: false });
    expect(networkModel('tiny')).toEqual({ config: CONFIGS.tiny, fromNetwork: true });
    expect(() => networkModel('huge')).toThrow(/unknown config 'huge'/);
  });
});
