import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { SprintInputError } from '../sprint/errors.ts';
import { GpuDevice } from './device.ts';
import { GpuError } from './errors.ts';
import { getGpu as getBrowserGpu } from './gpu-browser.ts';
import { getGpu } from './gpu-node.ts';
import { SPRINT_SEED } from './test-support.ts';
import { SprintEngine } from './transformer.ts';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof GpuError ? e.code : String(e)),
  );

describe('typed errors', () => {
  it('no WebGPU: NO_WEBGPU', async () => {
    expect(await code(GpuDevice.create(null))).toBe('NO_WEBGPU');
    expect(await code(SprintEngine.create({ config: 'tiny', sprintSeed: SPRINT_SEED, gpu: null }))).toBe('NO_WEBGPU');
    if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) expect(await code(getBrowserGpu())).toBe('NO_WEBGPU');
  });

  it('no adapter: NO_ADAPTER', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    expect(await code(SprintEngine.create({ config: 'tiny', sprintSeed: SPRINT_SEED, gpu: noAdapter }))).toBe('NO_ADAPTER');
  });

  it('model larger than the memory: INSUFFICIENT_MEMORY with the bytes needed', async () => {
    const error = await SprintEngine.create({
      config: CONFIGS.canonical,
      sprintSeed: SPRINT_SEED,
      gpu: await getGpu(),
      autotune: false,
      batch: 1,
      memoryBudgetBytes: 256 * 2 ** 20,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as GpuError).code).toBe('INSUFFICIENT_MEMORY');
    expect((error as GpuError).details.requiredBytes).toBeGreaterThan(612_370_432);
    expect((error as GpuError).message).toMatch(/MiB/);
  });

  it('bad inputs are rejected with typed errors', async () => {
    await expect(SprintEngine.create({ config: 'tiny', sprintSeed: new Uint8Array(3), gpu: await getGpu() })).rejects.toBeInstanceOf(SprintInputError);
    expect(await code(SprintEngine.create({ config: 'tiny', sprintSeed: SPRINT_SEED, gpu: await getGpu(), autotune: false, batch: 0 }))).toBe('BAD_ARGUMENT');
  });
});
