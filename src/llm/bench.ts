/**
 * `npm run bench:llm -- --model DIR [--prompt-tokens N] [--decode-tokens N] [--json]`: prefill and
 * decode speed of the WebGPU decoder on a model folder, time to first token, weight bytes read per
 * decoded token, and bandwidth efficiency against a plain copy kernel measured on the same device;
 * then the CPU backend (src/llm/cpu-model.ts) on the same model and prompt, as ratios to WebGPU;
 * then the peer, onnxruntime-web's WebGPU EP on an ONNX export of the same model (bench-peer.ts).
 * Decode is also timed before the GPU-resident greedy blocks and RoPE-in-GEMV changes and with each
 * alone (`decode_pipeline`, `--rounds N` interleaved rounds, best of each), and sampled decode (T 0.7,
 * top-p 0.9) per step on the CPU against GPU-resident sampled blocks (`sampled_decode`); the CPU
 * sampler against its old full sort (`sampler`); `--greedy-block N` sets the
 * main runs' block (0: one step per readback); `--decode-kernels legacy` runs the pre-rewrite kernels
 * throughout (no RoPE fusion there; no legacy comparison then).
 * `--no-cpu` / `--no-peer` skip those; `--peer-dtype float16|float32` (default float16 where the
 * adapter has shader-f16, which onnxruntime-web needs for it).
 * Without --model it writes the default random test model to a temp folder and measures that.
 * `--synthetic <preset | config.json> [--dtype f16|bf16|f32] [--seed N] [--gpu-memory-gib N]` builds
 * a whole model of those shapes with seeded random weights made on the GPU (synthetic-model.ts),
 * so models too big to download or write here (Llama-3.1-8B) run the same measurements; the CPU
 * backend, the probe and the peer need the weights on the host and are skipped then.
 * `--gemv-sweep` times greedy-block decode once per decode GEMV shape (lanes per row × loads in flight
 * per lane, shaders/decode.wgsl.ts GEMV_SHAPES) after the one load, interleaved over `--rounds`,
 * best of each, as ratios to the default shape (`gemv_sweep`; each row also goes to stderr as it is measured).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapterLabel, GpuDevice } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { writeTestModel } from './test-model-files.ts';
import { DEFAULT_GREEDY_BLOCK, generate } from './generate.ts';
import { GpuModel } from './gpu-model.ts';
import { CpuLlmModel } from './cpu-model.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { DirectorySource } from './node-source.ts';
import { benchPeer, type PeerBenchResult } from './bench-peer.ts';
import { chooseByDecodeProbe, probeDecode } from './decode-probe.ts';
import { readManifest } from './loader.ts';
import type { OnnxFloat } from './onnx-llama.ts';
import { loadSyntheticModel, presetSpec, type SyntheticModelSpec } from './synthetic-model.ts';
import { SYNTHETIC_PRESETS } from './synthetic-presets.ts';
import { LlmError } from './errors.ts';
import type { FloatDType } from './dtype.ts';
import { benchSampler, type SamplerBenchRow } from './sampler-bench.ts';
import { DEFAULT_GEMV_SHAPE, GEMV_SHAPES, gemvShapeLabel } from './shaders/decode.wgsl.ts';

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;

/** Bytes moved per second (read + write) by a vec4 copy of `bytes`, best of a few timed rounds. */
export async function copyBandwidth(dev: GpuDevice, bytes: number, seconds = 1): Promise<number> {
  const size = Math.min(bytes, dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize) & ~255;
  const pipeline = await dev.pipeline('llm-bench-copy', () => COPY_WGSL);
  const a = dev.createBuffer('copy-src', size, GPUBufferUsage.STORAGE);
  const b = dev.createBuffer('copy-dst', size, GPUBufferUsage.STORAGE);
  const group = dev.bindGroup(pipeline, [a, b]);
  const groups = Math.ceil(size / 16 / 256);
  const y = Math.ceil(groups / dev.limits.maxComputeWorkgroupsPerDimension);
  const run = async (n: number) => {
    const enc = dev.device.createCommandEncoder();
    for (let i = 0; i < n; i++) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(groups / y), y);
      pass.end();
    }
    dev.queue.submit([enc.finish()]);
    await dev.idle();
  };
  await run(1);
  let best = 0;
  const end = performance.now() + seconds * 1000;
  let n = 1;
  while (performance.now() < end) {
    const t0 = performance.now();
    await run(n);
    const ms = performance.now() - t0;
    best = Math.max(best, (2 * size * n) / (ms / 1000));
    if (ms < 50) n *= 2;
  }
  dev.free(a);
  dev.free(b);
  return best;
}

/** Where a decode step's time goes: dispatches, GPU time with steps queued back to back, readback latency. */
export interface DecodeBreakdown {
  dispatches_per_step: number;
  /** Mean ms per decode step with 16 steps queued without waiting (logits not computed or read). */
  queued_step_ms: number;
  /** Weights a step reads without the head, over copy bandwidth, at the queued step rate. */
  queued_bandwidth_efficiency: number;
  /** CPU ms to encode and submit one step (forward() resolving, GPU work not awaited). */
  encode_ms_per_step: number;
}

