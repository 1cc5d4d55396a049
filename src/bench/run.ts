/**
 * One benchmark run, in one process on one adapter: the Sprint engine's nonce throughput, its
 * time to get ready, and two baselines measured right after it (a plain f32 matmul of the FFN
 * shape, and the same forward pass in TensorFlow.js on WebGPU), so that the ratios stay
 * meaningful on a noisy machine where absolute numbers drift from run to run.
 */
import { getConfig, flopsPerNonce, type SprintConfig } from '../sprint/config.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { SprintEngine, type BuildPhase } from '../gpu/transformer.ts';
import { variantName } from '../gpu/shaders/matmul.wgsl.ts';
import { measureMatmulBaseline } from './matmul-baseline.ts';
import { measurePeer } from './tfjs-peer.ts';
import { measureEngineRate, NO_PEERS, timedBuild } from './engine-rate.ts';
import { adapterLabel } from '../gpu/device.ts';

export interface BenchOptions {
  readonly config: string;
  /** Nonces per pass; the engine's own default when absent. */
  readonly batch?: number;
  /** Measuring window per measurement, after warm-up. */
  readonly seconds: number;
  /** Skip the TensorFlow.js peer (peer fields are then null). */
  readonly skipPeer?: boolean;
  /** Progress lines for a human (stderr). */
  readonly log?: (line: string) => void;
  /** webgpu (default) or cpu (src/bench/cpu.ts); auto: the backend the app would choose here. */
  readonly backend?: 'webgpu' | 'cpu' | 'auto';
  /** CPU backend and CPU peer: threads (default: every core). */
  readonly threads?: number;
}

export interface BenchResult {
  /** Which engine was measured: the WebGPU SprintEngine or the CPU backend (src/cpu). */
  backend: 'webgpu' | 'cpu';
  adapter: string;
  /** CPU backend: compute threads (null for webgpu). */
  threads: number | null;
  config: string;
  batch: number;
  nonces_per_s: number;
  /** Spec FLOPs per nonce × nonces/s. */
  gflops: number;
  /** Start → ready to search (device, autotune, weight generation, pipelines). */
  ready_ms: number;
  ready_phases_ms: Record<BuildPhase, number>;
  weight_bytes: number;
  weight_format: string;
  engine_variant: string;
  /** The f16 screen: 'off' (and why, e.g. no shader-f16) or 'f16' with its projected gain (src/gpu/screen-choice.ts). */
  screen_mode: string;
  screen_reason: string;
  matmul_gflops: number;
  matmul_variant: string;
  matmul_shape: { M: number; K: number; N: number };
  efficiency: number;
  /** One pass of `batch` nonces run alone (hash, upload, GPU, readback), median ms. */
  pass_ms: number;
  /** The same pass without the layer steps: inputs with input noise, head, output stage with fingerprint, readback. */
  outside_layers_ms: number;
  /** outside_layers_ms / pass_ms, measured in one run (target ≤ 0.05 on canonical). */
  outside_layers_share: number;
  peer_gflops: number | null;
  peer_nonces_per_s: number | null;
  peer_setup_ms: number | null;
  /** gflops / peer_gflops (target ≥ 3). */
  peer_ratio: number | null;
  /** onnxruntime-web wasm (SIMD, threads = this machine's cores or the CPU backend's), FFN shape, same process. */
  cpu_peer_gflops: number | null;
  cpu_peer_op: string | null;
  /** matmul_gflops / cpu_peer_gflops (CPU backend target ≥ 0.8). */
  cpu_peer_ratio: number | null;
  flops_per_nonce: number;
  measure_seconds: number;
  date: string;
}

export async function runBenchmark(options: BenchOptions): Promise<BenchResult> {
  // The CPU backend has its own runner (src/bench/cpu.ts); `auto` asks what the app would run.
  if (options.backend === 'cpu') return (await import('./cpu.ts')).runCpuBenchmark(options);
  if (options.backend === 'auto') {
    const { decideBackend } = await import('../cpu/backend.ts');
    const decision = await decideBackend('auto', { gpu: await getGpu().catch(() => null), cpuAvailable: true });
    options.log?.(`backend auto: ${decision.backend} (${decision.reason})`);
    return runBenchmark({ ...options, backend: decision.backend });
  }
  const log = options.log ?? (() => {});
  const config: SprintConfig = getConfig(options.config);
  const date = new Date().toISOString();
  const gpu = await getGpu();
  const flops = flopsPerNonce(config);
  const sprintSeed = crypto.getRandomValues(new Uint8Array(32));
  const publicKey = crypto.getRandomValues(new Uint8Array(32));

  log(`building the ${config.name} engine…`);
  // No tuning cache: ready_ms is what a first start on this machine costs.
  const { engine, ready } = await timedBuild(log, (onProgress) => SprintEngine.create({ config, sprintSeed, gpu, batch: options.batch, onProgress }));

  try {
    const rate = await measureEngineRate(engine, publicKey, flops, options.seconds, log);
    const gflops = rate.gflops;

    const shape = { M: engine.batch * config.seqLen, K: config.dModel, N: config.ffnHidden };
    log(`measuring plain f32 matmuls ${shape.M}×${shape.K}·(${shape.N}×${shape.K})ᵀ…`);
    // Workgroup-memory tiling is an order of magnitude slower on CPU adapters: not worth the window there.
    const matmul = await measureMatmulBaseline(
      engine.device,
      shape,
      Math.max(0.3, options.seconds / 4),
      (name) => engine.adapter.isFallback && name.startsWith('wgmem'),
    );
    const adapter = adapterLabel(engine.adapter);
    const result: BenchResult = {
      backend: 'webgpu',
      adapter,
      threads: null,
      config: config.name,
      batch: engine.batch,
      ...rate,
      ...ready,
      weight_bytes: engine.weightBytes,
      weight_format: engine.weightFormat,
      engine_variant: variantName(engine.variant),
      screen_mode: engine.screen.mode,
      screen_reason: engine.screen.reason,
      matmul_gflops: matmul.best.gflops,
      matmul_variant: matmul.best.variant,
      matmul_shape: shape,
      efficiency: gflops / matmul.best.gflops,
      ...NO_PEERS,
      date,
    };
    // The peer needs its own memory (f32 weights): free the engine's first.
    engine.destroy();
    if (!options.skipPeer) {
      log('measuring the TensorFlow.js WebGPU peer (same forward pass, f32 weights)…');
      const peer = await measurePeer(gpu, config, engine.batch, flops, options.seconds, log);
      result.peer_gflops = peer.gflops;
      result.peer_nonces_per_s = peer.nonceRate;
      result.peer_setup_ms = peer.setupMs;
      result.peer_ratio = gflops / peer.gflops;
      // The CPU peer on the same FFN shape (src/cpu/ort-peer.ts): how this GPU compares with wasm SIMD here.
      const { measureOrtMatmul } = await import('../cpu/ort-peer.ts');
      const { availableParallelism } = await import('node:os');
      log('measuring the onnxruntime-web wasm peer on the FFN shape…');
      const cpuPeer = await measureOrtMatmul(shape, options.threads ?? availableParallelism(), Math.max(0.3, options.seconds / 4));
      result.cpu_peer_gflops = cpuPeer.gflops;
      result.cpu_peer_op = `onnxruntime-web ${cpuPeer.version} wasm ${cpuPeer.op}, ${cpuPeer.threads} threads`;
      result.cpu_peer_ratio = matmul.best.gflops / cpuPeer.gflops;
    }
    return result;
  } finally {
    engine.destroy();
  }
}
