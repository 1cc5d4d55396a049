/**
 * Backend choice: the rules of decideBackend on fake adapters, and on this machine's real one
 * (Dawn over SwiftShader): auto runs the CPU backend and says why; webgpu stays on WebGPU.
 */
import { describe, expect, it } from 'vitest';
import { getGpu } from '../gpu/gpu-node.ts';
import { SprintEngine } from '../gpu/transformer.ts';
import { decideBackend, parseBackendChoice, probeAdapter } from './backend.ts';
import { CpuSprintEngine } from './engine.ts';
import { createSprintEngine, describeEngine } from './select.ts';
import { SPRINT_SEED } from './test-support.ts';
import { nodeSpawner } from './threads-node.ts';

const fakeGpu = (info: (Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) | null, fail = false): GPU =>
  ({
    requestAdapter: async () => {
      if (fail) throw new Error('driver crashed');
      return info === null ? null : ({ info, limits: {} } as unknown as GPUAdapter);
    },
  }) as unknown as GPU;

const nvidia = { vendor: 'nvidia', architecture: 'ada', device: 'RTX 4090', description: 'NVIDIA GeForce RTX 4090' };

describe('decideBackend', () => {
  it('auto: the CPU without WebGPU, without an adapter, or when requestAdapter fails', async () => {
    for (const gpu of [undefined, null, fakeGpu(null), fakeGpu(nvidia, true)]) {
      const d = await decideBackend('auto', { gpu, cpuAvailable: true });
      expect(d.backend).toBe('cpu');
      expect(d.reason).toMatch(/running on the CPU/);
    }
  });

  it('auto: the CPU on a software adapter (SwiftShader, WARP, llvmpipe, or flagged as fallback)', async () => {
    for (const info of [
      { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0' },
      { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' },
      { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.7, 256 bits)' },
      { ...nvidia, isFallbackAdapter: true },
    ]) {
      const d = await decideBackend('auto', { gpu: fakeGpu(info), cpuAvailable: true });
      expect(d).toMatchObject({ backend: 'cpu', adapter: { available: true, software: true } });
      expect(d.reason).toMatch(/software renderer/);
    }
  });

  it('auto on a hardware adapter: WebGPU, unless a measurement here finds the CPU faster', async () => {
    expect((await decideBackend('auto', { gpu: fakeGpu(nvidia), cpuAvailable: true })).backend).toBe('webgpu');
    const slowGpu = await decideBackend('auto', { gpu: fakeGpu(nvidia), cpuAvailable: true, measure: async () => ({ cpuGflops: 40, gpuGflops: 12 }) });
    expect(slowGpu).toMatchObject({ backend: 'cpu', measured: { cpuGflops: 40, gpuGflops: 12 } });
    expect(slowGpu.reason).toMatch(/CPU 40\.0 vs WebGPU 12\.0 GFLOP\/s/);
    const fastGpu = await decideBackend('auto', { gpu: fakeGpu(nvidia), cpuAvailable: true, measure: async () => ({ cpuGflops: 40, gpuGflops: 9000 }) });
    expect(fastGpu.backend).toBe('webgpu');
  });

  it('auto without cross-origin isolation stays on WebGPU; forced choices are obeyed', async () => {
    const swiftshader = fakeGpu({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' });
    expect((await decideBackend('auto', { gpu: swiftshader, cpuAvailable: false })).backend).toBe('webgpu');
    expect((await decideBackend('webgpu', { gpu: swiftshader, cpuAvailable: true })).backend).toBe('webgpu');
    expect((await decideBackend('cpu', { gpu: fakeGpu(nvidia), cpuAvailable: true })).backend).toBe('cpu');
    expect(() => parseBackendChoice('gpu')).toThrow(/auto, webgpu, cpu/);
  });
});

describe('on this machine (Dawn over SwiftShader)', () => {
  it('the adapter is a software one, and auto builds the CPU engine and says why', async () => {
    const gpu = await getGpu();
    expect(await probeAdapter(gpu)).toMatchObject({ available: true, software: true });
    const created = await createSprintEngine({ backend: 'auto', config: 'tiny', sprintSeed: SPRINT_SEED, gpu, spawner: nodeSpawner, threads: 2 });
    try {
      expect(created.engine).toBeInstanceOf(CpuSprintEngine);
      expect(created.decision).toMatchObject({ backend: 'cpu', choice: 'auto' });
      expect(describeEngine(created)).toMatch(/^CPU \(WebAssembly SIMD, 2 threads\): the WebGPU adapter is a software renderer \(.*swiftshader/i);
    } finally {
      created.engine.destroy();
    }
  });

  it('webgpu keeps the WebGPU engine', async () => {
    const created = await createSprintEngine({ backend: 'webgpu', config: 'tiny', sprintSeed: SPRINT_SEED, gpu: await getGpu(), autotune: false, batch: 4 });
    try {
      expect(created.engine).toBeInstanceOf(SprintEngine);
      expect(created.decision.backend).toBe('webgpu');
    } finally {
      created.engine.destroy();
    }
  });
});