async function decodeBreakdown(model: GpuModel, prompt: number[], bandwidth: number): Promise<DecodeBreakdown> {
  const steps = 16;
  const V = model.config.vocabSize;
  const cache = model.createKvCache({ maxContext: prompt.length + steps + 2 });
  try {
    await model.forward({ tokens: prompt, kvCache: cache, logits: 'none' });
    await model.forward({ tokens: [1], kvCache: cache });
    const dispatches = model.lastDispatches;
    await model.idle();
    const t0 = performance.now();
    let encodeMs = 0;
    for (let i = 0; i < steps; i++) {
      const s = performance.now();
      await model.forward({ tokens: [(i * 7919 + 5) % V], kvCache: cache, logits: 'none' });
      encodeMs += performance.now() - s;
    }
    await model.idle();
    const ms = (performance.now() - t0) / steps;
    return {
      dispatches_per_step: dispatches,
      queued_step_ms: ms,
      queued_bandwidth_efficiency: model.bytesPerTokenWithoutHead / (ms / 1000) / bandwidth,
      encode_ms_per_step: encodeMs / steps,
    };
  } finally {
    model.destroyKvCache(cache);
  }
}

/**
 * This change's switches in the same process: dispatch lists rebuilt every pass (reusePlans false)
 * and every step's logits read back and argmaxed on the CPU (pickOnModel false), i.e. the engine
 * at the decode rewrite; new over before.
 */
export interface StepCostComparison {
  before_decode_tokens_per_s: number;
  before_ttft_ms: number;
  before_breakdown: DecodeBreakdown;
  /** Plans reused, logits read back (the pick's share is decode_ratio over this). */
  plans_only_decode_tokens_per_s: number;
  decode_ratio_vs_before: number;
  before_same_tokens: boolean;
}

/** One decode configuration of the pipeline comparison: RoPE in the q|k|v GEMV or not, greedy blocks or one step per readback. */
export interface DecodeVariant {
  rope_in_gemv: boolean;
  /** Greedy steps per block (0: one step, one 4-byte readback). */
  greedy_block: number;
  dispatches_per_step: number;
  decode_tokens_per_s: number;
  /** Over the first variant (6 dispatches a layer, one step per readback). */
  decode_ratio_vs_before: number;
  same_tokens_as_before: boolean;
}

/** The same measurements with the kernels before the decode rewrite (GpuModel.decodeKernels = 'legacy'). */
export interface LegacyComparison {
  legacy_prefill_tokens_per_s: number;
  legacy_ttft_ms: number;
  legacy_decode_tokens_per_s: number;
  legacy_breakdown: DecodeBreakdown;
  /** New over legacy (> 1: the new kernels are faster). */
  decode_ratio_vs_legacy: number;
  prefill_ratio_vs_legacy: number;
  /** Whether both generated the same greedy tokens. */
  legacy_same_tokens: boolean;
}

/** One decode GEMV shape of `--gemv-sweep`: greedy blocks, same process and load, interleaved rounds, best of each. */
export interface GemvSweepRow {
  lanes: number;
  unroll: number;
  decode_tokens_per_s: number;
  bandwidth_efficiency: number;
  /** Over the default shape (lanes 32, unroll 1; > 1: this shape is faster). */
  decode_ratio_vs_default: number;
  /** Unroll changes no bit; 64 lanes split K differently, so a near-tie may pick another token. */
  same_tokens_as_default: boolean;
  /** 16 steps queued back to back, no head, no readback: the GEMVs' own speed without CPU encoding (best of the rounds). */
  queued_step_ms: number;
  queued_bandwidth_efficiency: number;
  /** The shape's first warm-up generation: its pipelines compiled and its plans recorded. */
  warmup_ms: number;
}

export interface LlmBenchResult {
  adapter: string;
  model: string;
  test_model: boolean;
  weight_bytes: number;
  load_ms: number;
  prompt_tokens: number;
  prefill_tokens_per_s: number;
  ttft_ms: number;
  decode_tokens: number;
  decode_tokens_per_s: number;
  bytes_per_token: number;
  copy_bandwidth_bytes_per_s: number;
  bandwidth_efficiency: number;
  breakdown: DecodeBreakdown;
  step_cost: StepCostComparison;
  /** Before (RoPE dispatch, one step per readback), each change alone, both: same process, interleaved, best of each. */
  decode_pipeline: DecodeVariant[];
  /** The device's limit: RoPE moves into the q|k|v GEMV only where it is ≥ 9 (10 with QKV biases). */
  storage_buffers_per_stage: number;
  /** Absent with --no-legacy. */
  legacy?: LegacyComparison;
  /** The CPU backend (src/llm/cpu-model.ts) on the same model and prompt, in the same process. */
  cpu_threads: number;
  cpu_prefill_tokens_per_s: number;
  cpu_decode_tokens_per_s: number;
  /** CPU over WebGPU (> 1: the CPU backend is faster). */
  cpu_prefill_ratio: number;
  cpu_decode_ratio: number;
  /** Whether both backends generated the same greedy tokens. */
  cpu_same_tokens: boolean;
  /** What `auto` would choose here (./decode-probe.ts) beside what the full runs above measured; absent with --no-cpu. */
  auto_probe?: AutoProbeResult;
  /** The peer (absent with --no-peer); ratios are ours over the peer's (> 1: the engine is faster). */
  peer?: PeerBenchResult & { prefill_ratio_vs_peer: number; decode_ratio_vs_peer: number };
  peer_error?: string;
  /** Present for --synthetic models. */
  synthetic?: SyntheticBenchInfo;
  /** Present with --gemv-sweep; the default shape first. */
  gemv_sweep?: GemvSweepRow[];
  /** The CPU sampler (temperature 0.7, top-p 0.9) against the whole-vocabulary sort it replaced (sampler-bench.ts). */
  sampler: SamplerBenchRow[];
  /** Sampled decoding (temperature 0.7, top-p 0.9): logits read back and sampled on the CPU each step, against GPU-resident sampled blocks. */
  sampled_decode: SampledDecodeComparison;
  date: string;
}

