import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { GpuDevice } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { expectedTensors, parseConfig } from './config.ts';
import type { FloatDType } from './dtype.ts';
import { generate } from './generate.ts';
import { readManifest, streamWeights } from './loader.ts';
import { ReferenceModel } from './reference.ts';
import {
  loadSyntheticModel,
  matrixExponent,
  planSyntheticModel,
  presetSpec,
  readBackWeights,
  syntheticBytesPerToken,
  syntheticSource,
  type SyntheticModelSpec,
} from './synthetic-model.ts';
import { SYNTHETIC_PRESETS } from './synthetic-presets.ts';
import { syntheticBits, tensorKey } from './synthetic-weights.ts';
import { LOGIT_TOLERANCE, maxAbs, maxDiff, tempDir } from './test-support.ts';

/** The `tiny` preset: 2 layers, D 64, 4 heads of 16, 2 KV heads, F 128, V 256, untied head. */
const TINY = SYNTHETIC_PRESETS.tiny!.config;
/** Hand count for TINY: per layer q 64·64 + k 32·64 + v 32·64 + o 64·64 + gate, up, down 128·64 each = 36,864; 2 layers + head 256·64 = 90,112 values. */
const TINY_VALUES_PER_TOKEN = 2 * (4096 + 2048 + 2048 + 4096 + 3 * 8192) + 256 * 64;

const spec = (dtype: FloatDType, seed = 7, config: Record<string, unknown> = TINY): SyntheticModelSpec => ({ config, label: 'tiny', dtype, seed });

let device: GpuDevice;
beforeAll(async () => {
  device = await GpuDevice.create(await getGpu());
});
afterAll(() => device?.destroy());

describe('synthetic model: shapes and fit', () => {
  it('bytes per token from the shapes match a hand count and the published models', () => {
    expect(TINY_VALUES_PER_TOKEN).toBe(90_112);
    const c = parseConfig(TINY);
    expect(syntheticBytesPerToken(c, 'BF16')).toBe(2 * 90_112);
    expect(syntheticBytesPerToken(c, 'F32')).toBe(4 * 90_112);
    // What GpuModel counted for real model folders of these shapes on the H100 (docs/benchmarks.md, bf16).
    expect(syntheticBytesPerToken(parseConfig(SYNTHETIC_PRESETS['smollm2-135m']!.config), 'BF16')).toBe(268_959_744);
    expect(syntheticBytesPerToken(parseConfig(SYNTHETIC_PRESETS['qwen2.5-0.5b']!.config), 'BF16')).toBe(987_922_432);
    // Llama-3.1-8B by hand: 32 × (2·4096·4096 + 2·4096·1024 + 3·4096·14336) + 128256·4096 values, 2 bytes each.
    expect(syntheticBytesPerToken(parseConfig(SYNTHETIC_PRESETS['llama-3.1-8b']!.config), 'F16')).toBe(15_009_316_864);
  });

  it('every preset parses; the plan refuses a row over the binding limit and a model over the budget, with typed errors', () => {
    const limits = { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 - 4 };
    for (const name of Object.keys(SYNTHETIC_PRESETS)) {
      const plan = planSyntheticModel(presetSpec(name), limits, { maxTokens: 64, maxContext: 128 });
      expect(plan.weightBytes).toBeGreaterThan(plan.bytesPerToken * 0.9);
      expect(plan.layersFitOneBinding).toBe(true);
    }
    const big = planSyntheticModel(presetSpec('llama-3.1-8b', 'F16'), limits, { maxTokens: 64, maxContext: 128 });
    expect(big.weightBytes).toBeGreaterThan(15e9);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return null;
    };
    const tooWide = err(() =>
      planSyntheticModel(presetSpec('llama-3.1-8b', 'F32'), { maxBufferSize: 8192, maxStorageBufferBindingSize: 8192 }, { maxTokens: 1, maxContext: 8 }),
    );
    expect(tooWide).toBeInstanceOf(GpuError);
    expect((tooWide as GpuError).code).toBe('INSUFFICIENT_LIMITS');
    const tooBig = err(() => planSyntheticModel(presetSpec('llama-3.1-8b', 'F16'), limits, { maxTokens: 64, maxContext: 128, memoryBudgetBytes: 8 * 2 ** 30 }));
    expect((tooBig as GpuError).code).toBe('INSUFFICIENT_MEMORY');
    expect((tooBig as GpuError).details.requiredBytes).toBe(big.totalBytes);
    expect(() => presetSpec('llama-9000')).toThrow(/no synthetic preset/);
  });
});

