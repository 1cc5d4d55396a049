/**
 * `sprintnet calibrate`: hit rate of real nonces against p with its 99.9% binomial interval (spec §11).
 * `--backend auto|cpu|webgpu` runs the task on that engine (auto: the CPU backend where WebGPU is a
 * software adapter or missing); `--backend reference` on the float64 reference, 10–30× slower.
 */
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, parseThreads, THREADS_OPTION } from './args.ts';
import { getConfig, type SprintConfig } from '../sprint/config.ts';
import {
  calibrate,
  calibrateWith,
  CALIBRATION_PUBLIC_KEY,
  CALIBRATION_SPRINT_SEED,
  type CalibrationOptions,
  type CalibrationResult,
} from '../sprint/calibrate.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../cpu/backend.ts';
import { createSprintEngine, describeEngine } from '../cpu/select.ts';
import { nodeSpawner } from '../cpu/threads-node.ts';
import { getGpu, nodeTuneCache } from '../gpu/gpu-node.ts';

export const options = defineOptions({
  config: { type: 'string', value: 'NAME', default: 'tiny', help: 'the model: tiny or canonical' },
  nonces: { type: 'string', value: 'N', help: 'nonces to evaluate (default: 200000 on tiny, 200 on canonical)' },
  start: { type: 'string', value: 'N', default: '0', help: 'first nonce (runs over disjoint ranges add up)' },
  backend: { type: 'string', value: 'NAME', default: 'auto', help: 'auto, cpu, webgpu, or reference (the float64 reference, 10-30x slower)' },
  threads: THREADS_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const config = getConfig(args.config);
  const nonces = args.nonces === undefined ? (config.layers > 8 ? 200 : 200_000) : parseInteger(args.nonces, '--nonces', { min: 1 });
  const start = parseInteger(args.start, '--start', { min: 0 });
  const threads = parseThreads(args.threads);
  const backend = parseChoice(args.backend, '--backend', [...BACKEND_CHOICES, 'reference'] as const);
  const started = Date.now();
  const calibration: CalibrationOptions = { nonces, start, onProgress: (done, total) => process.stderr.write(`\rnonces: ${done}/${total}   `) };
  const { result, engine } = await calibrateOn(config, calibration, backend, threads);
  process.stderr.write('\n');
  process.stdout.write(JSON.stringify({ ...result, start, engine, seconds: (Date.now() - started) / 1000 }) + '\n');
  return result.withinInterval ? 0 : 1;
}

/** Calibration on the chosen backend; `engine` says which ran and why. */
export async function calibrateOn(
  config: SprintConfig,
  options: CalibrationOptions,
  backend: BackendChoice | 'reference',
  threads?: number,
): Promise<{ result: CalibrationResult; engine: string }> {
  if (backend === 'reference') return { result: calibrate(config, options), engine: 'float64 reference (src/sprint/reference.ts)' };
  const gpu = backend === 'cpu' ? null : await getGpu().catch(() => null);
  const created = await createSprintEngine({
    backend,
    gpu,
    spawner: nodeSpawner,
    threads,
    config,
    sprintSeed: options.sprintSeed ?? CALIBRATION_SPRINT_SEED,
    tuneCache: nodeTuneCache(),
  });
  try {
    const result = await calibrateWith(config, options, (n) => created.engine.evaluateNonces(CALIBRATION_PUBLIC_KEY, n));
    return { result, engine: describeEngine(created) };
  } finally {
    created.engine.destroy();
  }
}