/** The synthetic model's build and what a decode step costs against its weights (--synthetic). */
export interface SyntheticBenchInfo {
  label: string;
  /** The Hub repository whose config.json the preset's shapes are from (absent for a config file). */
  source?: string;
  dtype: FloatDType;
  seed: number;
  /** From the shapes alone (synthetic-model.ts syntheticBytesPerToken); equals bytes_per_token. */
  expected_bytes_per_token: number;
  /** Weights, one KV cache and activations, as planned before allocating. */
  planned_gpu_bytes: number;
  /** GpuModel.load (weights allocated with zeros streamed, kernels compiled) and the GPU fill. */
  load_compile_ms: number;
  fill_ms: number;
  /** The main runs' decode step (RoPE in the q|k|v GEMV, greedy blocks): embedding, layers, head, pick. */
  dispatches_per_step: number;
  /** bytes_per_token at copy bandwidth: the step time a bandwidth efficiency of 1 would mean. */
  weights_ms_at_copy_bandwidth: number;
  step_ms: number;
}

export interface SampledDecodeComparison {
  temperature: number;
  top_p: number;
  greedy_block: number;
  per_step_decode_tokens_per_s: number;
  blocks_decode_tokens_per_s: number;
  /** blocks over per-step (> 1: the blocks are faster). */
  decode_ratio: number;
  /** Both runs drew the same tokens (they use the same per-token uniform; f32 vs f64 may flip a pick at a boundary). */
  same_tokens: boolean;
}

export interface AutoProbeResult {
  auto_choice: 'cpu' | 'webgpu';
  /** The faster backend by the full decode runs above (cpu_decode_ratio > 1: cpu). */
  measured_faster: 'cpu' | 'webgpu';
  agrees: boolean;
  probe_cpu_step_ms: number;
  probe_gpu_step_ms: number;
  /** Probe's estimates (head left out) beside the runs' decode tokens/s. */
  probe_cpu_tokens_per_s: number;
  probe_gpu_tokens_per_s: number;
  probe_layers: number;
  probe_wall_ms: number;
  /** Of probe_wall_ms: synthetic layers written, loaded on WebGPU, loaded on the CPU (the rest is timing). */
  probe_synthesize_ms: number;
  probe_gpu_load_ms: number;
  probe_cpu_load_ms: number;
  reason: string;
}

export interface LlmBenchOptions {
  readonly cpu?: boolean;
  readonly peer?: boolean;
  readonly peerDtype?: OnnxFloat;
  /** Also time the pre-rewrite kernels in the same process (default true). */
  readonly legacy?: boolean;
  /** onnxruntime-web's .wasm folder when bundled away from node_modules. */
  readonly ortWasmPaths?: string;
  /** Greedy steps per block in the main runs (generate's default when absent; 0: one step per readback). */
  readonly greedyBlock?: number;
  /** Kernels the runs use (default 'fused', whatever the adapter's default; 'legacy' shows the blocks' effect on cheap dispatches, e.g. on SwiftShader). */
  readonly decodeKernels?: 'fused' | 'legacy';
  /** Interleaved rounds of the decode pipeline comparison (best of each; default 2). */
  readonly rounds?: number;
  /** GPU memory the synthetic model may take (checked before allocating; WebGPU does not report the device's size). */
  readonly memoryBudgetBytes?: number;
  /** Progress lines while a synthetic model is built, and the GEMV sweep's rows (e.g. to stderr). */
  readonly onStage?: (message: string) => void;
  /** Time decode once per decode GEMV shape (GEMV_SHAPES) in this process (`gemv_sweep`). */
  readonly gemvSweep?: boolean;
}

/** Best-of-3 prefill (ms) and a greedy run of `decodeTokens`, after a warm-up. */
async function timeModel(model: GpuModel | CpuLlmModel, prompt: number[], decodeTokens: number, pickOnModel = true, greedyBlock?: number) {
  const lm = model as GpuModel;
  // The warm-up runs two blocks where the budget allows, so the block plan and its pipelines exist before timing.
  await generate(lm, prompt, {
    maxTokens: Math.max(3, Math.min(decodeTokens, 2 * (greedyBlock || DEFAULT_GREEDY_BLOCK) + 1)),
    eosTokenIds: [],
    pickOnModel,
    greedyBlock,
  });
  const prefillRuns: number[] = [];
  for (let r = 0; r < 3; r++) {
    const cache = lm.createKvCache({ maxContext: prompt.length });
    const s = performance.now();
    await lm.forward({ tokens: prompt, kvCache: cache });
    prefillRuns.push(performance.now() - s);
    lm.destroyKvCache(cache);
  }
  return { prefillMs: Math.min(...prefillRuns), run: await generate(lm, prompt, { maxTokens: decodeTokens, eosTokenIds: [], pickOnModel, greedyBlock }) };
}

/**
 * Decode before this change (RoPE as its own dispatch, one step per readback) and with each change
 * alone and both, interleaved over two rounds, best of each; dispatches are the decode step's
 * (embedding, layers, head, pick).
 */