describe('synthetic source', () => {
  it('Llama-3.1-8B in F16 streams as one valid 15 GB safetensors through the loader, in chunks of at most 8 MiB', async () => {
    const s = presetSpec('llama-3.1-8b', 'F16');
    const source = syntheticSource(s);
    const manifest = await readManifest(source);
    expect(manifest.config.numLayers).toBe(32);
    expect(manifest.isTestModel).toBe(true);
    const plan = planSyntheticModel(s, { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 - 4 }, { maxTokens: 1, maxContext: 8 });
    let largest = 0;
    let bytes = 0;
    const tensors = new Set<string>();
    await streamWeights(source, manifest, {
      data(_file, e) {
        largest = Math.max(largest, e.bytes.byteLength);
        bytes += e.bytes.byteLength;
        tensors.add(e.tensor.name);
      },
    });
    expect(bytes).toBe(plan.weightBytes);
    expect(bytes).toBeGreaterThan(2 ** 32); // offsets past 32 bits
    expect(tensors.size).toBe(expectedTensors(manifest.config).size);
    expect(largest).toBeLessThanOrEqual(8 << 20);
  });
});

describe('synthetic model on the GPU (SwiftShader)', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as FloatDType[]) {
    it(`${dtype}: the fill kernel writes exactly the TypeScript mirror's bits, split into 1 KiB bindings or not`, async () => {
      for (const maxBindingBytes of [undefined, 1024]) {
        const { model } = await loadSyntheticModel(spec(dtype), { device, maxTokens: 4, maxContext: 16, maxBindingBytes });
        try {
          if (maxBindingBytes) expect(model.weightChunks('model.embed_tokens.weight').chunks.length).toBeGreaterThan(1);
          const weights = await readBackWeights(model, device);
          for (const [name, shape] of expectedTensors(model.config)) {
            if (shape.length !== 2) continue;
            const bytes = weights.get(name)!.bytes;
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            const key = tensorKey(7, name);
            const e = matrixExponent(name, shape);
            const n = shape[0] * shape[1];
            let wrong = 0;
            let nonzero = 0;
            for (let i = 0; i < n; i++) {
              const got = dtype === 'F32' ? view.getUint32(4 * i, true) : view.getUint16(2 * i, true);
              if (got !== syntheticBits(dtype, key, i, e)) wrong++;
              if (got !== 0) nonzero++;
            }
            expect(wrong, `${name}`).toBe(0);
            expect(nonzero).toBeGreaterThan(n * 0.95);
          }
        } finally {
          model.destroy();
        }
      }
    });
  }

  it('logits equal the float64 reference on the same weights read back, prefill and fused decode steps (Qwen2 form: biases, tied head; BF16)', async () => {
    const qwen = { ...TINY, model_type: 'qwen2', tie_word_embeddings: true, rms_norm_eps: 1e-6, rope_theta: 1e6 };
    const { model } = await loadSyntheticModel(spec('BF16', 3, qwen), { device, maxTokens: 8, maxContext: 32 });
    try {
      const ref = new ReferenceModel(model.config, await readBackWeights(model, device));
      const prompt = [5, 17, 200, 3, 99, 42];
      const r = await ref.forward({ tokens: prompt, kvCache: ref.createKvCache(), logits: 'all' });
      const g = await model.forward({ tokens: prompt, kvCache: model.createKvCache(), logits: 'all' });
      const scale = Math.max(1, maxAbs(r.logits!));
      expect(maxAbs(r.logits!)).toBeGreaterThan(0.1); // the weights carry signal, not zeros
      expect(maxDiff(g.logits!, r.logits!)).toBeLessThanOrEqual(LOGIT_TOLERANCE * scale);
      // The decode path a real GPU runs (fused GEMVs with RoPE in the q|k|v epilogue), one position at a time.
      model.decodeKernels = 'fused';
      const V = model.config.vocabSize;
      const cache = model.createKvCache();
      await model.forward({ tokens: prompt.slice(0, 4), kvCache: cache, logits: 'none' });
      for (let t = 4; t < prompt.length; t++) {
        const step = await model.forward({ tokens: prompt.slice(t, t + 1), kvCache: cache });
        expect(model.lastDispatches).toBeLessThan(2 * 6 + 4);
        expect(maxDiff(step.logits!, r.logits!.subarray(t * V, (t + 1) * V))).toBeLessThanOrEqual(LOGIT_TOLERANCE * scale);
      }
    } finally {
      model.destroy();
    }
  });

  it('the same seed gives the same greedy tokens (blocks on the GPU); another seed other weights', async () => {
    const tokens: number[][] = [];
    const heads: Uint8Array[] = [];
    for (const seed of [11, 11, 12]) {
      const { model } = await loadSyntheticModel(spec('F16', seed), { device, maxTokens: 8, maxContext: 32 });
      try {
        const run = await generate(model, [1, 2, 3, 4], { maxTokens: 12, eosTokenIds: [], greedyBlock: 4 });
        tokens.push(run.tokens);
        heads.push((await readBackWeights(model, device)).get('lm_head.weight')!.bytes);
      } finally {
        model.destroy();
      }
    }
    expect(tokens[0]!.length).toBe(12);
    expect(tokens[1]).toEqual(tokens[0]);
    expect(new Set(tokens[0]).size).toBeGreaterThan(1);
    expect(Buffer.compare(heads[0]!, heads[1]!)).toBe(0);
    expect(Buffer.compare(heads[0]!, heads[2]!)).not.toBe(0);
  });
});

