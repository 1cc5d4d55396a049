/**
 * The LLM's measured `auto` choice: the decision from given decode timings (a pure function), and
 * one real probe of the test model's shapes on both backends (SwiftShader stands in for a GPU here).
 */
import { describe, expect, it } from 'vitest';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { chooseByDecodeProbe, probeDecode, type DecodeTiming } from './decode-probe.ts';
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
    const p = await probeDecode(source, manifest, { gpu: await getGpu(), spawner: nodeSpawner, threads: 2, budgetMs: 40 });
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
