/**
 * The headless host's GPU work: build the Sprint engine for a seed, search nonces for the Sprint's
 * duration, repeat with a fresh seed. A lost device is rebuilt and the Sprint resumes from the
 * first nonce not read back, keeping what was found. Until the Sprint protocol announces shared
 * seeds, each Sprint uses a local practice seed (or the one given).
 */
import { randomBytes } from 'node:crypto';
import { getConfig } from '../sprint/config.ts';
import { toHex } from '../sprint/bytes.ts';
import { getGpu, nodeTuneCache } from '../gpu/gpu-node.ts';
import { isGpuError, type FoundNonce } from '../gpu/errors.ts';
import type { BackendChoice } from '../cpu/backend.ts';
import { createSprintEngine, describeEngine } from '../cpu/select.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { BUILD_PHASE_WORDS, countOf, formatCount, STOP_WORDS, workSummary } from '../app/plain-words.ts';

export interface PracticeSprintOptions {
  config: string;
  publicKey: Uint8Array;
  sprintMs: number;
  /** Fixed seed for every Sprint; a random one per Sprint when absent. */
  sprintSeed?: Uint8Array;
  batch?: number;
  /** webgpu, cpu (src/cpu) or auto (default: the CPU when WebGPU is missing or a software adapter). */
  backend?: BackendChoice;
  /** CPU backend threads (default: every core). */
  threads?: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

const PROGRESS_EVERY_MS = 5_000;

export async function runPracticeSprints(o: PracticeSprintOptions): Promise<void> {
  const config = getConfig(o.config);
  const backend = o.backend ?? 'auto';
  const gpu = backend === 'cpu' ? null : await getGpu().catch(() => null);
  for (let sprint = 1; !o.signal.aborted; sprint++) {
    const sprintSeed = o.sprintSeed ?? new Uint8Array(randomBytes(32));
    const name = `Practice Sprint ${sprint}`;
    o.log(`${name} on model ${config.name}, seed ${toHex(sprintSeed)} (practice: it earns no weight, CU or rewards)`);
    const build = async () => {
      let lastPhase = '';
      const { engine, ...created } = await createSprintEngine({
        backend,
        spawner: nodeSpawner,
        threads: o.threads,
        config,
        sprintSeed,
        gpu,
        batch: o.batch,
        tuneCache: nodeTuneCache(),
        onProgress: (phase, fraction) => {
          if (phase !== lastPhase || fraction === 1) o.log(`${name}: ${BUILD_PHASE_WORDS[phase]} — ${(100 * fraction).toFixed(0)}%`);
          lastPhase = phase;
        },
      });
      o.log(
        `${name}: ready on ${describeEngine({ engine, ...created })}, ${formatCount(engine.batch)} tries per batch, ${(engine.weightBytes / 2 ** 20).toFixed(1)} MiB of model weights`,
      );
      return engine;
    };
    let engine = await build();
    const searchStart = Date.now(); // the Sprint's search time starts once the engine is ready
    const deadline = searchStart + o.sprintMs;
    let found: readonly FoundNonce[] = [];
    let startNonce = 0;
    let lastLog = Date.now();
    try {
      for (;;) {
        try {
          const result = await engine.runSprint({
            publicKey: o.publicKey,
            startNonce,
            found,
            signal: o.signal,
            durationMs: Math.max(0, deadline - Date.now()),
            onProgress: (p) => {
              if (Date.now() - lastLog < PROGRESS_EVERY_MS) return;
              lastLog = Date.now();
              o.log(`${name}: ${workSummary(p.noncesTried, p.found, Date.now() - searchStart, p.noncesPerSecond)}`);
            },
          });
          o.log(
            `${name} finished: ${workSummary(result.noncesTried, result.found.length, Date.now() - searchStart, result.noncesPerSecond)} (${STOP_WORDS[result.stoppedBy]})`,
          );
          break;
        } catch (e) {
          if (!isGpuError(e, 'DEVICE_LOST') || o.signal.aborted) throw e;
          found = e.details.found ?? found;
          startNonce = e.details.nextNonce ?? startNonce;
          o.log(
            `${name}: the GPU was lost (${e.message}); rebuilding the engine and carrying on from try ${formatCount(startNonce)}, keeping ${countOf(found.length, 'find')}`,
          );
          engine.destroy();
          engine = await build();
        }
      }
    } finally {
      engine.destroy();
    }
  }
}