describe('bench:llm --synthetic', () => {
  it('the CLI runs a config path end to end (finite positive figures, bytes per token from the shapes, progress on stderr), and refuses a bad dtype or a model over --gpu-memory-gib', () => {
    const dir = tempDir('sprintnet-synthetic-');
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(TINY));
    const cli = (...args: string[]) =>
      spawnSync('npx', ['tsx', 'src/llm/bench.ts', '--synthetic', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const run = cli(
      path,
      '--dtype',
      'f32',
      '--json',
      '--prompt-tokens',
      '4',
      '--decode-tokens',
      '3',
      '--decode-kernels',
      'legacy',
      '--no-legacy',
      '--rounds',
      '1',
    );
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.bytes_per_token).toBe(4 * TINY_VALUES_PER_TOKEN);
    expect(r.synthetic.expected_bytes_per_token).toBe(r.bytes_per_token);
    expect(r.synthetic.dtype).toBe('F32');
    for (const v of [
      r.prefill_tokens_per_s,
      r.decode_tokens_per_s,
      r.ttft_ms,
      r.copy_bandwidth_bytes_per_s,
      r.bandwidth_efficiency,
      r.synthetic.step_ms,
      r.synthetic.weights_ms_at_copy_bandwidth,
      r.synthetic.fill_ms,
      r.synthetic.planned_gpu_bytes,
    ]) {
      expect(Number.isFinite(v) && v > 0, String(v)).toBe(true);
    }
    expect(r.bandwidth_efficiency).toBeCloseTo((r.decode_tokens_per_s * r.bytes_per_token) / r.copy_bandwidth_bytes_per_s, 12);
    expect(r.synthetic.dispatches_per_step).toBeGreaterThanOrEqual(2 * 5);
    expect(r.cpu_threads).toBe(0);
    expect(r.peer).toBeUndefined();
    expect(r.test_model).toBe(true);
    expect(run.stderr).toContain('compiling');
    expect(run.stderr).toContain('filled on the GPU');
    const fails = (...args: string[]) => {
      const f = cli(...args);
      expect(f.status).not.toBe(0);
      return f.stderr;
    };
    expect(fails(path, '--dtype', 'f8')).toMatch(/--dtype must be f16, bf16 or f32/);
    expect(fails('llama-3.1-8b', '--gpu-memory-gib', '1')).toMatch(/INSUFFICIENT_MEMORY|over the budget/);
  });
});