async function decodePipeline(model: GpuModel, prompt: number[], decodeTokens: number, block: number, rounds: number): Promise<DecodeVariant[]> {
  const variants = [
    { rope: false, block: 0 },
    { rope: false, block },
    { rope: true, block: 0 },
    { rope: true, block },
  ];
  const runs: { tokensPerSecond: number; tokens: number[]; dispatches: number }[] = variants.map(() => ({ tokensPerSecond: 0, tokens: [], dispatches: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) {
      model.ropeInGemv = v.rope;
      const { run } = await timeModel(model, prompt, decodeTokens, true, v.block);
      const best = runs[i]!;
      if (run.decodeTokensPerSecond > best.tokensPerSecond)
        runs[i] = { tokensPerSecond: run.decodeTokensPerSecond, tokens: run.tokens, dispatches: model.lastDispatches };
    }
  }
  model.ropeInGemv = true;
  const before = runs[0]!;
  return variants.map((v, i) => ({
    rope_in_gemv: v.rope,
    greedy_block: v.block,
    dispatches_per_step: runs[i]!.dispatches,
    decode_tokens_per_s: runs[i]!.tokensPerSecond,
    decode_ratio_vs_before: runs[i]!.tokensPerSecond / before.tokensPerSecond,
    same_tokens_as_before: runs[i]!.tokens.join() === before.tokens.join(),
  }));
}

/**
 * Greedy-block decode with each decode GEMV shape after the one load: a warm-up generation per shape
 * (compiles its pipelines, records its plans), then rounds over all shapes in turn (a slow window
 * hits every shape alike), best of each. The queued-step figure leaves out the head, the CPU's
 * encoding and readbacks, so it tracks the GEMVs' streaming most closely.
 */
async function gemvSweep(
  model: GpuModel,
  prompt: number[],
  decodeTokens: number,
  block: number,
  rounds: number,
  bandwidth: number,
  onStage: (line: string) => void,
): Promise<GemvSweepRow[]> {
  const best = GEMV_SHAPES.map(() => ({ tokensPerSecond: 0, tokens: [] as number[], queuedMs: Infinity, warmupMs: 0 }));
  const warmUp = { maxTokens: Math.max(3, Math.min(decodeTokens, 2 * block + 1)), eosTokenIds: [] as number[], greedyBlock: block };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, shape] of GEMV_SHAPES.entries()) {
        model.decodeGemv = shape;
        const b = best[i]!;
        if (round === 0) {
          const t0 = performance.now();
          await generate(model, prompt, warmUp);
          b.warmupMs = performance.now() - t0;
        }
        const run = await generate(model, prompt, { maxTokens: decodeTokens, eosTokenIds: [], greedyBlock: block });
        if (run.decodeTokensPerSecond > b.tokensPerSecond) Object.assign(b, { tokensPerSecond: run.decodeTokensPerSecond, tokens: run.tokens });
        b.queuedMs = Math.min(b.queuedMs, (await decodeBreakdown(model, prompt, bandwidth)).queued_step_ms);
        onStage(
          `gemv sweep round ${round + 1}/${rounds} ${gemvShapeLabel(shape)}: ${run.decodeTokensPerSecond.toFixed(2)} tokens/s, queued step ${b.queuedMs.toFixed(3)} ms`,
        );
      }
    }
  } finally {
    model.decodeGemv = DEFAULT_GEMV_SHAPE;
  }
  const base = best[0]!;
  return GEMV_SHAPES.map((shape, i) => {
    const b = best[i]!;
    return {
      lanes: shape.lanes,
      unroll: shape.unroll,
      decode_tokens_per_s: b.tokensPerSecond,
      bandwidth_efficiency: (b.tokensPerSecond * model.bytesPerToken) / bandwidth,
      decode_ratio_vs_default: b.tokensPerSecond / base.tokensPerSecond,
      same_tokens_as_default: b.tokens.join() === base.tokens.join(),
      queued_step_ms: b.queuedMs,
      queued_bandwidth_efficiency: model.bytesPerTokenWithoutHead / (b.queuedMs / 1000) / bandwidth,
      warmup_ms: b.warmupMs,
    };
  });
}

/** Per-step sampled decode (CPU sampler) and sampled blocks, interleaved rounds, best of each. */
async function sampledDecode(model: GpuModel, prompt: number[], decodeTokens: number, block: number, rounds: number): Promise<SampledDecodeComparison> {
  const o = { temperature: 0.7, topP: 0.9, seed: 1, eosTokenIds: [] as number[], greedyBlock: block };
  // Warm-up: compiles the sampler and the block plan.
  await generate(model, prompt, { ...o, maxTokens: Math.max(3, Math.min(decodeTokens, 2 * block + 1)) });
  let perStep = { decodeTokensPerSecond: 0, tokens: [] as number[] };
  let blocks = perStep;
  for (let round = 0; round < rounds; round++) {
    const p = await generate(model, prompt, { ...o, maxTokens: decodeTokens, pickOnModel: false });
    if (p.decodeTokensPerSecond > perStep.decodeTokensPerSecond) perStep = p;
    const b = await generate(model, prompt, { ...o, maxTokens: decodeTokens });
    if (b.decodeTokensPerSecond > blocks.decodeTokensPerSecond) blocks = b;
  }
  return {
    temperature: o.temperature,
    top_p: o.topP,
    greedy_block: block,
    per_step_decode_tokens_per_s: perStep.decodeTokensPerSecond,
    blocks_decode_tokens_per_s: blocks.decodeTokensPerSecond,
    decode_ratio: blocks.decodeTokensPerSecond / perStep.decodeTokensPerSecond,
    same_tokens: perStep.tokens.join() === blocks.tokens.join(),
  };
}

