/**
 * The measurements the WebGPU (./run.ts) and CPU (./cpu.ts) benchmarks take alike on a built
 * Sprint engine: build-phase times, nonce throughput, and passes alone with and without the layers.
 */
import type { BuildPhase, PassProfile, SprintOptions, SprintResult } from '../gpu/engine-types.ts';
import type { BenchResult } from './run.ts';
import { timeRepeated } from './timing.ts';

/** What both engines offer that the benchmark uses. */
export interface MeasuredEngine {
  readonly batch: number;
  runSprint(options: SprintOptions): Promise<SprintResult>;
  profilePass(publicKey: Uint8Array, options: { passes?: number; outsidePasses?: number }): Promise<PassProfile>;
}

/**
 * Builds an engine and times it: ready_ms from the start to ready, and each build phase's span
 * (first to last progress report; 0 for a phase the engine does not have).
 */
export async function timedBuild<E extends MeasuredEngine>(
  log: (line: string) => void,
  build: (onProgress: (phase: BuildPhase, fraction: number) => void) => Promise<E>,
): Promise<{ engine: E; ready: Pick<BenchResult, 'ready_ms' | 'ready_phases_ms'> }> {
  const phases = phaseTimer(log);
  const started = performance.now();
  const engine = await build(phases.onProgress);
  const readyMs = performance.now() - started;
  log(`engine ready in ${(readyMs / 1000).toFixed(1)} s; measuring nonces/s (batch ${engine.batch})…`);
  const ready_phases_ms = { autotune: phases.ms('autotune'), weights: phases.ms('weights'), compile: phases.ms('compile') };
  return { engine, ready: { ready_ms: readyMs, ready_phases_ms } };
}

/** An engine's onProgress that logs each phase's start and end and keeps its span. */
function phaseTimer(log: (line: string) => void): {
  onProgress: (phase: BuildPhase, fraction: number) => void;
  ms: (phase: BuildPhase) => number;
} {
  const start: Partial<Record<BuildPhase, number>> = {};
  const end: Partial<Record<BuildPhase, number>> = {};
  return {
    onProgress: (phase, fraction) => {
      start[phase] ??= performance.now();
      end[phase] = performance.now();
      if (fraction === 1 || fraction === 0) log(`  ${phase} ${Math.round(fraction * 100)}%`);
    },
    ms: (phase) => (end[phase] ?? 0) - (start[phase] ?? 0),
  };
}

/** The engine's part of a BenchResult; the caller adds the adapter, build and baseline fields. */
export type EngineRate = Pick<
  BenchResult,
  'nonces_per_s' | 'gflops' | 'pass_ms' | 'outside_layers_ms' | 'outside_layers_share' | 'flops_per_nonce' | 'measure_seconds'
>;

/**
 * Nonce throughput of consecutive Sprints over `seconds`, then passes alone with and without the
 * layers, interleaved: about the measuring window, 1 to 5 of each.
 */
export async function measureEngineRate(
  engine: MeasuredEngine,
  publicKey: Uint8Array,
  flopsPerNonce: number,
  seconds: number,
  log: (line: string) => void,
): Promise<EngineRate> {
  let nextNonce = 0;
  const timing = await timeRepeated(async (passes) => {
    const r = await engine.runSprint({ publicKey, startNonce: nextNonce, maxNonces: passes * engine.batch });
    nextNonce = r.nextNonce;
  }, seconds);
  const noncesPerSecond = timing.perSecond * engine.batch;
  const passSeconds = engine.batch / noncesPerSecond;
  const passes = Math.min(5, Math.max(1, Math.round(seconds / 2 / passSeconds)));
  log(`measuring the share outside the layers (${passes} pass${passes > 1 ? 'es' : ''} with and without the layers)…`);
  const profile = await engine.profilePass(publicKey, { passes, outsidePasses: 5 });
  return {
    nonces_per_s: noncesPerSecond,
    gflops: (noncesPerSecond * flopsPerNonce) / 1e9,
    pass_ms: profile.passMs,
    outside_layers_ms: profile.outsideLayersMs,
    outside_layers_share: profile.outsideLayersShare,
    flops_per_nonce: flopsPerNonce,
    measure_seconds: seconds,
  };
}

/** The peer fields before any peer is measured (or when it is skipped). */
export const NO_PEERS = {
  peer_gflops: null,
  peer_nonces_per_s: null,
  peer_setup_ms: null,
  peer_ratio: null,
  cpu_peer_gflops: null,
  cpu_peer_op: null,
  cpu_peer_ratio: null,
} as const satisfies Partial<BenchResult>;
