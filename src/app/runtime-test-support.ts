/** Shared by tests that run a BrowserRuntime without an engine (not shipped to the browser). */
import type { EngineClientLike } from './browser-runtime.ts';

/** An engine Worker client that finds nothing: the page takes part without weight. */
export const idleClient = (): EngineClientLike => ({
  create: async (o) => ({
    backend: 'cpu',
    backendReason: 'fake',
    threads: 1,
    config: o.config,
    batch: 32,
    adapter: 'fake',
    isFallbackAdapter: false,
    weightBytes: 1,
    variant: 'fake',
  }),
  runSprint: async (o) =>
    ({ found: [], noncesTried: 0, nextNonce: o.startNonce ?? 0, elapsedMs: 0, noncesPerSecond: 0, busyMs: 0, stoppedBy: 'deadline' }) as never,
  evaluateNonces: async () => new Float32Array(0),
  abort: async () => undefined,
  terminate: async () => undefined,
});