/** A model folder, or a synthetic model's shapes (weights made on the GPU; no CPU backend, probe or peer then). */
export async function benchLlm(
  target: string | SyntheticModelSpec,
  promptTokens = 64,
  decodeTokens = 32,
  options: LlmBenchOptions = {},
): Promise<LlmBenchResult> {
  if (options.gemvSweep && options.decodeKernels === 'legacy')
    throw new LlmError('BAD_ARGUMENT', '--gemv-sweep times the fused decode GEMVs, which --decode-kernels legacy does not run');
  const dev = await GpuDevice.create(await getGpu(), { memoryBudgetBytes: options.memoryBudgetBytes });
  try {
    const t0 = performance.now();
    // Room for the breakdown's queued steps too.
    const shape = { device: dev, maxTokens: Math.max(promptTokens, 1), maxContext: promptTokens + Math.max(decodeTokens, 18) + 8 };
    const synthetic = typeof target === 'string' ? null : await loadSyntheticModel(target, { ...shape, onStage: options.onStage });
    const dir = typeof target === 'string' ? target : '';
    const model = synthetic?.model ?? (await GpuModel.load(new DirectorySource(dir), shape));
    const loadMs = performance.now() - t0;
    const kernels = options.decodeKernels ?? 'fused';
    model.decodeKernels = kernels; // fused by default wherever, CPU adapters included (their default is 'legacy')
    const V = model.config.vocabSize;
    const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % V);
    // Warm-up (compiles every pipeline both shapes use), then prefill: one forward over the prompt.
    const block = options.greedyBlock ?? DEFAULT_GREEDY_BLOCK;
    let { prefillMs, run } = await timeModel(model, prompt, decodeTokens, true, block);
    const bandwidth = await copyBandwidth(dev, Math.max(64 << 20, Math.min(model.bytesPerToken, 256 << 20)));
    const breakdown = await decodeBreakdown(model, prompt, bandwidth);
    let sweep: GemvSweepRow[] | undefined;
    if (options.gemvSweep) {
      const onStage = options.onStage ?? (() => {});
      sweep = await gemvSweep(model, prompt, decodeTokens, block || DEFAULT_GREEDY_BLOCK, options.rounds ?? 2, bandwidth, onStage);
      // Written now too, so a run stopped later (DEVICE_TIMEOUT) still reports the sweep.
      onStage(`gemv_sweep ${JSON.stringify(sweep)}`);
    }
    // Before this change (plans rebuilt, logits read back), plans alone, now: interleaved, best of two each.
    const best = (a: Awaited<ReturnType<typeof timeModel>>['run'] | null, b: Awaited<ReturnType<typeof timeModel>>['run']) =>
      a && a.decodeTokensPerSecond >= b.decodeTokensPerSecond ? a : b;
    let before = null as Awaited<ReturnType<typeof timeModel>>['run'] | null;
    let plansOnly = null as Awaited<ReturnType<typeof timeModel>>['run'] | null;
    for (let round = 0; round < 2; round++) {
      // As the engine was then: RoPE as its own dispatch too.
      model.ropeInGemv = false;
      model.reusePlans = false;
      before = best(before, (await timeModel(model, prompt, decodeTokens, false)).run);
      model.reusePlans = true;
      plansOnly = best(plansOnly, (await timeModel(model, prompt, decodeTokens, false)).run);
      model.ropeInGemv = true;
      const n = await timeModel(model, prompt, decodeTokens, true, block);
      prefillMs = Math.min(prefillMs, n.prefillMs);
      run = best(run, n.run);
    }
    model.reusePlans = false;
    model.ropeInGemv = false;
    const beforeBreakdown = await decodeBreakdown(model, prompt, bandwidth);
    model.ropeInGemv = true;
    model.reusePlans = true;
    const pipeline = await decodePipeline(model, prompt, decodeTokens, block || DEFAULT_GREEDY_BLOCK, options.rounds ?? 2);
    const sampled = await sampledDecode(model, prompt, decodeTokens, block || DEFAULT_GREEDY_BLOCK, options.rounds ?? 2);
    const stepCost: StepCostComparison = {
      before_decode_tokens_per_s: before!.decodeTokensPerSecond,
      before_ttft_ms: before!.timeToFirstTokenMs,
      before_breakdown: beforeBreakdown,
      plans_only_decode_tokens_per_s: plansOnly!.decodeTokensPerSecond,
      decode_ratio_vs_before: run.decodeTokensPerSecond / before!.decodeTokensPerSecond,
      before_same_tokens: before!.tokens.join() === run.tokens.join(),
    };
    let legacy: LegacyComparison | undefined;
    if (options.legacy !== false && kernels === 'fused') {
      // Interleaved rounds (new, legacy, new, legacy), best of each: one slow window cannot decide the ratio.
      let old = { prefillMs: Infinity, run: run };
      for (let round = 0; round < 2; round++) {
        model.decodeKernels = 'legacy';
        const o = await timeModel(model, prompt, decodeTokens, true, block);
        if (round === 0 || o.run.decodeTokensPerSecond > old.run.decodeTokensPerSecond) old = { prefillMs: Math.min(old.prefillMs, o.prefillMs), run: o.run };
        else old.prefillMs = Math.min(old.prefillMs, o.prefillMs);
        model.decodeKernels = 'fused';
        if (round === 0) {
          const n = await timeModel(model, prompt, decodeTokens, true, block);
          prefillMs = Math.min(prefillMs, n.prefillMs);
          if (n.run.decodeTokensPerSecond > run.decodeTokensPerSecond) run = n.run;
        }
      }
      model.decodeKernels = 'legacy';
      const oldBreakdown = await decodeBreakdown(model, prompt, bandwidth);
      model.decodeKernels = 'fused';
      legacy = {
        legacy_prefill_tokens_per_s: (promptTokens / old.prefillMs) * 1000,
        legacy_ttft_ms: old.run.timeToFirstTokenMs,
        legacy_decode_tokens_per_s: old.run.decodeTokensPerSecond,
        legacy_breakdown: oldBreakdown,
        decode_ratio_vs_legacy: run.decodeTokensPerSecond / old.run.decodeTokensPerSecond,
        prefill_ratio_vs_legacy: old.prefillMs / prefillMs,
        legacy_same_tokens: old.run.tokens.join() === run.tokens.join(),
      };
    }
    const logitsCache = model.createKvCache({ maxContext: prompt.length });
    const lastLogits = (await model.forward({ tokens: prompt, kvCache: logitsCache })).logits!;
    model.destroyKvCache(logitsCache);
    let cpu = { prefillMs: NaN, run: { decodeTokensPerSecond: NaN, tokens: [] as number[] } };
    let cpuThreads = '';
    let autoProbe: AutoProbeResult | undefined;
    if (options.cpu !== false && !synthetic) {
      const cpuModel = await CpuLlmModel.load(new DirectorySource(dir), {
        spawner: nodeSpawner,
        maxTokens: Math.max(promptTokens, 1),
        maxContext: promptTokens + decodeTokens + 8,
      });
      cpu = await timeModel(cpuModel, prompt, decodeTokens);
      cpuThreads = cpuModel.description;
      cpuModel.destroy();
      const source = new DirectorySource(dir);
      const probe = await probeDecode(await readManifest(source), { gpu: await getGpu(), spawner: nodeSpawner });
      const choice = chooseByDecodeProbe(probe, { cpu: cpuThreads, gpu: adapterLabel(dev.adapter) });
      const measuredFaster = cpu.run.decodeTokensPerSecond > run.decodeTokensPerSecond ? 'cpu' : 'webgpu';
      autoProbe = {
        auto_choice: choice.backend,
        measured_faster: measuredFaster,
        agrees: choice.backend === measuredFaster,
        probe_cpu_step_ms: probe.cpu.stepMs,
        probe_gpu_step_ms: probe.gpu.stepMs,
        probe_cpu_tokens_per_s: probe.cpu.tokensPerSecond,
        probe_gpu_tokens_per_s: probe.gpu.tokensPerSecond,
        probe_layers: probe.layers,
        probe_wall_ms: probe.wallMs,
        probe_synthesize_ms: probe.synthesizeMs,
        probe_gpu_load_ms: probe.gpuLoadMs,
        probe_cpu_load_ms: probe.cpuLoadMs,
        reason: choice.reason,
      };
    }
    const result: LlmBenchResult = {
      adapter: adapterLabel(dev.adapter),
      model: synthetic ? `synthetic ${(target as SyntheticModelSpec).label}` : dir,
      test_model: model.isTestModel,
      weight_bytes: model.weightBytes,
      load_ms: loadMs,
      prompt_tokens: promptTokens,
      prefill_tokens_per_s: (promptTokens / prefillMs) * 1000,
      ttft_ms: run.timeToFirstTokenMs,
      decode_tokens: run.tokens.length,
      decode_tokens_per_s: run.decodeTokensPerSecond,
      bytes_per_token: model.bytesPerToken,
      copy_bandwidth_bytes_per_s: bandwidth,
      bandwidth_efficiency: (run.decodeTokensPerSecond * model.bytesPerToken) / bandwidth,
      breakdown,
      step_cost: stepCost,
      decode_pipeline: pipeline,
      storage_buffers_per_stage: dev.limits.maxStorageBuffersPerShaderStage,
      legacy,
      cpu_threads: Number(/(\d+) thread/.exec(cpuThreads)?.[1] ?? 0),
      cpu_prefill_tokens_per_s: (promptTokens / cpu.prefillMs) * 1000,
      cpu_decode_tokens_per_s: cpu.run.decodeTokensPerSecond,
      cpu_prefill_ratio: prefillMs / cpu.prefillMs,
      cpu_decode_ratio: cpu.run.decodeTokensPerSecond / run.decodeTokensPerSecond,
      cpu_same_tokens: cpu.run.tokens.join() === run.tokens.join(),
      auto_probe: autoProbe,
      sampler: benchSampler(),
      sampled_decode: sampled,
      gemv_sweep: sweep,
      date: new Date().toISOString(),
    };
    if (synthetic) {
      const spec = target as SyntheticModelSpec;
      const main = pipeline.find((v) => v.rope_in_gemv && v.greedy_block > 0);
      result.synthetic = {
        label: spec.label,
        source: SYNTHETIC_PRESETS[spec.label]?.config === spec.config ? SYNTHETIC_PRESETS[spec.label]!.source : undefined,
        dtype: spec.dtype,
        seed: spec.seed,
        expected_bytes_per_token: synthetic.plan.bytesPerToken,
        planned_gpu_bytes: synthetic.plan.totalBytes,
        load_compile_ms: synthetic.loadMs,
        fill_ms: synthetic.fillMs,
        dispatches_per_step: main?.dispatches_per_step ?? breakdown.dispatches_per_step,
        weights_ms_at_copy_bandwidth: (model.bytesPerToken / bandwidth) * 1000,
        step_ms: 1000 / run.decodeTokensPerSecond,
      };
    }
    model.destroy();
    if (options.peer !== false && !synthetic) {
      const dtype = options.peerDtype ?? (dev.hasShaderF16 ? 'float16' : 'float32');
      try {
        const p = await benchPeer(dir, prompt, decodeTokens, { lastLogits, tokens: run.tokens }, dtype, options.ortWasmPaths);
        result.peer = {
          ...p,
          prefill_ratio_vs_peer: result.prefill_tokens_per_s / p.peer_prefill_tokens_per_s,
          decode_ratio_vs_peer: result.decode_tokens_per_s / p.peer_decode_tokens_per_s,
        };
      } catch (e) {
        result.peer_error = (e as Error).message;
      }
    }
    return result;
  } finally {
    dev.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'prompt-tokens': { type: 'string', default: '64' },
      'decode-tokens': { type: 'string', default: '32' },
      json: { type: 'boolean', default: false },
      'no-cpu': { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      'no-legacy': { type: 'boolean', default: false },
      'peer-dtype': { type: 'string' },
      'ort-wasm-paths': { type: 'string' },
      'greedy-block': { type: 'string' },
      'decode-kernels': { type: 'string' },
      rounds: { type: 'string' },
      synthetic: { type: 'string' },
      dtype: { type: 'string', default: 'bf16' },
      seed: { type: 'string', default: '1' },
      'gpu-memory-gib': { type: 'string' },
      'gemv-sweep': { type: 'boolean', default: false },
    },
  });
  const peerDtype = values['peer-dtype'];
  if (peerDtype !== undefined && peerDtype !== 'float16' && peerDtype !== 'float32')
    throw new Error(`--peer-dtype must be float16 or float32, got ${peerDtype}`);
  const kernels = values['decode-kernels'];
  if (kernels !== undefined && kernels !== 'fused' && kernels !== 'legacy') throw new Error(`--decode-kernels must be fused or legacy, got ${kernels}`);
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  let target: string | SyntheticModelSpec | undefined = values.model;
  if (values.synthetic !== undefined) {
    if (target !== undefined) throw new LlmError('BAD_ARGUMENT', '--model and --synthetic exclude each other');
    target = syntheticTarget(values.synthetic, values.dtype, values.seed);
  }
  if (target === undefined) {
    target = join(mkdtempSync(join(tmpdir(), 'sprintnet-bench-llm-')), 'test-model');
    writeTestModel(target, {});
  }
  const gib = values['gpu-memory-gib'] === undefined ? undefined : Number(values['gpu-memory-gib']);
  if (gib !== undefined && !(gib > 0)) throw new LlmError('BAD_ARGUMENT', `--gpu-memory-gib must be a positive number, got ${values['gpu-memory-gib']}`);
  const r = await benchLlm(target, Number(values['prompt-tokens']), Number(values['decode-tokens']), {
    memoryBudgetBytes: gib === undefined ? undefined : gib * 2 ** 30,
    onStage: (line) => process.stderr.write(`${line}\n`),
    cpu: !values['no-cpu'],
    peer: !values['no-peer'],
    peerDtype,
    ortWasmPaths: values['ort-wasm-paths'],
    legacy: !values['no-legacy'],
    greedyBlock: values['greedy-block'] === undefined ? undefined : Number(values['greedy-block']),
    decodeKernels: kernels,
    rounds,
    gemvSweep: values['gemv-sweep'],
  });
  if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const rows: [string, string][] = [
      ['adapter', r.adapter],
      ['model', `${r.model}${r.test_model ? ' (random test model)' : ''}, ${(r.weight_bytes / 2 ** 20).toFixed(1)} MiB`],
      ['prefill', `${r.prefill_tokens_per_s.toFixed(1)} tokens/s (${r.prompt_tokens} tokens)`],
      ['time to first token', `${r.ttft_ms.toFixed(1)} ms`],
      ['decode (batch 1)', `${r.decode_tokens_per_s.toFixed(1)} tokens/s`],
      ['weights read per token', `${(r.bytes_per_token / 2 ** 20).toFixed(2)} MiB`],
      ['copy-kernel bandwidth', `${(r.copy_bandwidth_bytes_per_s / 1e9).toFixed(2)} GB/s`],
      ['bandwidth efficiency', r.bandwidth_efficiency.toFixed(3)],
      [
        'decode step',
        `${r.breakdown.dispatches_per_step} dispatches; ${r.breakdown.queued_step_ms.toFixed(3)} ms queued back to back without the head (efficiency ${r.breakdown.queued_bandwidth_efficiency.toFixed(3)}); ${r.breakdown.encode_ms_per_step.toFixed(3)} ms CPU encode`,
      ],
      [
        'before (plans rebuilt, logits read back)',
        `decode ${r.step_cost.before_decode_tokens_per_s.toFixed(1)} tokens/s (plans alone ${r.step_cost.plans_only_decode_tokens_per_s.toFixed(1)}), ${r.step_cost.before_breakdown.queued_step_ms.toFixed(3)} ms queued, ${r.step_cost.before_breakdown.encode_ms_per_step.toFixed(3)} ms CPU encode; now ÷ before ${r.step_cost.decode_ratio_vs_before.toFixed(2)}x (same tokens: ${r.step_cost.before_same_tokens})`,
      ],
      ...r.decode_pipeline.map((v): [string, string] => [
        `decode ${v.rope_in_gemv ? 'RoPE in GEMV' : 'RoPE apart'}, ${v.greedy_block ? `blocks of ${v.greedy_block}` : 'per step'}`,
        `${v.decode_tokens_per_s.toFixed(1)} tokens/s, ${v.dispatches_per_step} dispatches/step, ${v.decode_ratio_vs_before.toFixed(2)}x before (same tokens: ${v.same_tokens_as_before})`,
      ]),
      ['CPU backend prefill', `${r.cpu_prefill_tokens_per_s.toFixed(1)} tokens/s (${r.cpu_prefill_ratio.toFixed(1)}x WebGPU, ${r.cpu_threads} threads)`],
      ['CPU backend decode', `${r.cpu_decode_tokens_per_s.toFixed(1)} tokens/s (${r.cpu_decode_ratio.toFixed(1)}x WebGPU; same tokens: ${r.cpu_same_tokens})`],
    ];
    if (r.synthetic) {
      const y = r.synthetic;
      rows.splice(2, 0, [
        'synthetic model',
        `${y.label}${y.source ? ` (shapes of ${y.source})` : ''}, ${y.dtype}, seed ${y.seed}; built in ${(y.load_compile_ms / 1000).toFixed(1)} s + ${(y.fill_ms / 1000).toFixed(2)} s GPU fill; CPU backend, probe and peer not run (weights exist only on the GPU)`,
      ]);
      rows.push([
        'decode step vs weights',
        `${y.step_ms.toFixed(3)} ms a token, ${y.dispatches_per_step} dispatches; the weights alone at copy bandwidth ${y.weights_ms_at_copy_bandwidth.toFixed(3)} ms`,
      ]);
    }
    if (Number.isNaN(r.cpu_prefill_tokens_per_s))
      rows.splice(
        rows.findIndex(([k]) => k === 'CPU backend prefill'),
        2,
      );
    if (r.auto_probe) {
      const a = r.auto_probe;
      rows.push([
        'auto choice (probe)',
        `${a.auto_choice}: CPU ${a.probe_cpu_tokens_per_s.toFixed(1)} vs WebGPU ${a.probe_gpu_tokens_per_s.toFixed(1)} tokens/s estimated from ${a.probe_layers} layers in ${a.probe_wall_ms.toFixed(0)} ms; the full runs favour ${a.measured_faster} (agrees: ${a.agrees})`,
      ]);
    }
    if (r.legacy) {
      const o = r.legacy;
      rows.push([
        'legacy kernels',
        `prefill ${o.legacy_prefill_tokens_per_s.toFixed(1)} tokens/s, decode ${o.legacy_decode_tokens_per_s.toFixed(1)} tokens/s, ${o.legacy_breakdown.dispatches_per_step} dispatches, ${o.legacy_breakdown.queued_step_ms.toFixed(3)} ms queued`,
      ]);
      rows.push([
        'new ÷ legacy',
        `decode ${o.decode_ratio_vs_legacy.toFixed(2)}x, prefill ${o.prefill_ratio_vs_legacy.toFixed(2)}x (same tokens: ${o.legacy_same_tokens})`,
      ]);
    }
    if (r.peer) {
      rows.push([`peer`, r.peer.peer]);
      rows.push(['peer prefill', `${r.peer.peer_prefill_tokens_per_s.toFixed(1)} tokens/s (engine ${r.peer.prefill_ratio_vs_peer.toFixed(2)}x)`]);
      rows.push(['peer decode', `${r.peer.peer_decode_tokens_per_s.toFixed(1)} tokens/s (engine ${r.peer.decode_ratio_vs_peer.toFixed(2)}x)`]);
      rows.push(['peer vs engine', `logits rel. diff ${r.peer.peer_logit_rel_diff.toExponential(1)}, same first ${r.peer.peer_same_tokens} tokens`]);
    } else if (r.peer_error) rows.push(['peer', `failed: ${r.peer_error}`]);
    const sd = r.sampled_decode;
    rows.push([
      'sampled decode',
      `blocks of ${sd.greedy_block} ${sd.blocks_decode_tokens_per_s.toFixed(1)} tokens/s vs per step ${sd.per_step_decode_tokens_per_s.toFixed(1)} tokens/s (${sd.decode_ratio.toFixed(2)}x; same tokens: ${sd.same_tokens})`,
    ]);
    for (const g of r.gemv_sweep ?? [])
      rows.push([
        `GEMV lanes ${g.lanes} unroll ${g.unroll}`,
        `${g.decode_tokens_per_s.toFixed(1)} tokens/s, efficiency ${g.bandwidth_efficiency.toFixed(3)} (queued ${g.queued_bandwidth_efficiency.toFixed(3)}), ${g.decode_ratio_vs_default.toFixed(2)}x default (same tokens: ${g.same_tokens_as_default})`,
      ]);
    for (const x of r.sampler)
      rows.push([
        `sampler V=${x.vocab}`,
        `${x.new_ms.toFixed(2)} ms a pick vs ${x.old_ms.toFixed(2)} ms sorting the vocabulary (${x.ratio.toFixed(1)}x; same tokens: ${x.same_tokens})`,
      ]);
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(24)} ${v}\n`);
  }
}

/** `--synthetic` and `--dtype` / `--seed` as a spec: a preset's name, or a config.json's path. */
function syntheticTarget(what: string, dtypeArg: string, seedArg: string): SyntheticModelSpec {
  const dtypes: Record<string, FloatDType> = { f16: 'F16', bf16: 'BF16', f32: 'F32' };
  const dtype = dtypes[dtypeArg.toLowerCase()];
  if (!dtype) throw new LlmError('BAD_ARGUMENT', `--dtype must be f16, bf16 or f32, got ${dtypeArg}`);
  const seed = Number(seedArg);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new LlmError('BAD_ARGUMENT', `--seed must be an integer in [0, 2^32), got ${seedArg}`);
  if (SYNTHETIC_PRESETS[what]) return presetSpec(what, dtype, seed);
  if (!what.endsWith('.json'))
    throw new LlmError('BAD_ARGUMENT', `--synthetic takes a preset (${Object.keys(SYNTHETIC_PRESETS).join(', ')}) or a config.json path, got ${what}`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(what, 'utf8'));
  } catch (cause) {
    throw new LlmError('BAD_CONFIG', `${what}: cannot read a JSON config (${String(cause)})`, { cause });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new LlmError('BAD_CONFIG', `${what}: not a JSON object`);
  return { config: config as Record<string, unknown>, label: what, dtype, seed };
}
