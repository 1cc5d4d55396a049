/**
 * `npm run bench -- --backend cpu`: the CPU backend's nonce throughput and ready time, its own
 * matmul on the FFN shape, and the onnxruntime-web wasm peer on the same shape with the same thread
 * count, all in this process. The peer runs between two measurements of our matmul, whose mean is
 * reported, so that load drift on a shared machine hits both sides alike. Node only.
 */
import { cpus } from 'node:os';
import { flopsPerNonce, getConfig, type SprintConfig } from '../sprint/config.ts';
import type { BenchOptions, BenchResult } from './run.ts';
import { measureEngineRate, NO_PEERS, timedBuild } from './engine-rate.ts';
import { CpuSprintEngine } from '../cpu/engine.ts';
import { measureOrtMatmul } from '../cpu/ort-peer.ts';
import { measureCpuMatmul } from '../cpu/probe.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';

export async function runCpuBenchmark(options: BenchOptions & { threads?: number }): Promise<BenchResult> {
  const log = options.log ?? (() => {});
  const config: SprintConfig = getConfig(options.config);
  const date = new Date().toISOString();
  const flops = flopsPerNonce(config);
  const threads = options.threads ?? nodeSpawner.cores();
  const sprintSeed = crypto.getRandomValues(new Uint8Array(32));
  const publicKey = crypto.getRandomValues(new Uint8Array(32));

  log(`building the ${config.name} CPU engine (${threads} threads)…`);
  const { engine, ready } = await timedBuild(log, (onProgress) =>
    CpuSprintEngine.create({ config, sprintSeed, threads, batch: options.batch, spawner: nodeSpawner, onProgress }),
  );
  let result: BenchResult;
  try {
    const rate = await measureEngineRate(engine, publicKey, flops, options.seconds, log);
    result = {
      backend: 'cpu',
      adapter: `CPU ${cpus()[0]?.model ?? ''} × ${threads} threads, WebAssembly ${engine.kernels === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'}`.replace(
        /\s+/g,
        ' ',
      ),
      threads,
      config: config.name,
      batch: engine.batch,
      ...rate,
      ...ready,
      weight_bytes: engine.weightBytes,
      weight_format: engine.weightFormat,
      engine_variant: engine.variant,
      screen_mode: 'off',
      screen_reason: 'the CPU backend has no f16 arithmetic to screen with',
      matmul_gflops: 0,
      matmul_variant: engine.variant,
      matmul_shape: { M: engine.batch * config.seqLen, K: config.dModel, N: config.ffnHidden },
      efficiency: 0,
      ...NO_PEERS,
      date,
    };
  } finally {
    engine.destroy();
  }
  const shape = result.matmul_shape;
  const window = Math.max(0.3, options.seconds / 4);
  log(`measuring our matmul ${shape.M}×${shape.K}·(${shape.N}×${shape.K})ᵀ, u8 weights…`);
  const kernels = result.engine_variant.includes('relaxed') ? 'relaxed-simd' : 'simd';
  const ours1 = await measureCpuMatmul(shape, { spawner: nodeSpawner, threads, seconds: window, kernels });
  if (!options.skipPeer) {
    log(`measuring the onnxruntime-web wasm peer on the same shape, ${threads} threads, f32 weights…`);
    const peer = await measureOrtMatmul(shape, threads, window);
    const ours2 = await measureCpuMatmul(shape, { spawner: nodeSpawner, threads, seconds: window, kernels });
    result.matmul_gflops = (ours1.gflops + ours2.gflops) / 2;
    result.cpu_peer_gflops = peer.gflops;
    result.cpu_peer_op = `onnxruntime-web ${peer.version} wasm ${peer.op}`;
    result.cpu_peer_ratio = result.matmul_gflops / peer.gflops;
  } else {
    result.matmul_gflops = ours1.gflops;
  }
  result.efficiency = result.gflops / result.matmul_gflops;
  return result;
}
