/**
 * One entry for a Sprint engine on either backend: decides (./backend.ts), builds the WebGPU
 * SprintEngine or the CpuSprintEngine, and says which runs and why. Browser-safe (no Node imports):
 * Node callers pass `gpu` (src/gpu/gpu-node.ts) and `spawner` (./threads-node.ts).
 */
import { getConfig } from '../sprint/config.ts';
import { autotune } from '../gpu/autotune.ts';
import { GpuDevice } from '../gpu/device.ts';
import { isGpuError } from '../gpu/errors.ts';
import { SprintEngine, type EngineOptions } from '../gpu/transformer.ts';
import { decideBackend, type BackendChoice, type BackendDecision } from './backend.ts';
import { CpuSprintEngine } from './engine.ts';
import { measureCpuMatmul } from './probe.ts';
import type { ThreadSpawner } from './threads.ts';
import { browserSpawner, canShareMemory } from './threads-browser.ts';

export type AnySprintEngine = SprintEngine | CpuSprintEngine;

export interface CreateEngineOptions extends EngineOptions {
  /** Default 'auto'. */
  readonly backend?: BackendChoice;
  /** CPU backend: how to make threads (Node: nodeSpawner) and how many (default: every core). */
  readonly spawner?: ThreadSpawner;
  readonly threads?: number;
  /** Under `auto` with a hardware adapter, time both backends' FFN matmul before choosing (default true). */
  readonly measure?: boolean;
}

export interface CreatedEngine {
  readonly engine: AnySprintEngine;
  readonly decision: BackendDecision;
}

/** Measurements behind `auto` on hardware adapters, once per adapter, config and thread count. */
const measurements = new Map<string, Promise<{ cpuGflops: number; gpuGflops: number }>>();

/** GPU errors that mean "no usable WebGPU here", after which `auto` falls back to the CPU. */
const UNUSABLE_GPU = ['NO_WEBGPU', 'NO_ADAPTER', 'INSUFFICIENT_LIMITS'] as const;

export async function createSprintEngine(options: CreateEngineOptions): Promise<CreatedEngine> {
  const choice = options.backend ?? 'auto';
  const spawner = options.spawner ?? browserSpawner;
  const config = typeof options.config === 'string' ? getConfig(options.config) : options.config;
  const gpu = options.gpu === undefined ? (typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { gpu?: GPU }).gpu) : options.gpu;
  const measureNow = async () => {
    const dev = await GpuDevice.create(gpu);
    let gpuGflops: number;
    try {
      gpuGflops = (await autotune(dev, config, { cache: options.tuneCache })).gflops;
    } finally {
      dev.destroy();
    }
    const shape = { M: 4 * config.seqLen, K: config.dModel, N: Math.min(config.ffnHidden, 2048) };
    const cpu = await measureCpuMatmul(shape, { spawner, threads: options.threads, seconds: 0.2 });
    return { cpuGflops: cpu.gflops, gpuGflops };
  };
  const measure =
    options.measure === false
      ? undefined
      : (adapter: { label?: string }) => {
          const key = `${adapter.label}|${config.name}|${options.threads ?? spawner.cores()}`;
          let m = measurements.get(key);
          if (!m) {
            m = measureNow();
            measurements.set(key, m);
            m.catch(() => measurements.delete(key));
          }
          return m;
        };
  const decision = await decideBackend(choice, { gpu, cpuAvailable: canShareMemory(), measure });
  const cpu = () =>
    CpuSprintEngine.create({
      config,
      sprintSeed: options.sprintSeed,
      batch: options.batch,
      threads: options.threads,
      spawner,
      onProgress: options.onProgress,
      memoryBudgetBytes: options.memoryBudgetBytes,
    });
  if (decision.backend === 'cpu') return { engine: await cpu(), decision };
  try {
    return { engine: await SprintEngine.create({ ...options, config, gpu }), decision };
  } catch (e) {
    if (choice !== 'auto' || !canShareMemory() || !UNUSABLE_GPU.some((code) => isGpuError(e, code))) throw e;
    const reason = `WebGPU failed (${(e as Error).message}): running on the CPU`;
    return { engine: await cpu(), decision: { ...decision, backend: 'cpu', reason } };
  }
}

/** One line for logs: backend, where, and why. */
export function describeEngine(created: CreatedEngine): string {
  const { engine, decision } = created;
  const where = engine instanceof CpuSprintEngine ? engine.description : `WebGPU (${decision.adapter?.label ?? 'adapter'})`;
  return `${where}: ${decision.reason}`;
}
