/**
 * The protocol's `ProtocolEngine` over the real engines: one engine per Sprint seed (the weights
 * belong to one seed), built on demand and kept for validation in the same epoch. `enginePerSeed`
 * wraps anything with the SprintEngine surface (the WebGPU engine in Node, the CPU/WASM engine, or
 * the browser's Worker client); `referenceEngine` is the CPU reference, the fallback validators use
 * when no engine is available (slow on canonical: seconds per nonce).
 */
import type { SprintConfig } from '../sprint/config.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import { toHex } from '../sprint/bytes.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { evaluateNonces, ReferenceModel } from '../sprint/reference.ts';
import type { IntensitySource, SprintOptions, SprintResult } from '../gpu/engine-types.ts';
import type { Clock, EvaluateRequest, ProtocolEngine, SearchRequest, SearchResult } from '../protocol/interfaces.ts';
import { systemClock } from './clock.ts';

/** The surface SprintEngine (src/gpu/transformer.ts) and CpuSprintEngine (src/cpu/engine.ts) share. */
export interface EngineLike {
  runSprint(options: SprintOptions): Promise<SprintResult>;
  evaluateNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<Float32Array>;
  destroy(): void;
}

export interface EnginePerSeedOptions {
  /**
   * The duty cycle every search runs at (src/gpu/sprint-loop.ts): a number, or a source such as an
   * IntensityControl whose changes reach the running search (the browser's Intensity slider).
   */
  readonly intensity?: number | IntensitySource;
}

export function enginePerSeed(
  build: (config: SprintConfig, seed: Uint8Array) => Promise<EngineLike>,
  clock: Clock = systemClock,
  options: EnginePerSeedOptions = {},
): ProtocolEngine & { close(): void } {
  let current: { key: string; engine: Promise<EngineLike> } | undefined;
  const get = (config: SprintConfig, seed: Uint8Array) => {
    const key = `${config.name}/${toHex(seed)}`;
    if (current?.key !== key) {
      const old = current;
      void old?.engine.then(
        (e) => e.destroy(),
        () => {},
      );
      current = { key, engine: build(config, seed) };
    }
    return current.engine;
  };
  return {
    async search(req: SearchRequest): Promise<SearchResult> {
      // An abort during the build (the host dropped an early search whose seed changed) returns at
      // once: the host waits for this search before starting the next, and a build can take minutes
      // on a CPU adapter. The build goes on and is destroyed when the next seed's starts.
      const aborted = new Promise<null>((resolve) => {
        if (req.signal?.aborted) resolve(null);
        req.signal?.addEventListener('abort', () => resolve(null), { once: true });
      });
      const engine = await Promise.race([get(req.config, req.seed), aborted]);
      if (!engine) return { found: [...req.found], tried: 0, nextNonce: req.startNonce };
      const r = await engine.runSprint({
        publicKey: req.publicKey,
        sprintSeed: req.seed,
        durationMs: Math.max(0, req.deadline - clock.now()),
        startNonce: req.startNonce,
        found: req.found,
        hitRate: req.hitRate,
        signal: req.signal,
        intensity: options.intensity,
        onProgress: (p) => req.onProgress?.({ newlyFound: p.newlyFound, nextNonce: p.nextNonce, tried: p.noncesTried }),
      });
      return { found: r.found, tried: r.noncesTried, nextNonce: r.nextNonce };
    },
    async evaluate(req: EvaluateRequest): Promise<number[]> {
      const engine = await get(req.config, req.seed);
      return Array.from(await engine.evaluateNonces(req.publicKey, req.nonces));
    },
    close() {
      void current?.engine.then(
        (e) => e.destroy(),
        () => {},
      );
      current = undefined;
    },
  };
}

/** The CPU reference as an engine: searches in batches until the deadline, yielding between them. */
export function referenceEngine(options: { batch?: number; clock?: Clock } = {}): ProtocolEngine {
  const clock = options.clock ?? systemClock;
  const batch = options.batch ?? 16;
  let model: { key: string; model: ReferenceModel } | undefined;
  const modelFor = (config: SprintConfig, seed: Uint8Array) => {
    const key = `${config.name}/${toHex(seed)}`;
    if (model?.key !== key) model = { key, model: new ReferenceModel(config, seed, config.layers <= 8) };
    return model.model;
  };
  return {
    async search(req: SearchRequest): Promise<SearchResult> {
      const m = modelFor(req.config, req.seed);
      const r = rTarget(req.config, req.hitRate);
      const found: NonceClaim[] = [...req.found];
      let next = req.startNonce;
      let tried = 0;
      while (clock.now() < req.deadline && !req.signal?.aborted) {
        const nonces = Array.from({ length: batch }, (_, i) => next + i);
        const newly = evaluateNonces(req.config, req.seed, req.publicKey, nonces, m)
          .filter((e) => e.distance < r)
          .map((e) => ({ nonce: e.nonce, distance: e.distance }));
        found.push(...newly);
        next += batch;
        tried += batch;
        req.onProgress?.({ newlyFound: newly, nextNonce: next, tried });
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { found, tried, nextNonce: next };
    },
    async evaluate(req: EvaluateRequest): Promise<number[]> {
      return evaluateNonces(req.config, req.seed, req.publicKey, req.nonces, modelFor(req.config, req.seed)).map((e) => e.distance);
    },
  };
}
