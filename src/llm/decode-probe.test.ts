/**
 * The LLM's measured `auto` choice: the decision from given decode timings (a pure function), and
 * one real probe of the test model's shapes on both backends (SwiftShader stands in for a GPU here).
 */
import { describe, expect, it } from 'vitest';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { CpuLlmModel } from './cpu-model.ts';
import { loadLanguageModel } from './cpu-select.ts';
import { chooseByDecodeProbe, probeDecode, type DecodeTiming } from './decode-probe.ts';
import { GpuModel } from './gpu-model.ts';
import { isLlmError } from './errors.ts';
import { readManifest } from './loader.ts';
import { MemorySource } from './source.ts';
import { makeTestModel } from './test-model.ts';

const timing = (stepMs: number): DecodeTiming => ({ stepMs, layerMs: stepMs / 30, fixedMs: 0, tokensPerSecond: 1000 / stepMs, rounds: 5 });
const where = { cpu: 'the CPU (16 threads)', gpu: 'NVIDIA H100' };
const probe = (cpuMs: number, gpuMs: number) => ({ cpu: timing(cpuMs), gpu: timing(gpuMs), layers: 3, numLayers: 24, dtype: 'BF16' as const });

describe('chooseByDecodeProbe', () => {
  it('takes the CPU when its decode step is shorter and says so with both figures', () => {
    const c = chooseByDecodeProbe(probe(11.9, 13.3), where);
    expect(c.backend).toBe('cpu');
    expect(c.reason).toContain('the CPU (16 threads) is faster than WebGPU (NVIDIA H100)');
    expect(c.reason).toContain('84.0 tok/s on the CPU vs 75.2 on WebGPU');
    expect(c.reason).toContain('11.90 vs 13.30 ms a step, from 3 of 24 layers, BF16');
  });

  it('takes WebGPU when its step is shorter, and on a tie', () => {
    const faster = chooseByDecodeProbe(probe(11.9, 3.2), where);
    expect(faster.backend).toBe('webgpu');
    expect(faster.reason).toMatch(/^measured here, WebGPU \(NVIDIA H100\) is faster than the CPU/);
    expect(faster.reason).toContain('84.0 tok/s on the CPU vs 313 on WebGPU');
    expect(chooseByDecodeProbe(probe(5, 5), where).backend).toBe('webgpu');
  });

  it('refuses timings that are not positive and finite', () => {
    for (const [cpu, gpu] of [
      [Number.NaN, 1],
      [1, 0],
      [Number.POSITIVE_INFINITY, 1],
      [1, -2],
    ] as const) {
      let error: unknown;
      try {
        chooseByDecodeProbe(probe(cpu, gpu), where);
      } catch (e) {
        error = e;
      }
      expect(isLlmError(error, 'BAD_ARGUMENT'), `${cpu} / ${gpu}`).toBe(true);
    }
  });
});

describe('probeDecode on the test model', () => {
  it('times decode steps on both backends with the checkpoint dtype', async () => {
    const source = new MemorySource(makeTestModel({ layers: 4, dtype: 'F16', modelType: 'qwen2' }).files, 'test model');
    const manifest = await readManifest(source);
    const p = await probeDecode(manifest, { gpu: await getGpu(), spawner: nodeSpawner, threads: 2, budgetMs: 40 });
    expect(p.dtype).toBe('F16');
    expect(p.layers).toBe(2);
    expect(p.numLayers).toBe(4);
    for (const t of [p.cpu, p.gpu]) {
      expect(Number.isFinite(t.stepMs) && t.stepMs > 0).toBe(true);
      expect(t.stepMs).toBeCloseTo(t.fixedMs + 4 * t.layerMs, 9);
      expect(t.tokensPerSecond).toBeCloseTo(1000 / t.stepMs, 9);
      expect(t.rounds).toBeGreaterThanOrEqual(5);
    }
    const choice = chooseByDecodeProbe(p, where);
    expect(choice.backend).toBe(p.cpu.stepMs < p.gpu.stepMs ? 'cpu' : 'webgpu');
    console.log(`decode probe, test model: CPU ${p.cpu.stepMs.toFixed(2)} ms, SwiftShader ${p.gpu.stepMs.toFixed(2)} ms, ${p.wallMs.toFixed(0)} ms in all`);
  }, 60_000);
});

/** The object with some properties replaced; methods stay bound to the original (Dawn's need their own `this`). */
function wrap<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === 'string' && p in overrides) return overrides[p];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** SwiftShader under a hardware adapter's name, so that `auto` takes the measuring path here. */
function posingAsHardware(gpu: GPU): GPU {
  const info = { vendor: 'test', architecture: 'posing-as-hardware', device: 'probe test', description: '' };
  return wrap(gpu, {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const adapter = await gpu.requestAdapter(o);
      return adapter && wrap(adapter, { info, isFallbackAdapter: false });
    },
  });
}

describe('loadLanguageModel under auto on a hardware adapter', () => {
  it('measures both backends, loads the faster and says why with the figures', async () => {
    const source = new MemorySource(makeTestModel({ layers: 3 }).files, 'test model (auto)');
    const gpu = posingAsHardware(await getGpu());
    const { model, decision } = await loadLanguageModel(source, { gpu, spawner: nodeSpawner, threads: 2 });
    try {
      const probe = decision.decodeProbe!;
      expect(probe.numLayers).toBe(3);
      const cpuFaster = probe.cpu.stepMs < probe.gpu.stepMs;
      expect(decision.backend).toBe(cpuFaster ? 'cpu' : 'webgpu');
      expect(model).toBeInstanceOf(cpuFaster ? CpuLlmModel : GpuModel);
      expect(decision.reason).toMatch(
        /^measured here, .*decode ≈ [\d.]+ tok\/s on the CPU vs [\d.]+ on WebGPU \(.* from 2 of 3 layers, BF16, head left out\)$/,
      );
      expect(decision.reason).toContain('test / posing-as-hardware');
      console.log(decision.reason);
    } finally {
      model.destroy();
    }
    const unmeasured = await loadLanguageModel(source, { gpu, spawner: nodeSpawner, threads: 2, measure: false });
    unmeasured.model.destroy();
    expect(unmeasured.decision.decodeProbe).toBeUndefined();
    expect(unmeasured.decision.backend).toBe('webgpu');
    expect(unmeasured.decision.reason).toMatch(/^hardware WebGPU adapter/);
  }, 120_000);
});
