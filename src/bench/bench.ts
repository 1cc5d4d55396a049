/**
 * `npm run bench -- --config tiny|canonical [--batch N] [--seconds S] [--no-peer] [--json]`
 *
 * Prints one JSON object (--json; stdout carries nothing else) or a readable table. Progress and
 * library chatter go to stderr. Speed targets are read off the output, never asserted here.
 */
import { runBenchmark, type BenchResult } from './run.ts';

const USAGE = 'usage: npm run bench -- [--backend webgpu|cpu|auto] [--threads N] --config tiny|canonical [--batch N] [--seconds S] [--no-peer] [--json]';

interface CliOptions {
  config: string;
  batch?: number;
  seconds: number;
  json: boolean;
  skipPeer: boolean;
  backend: 'webgpu' | 'cpu' | 'auto';
  threads?: number;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { config: 'tiny', seconds: 3, json: false, skipPeer: false, backend: 'webgpu' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${arg} must be a positive number, got '${v}'`);
      return n;
    };
    if (arg === '--config') options.config = value();
    else if (arg === '--batch') {
      const n = positive(value());
      if (!Number.isInteger(n)) throw new UsageError(`--batch must be an integer`);
      options.batch = n;
    } else if (arg === '--seconds') options.seconds = positive(value());
    else if (arg === '--json') options.json = true;
    else if (arg === '--no-peer') options.skipPeer = true;
    else if (arg === '--backend') {
      const v = value();
      if (v !== 'webgpu' && v !== 'cpu' && v !== 'auto') throw new UsageError(`--backend must be webgpu, cpu or auto, got '${v}'`);
      options.backend = v;
    } else if (arg === '--threads') {
      const n = positive(value());
      if (!Number.isInteger(n)) throw new UsageError(`--threads must be an integer`);
      options.threads = n;
    } else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument '${arg}'`);
  }
  return options;
}

class UsageError extends Error {}

const fixed = (n: number | null, digits = 3): string => (n === null ? 'n/a' : n.toFixed(digits));

function table(r: BenchResult): string {
  const rows: [string, string][] = [
    ['backend', r.threads === null ? r.backend : `${r.backend} (${r.threads} threads)`],
    ['adapter', r.adapter],
    ['config', r.config],
    ['batch (nonces per pass)', String(r.batch)],
    ['engine', `${r.engine_variant}, weights ${r.weight_format}, ${(r.weight_bytes / 2 ** 20).toFixed(1)} MiB`],
    ['f16 screen', `${r.screen_mode} (${r.screen_reason})`],
    ['nonces/s', fixed(r.nonces_per_s, 2)],
    ['GFLOP/s (spec count)', fixed(r.gflops)],
    [
      'ready (ms)',
      `${r.ready_ms.toFixed(0)} (autotune ${r.ready_phases_ms.autotune.toFixed(0)}, weights ${r.ready_phases_ms.weights.toFixed(0)}, compile ${r.ready_phases_ms.compile.toFixed(0)})`,
    ],
    [`best f32 matmul ${r.matmul_shape.M}×${r.matmul_shape.K}×${r.matmul_shape.N} GFLOP/s`, `${fixed(r.matmul_gflops)} (${r.matmul_variant})`],
    ['efficiency (target ≥ 0.7)', fixed(r.efficiency, 2)],
    ['pass alone / outside the layers (ms)', `${r.pass_ms.toFixed(1)} / ${r.outside_layers_ms.toFixed(1)}`],
    ['share outside the layers (target ≤ 0.05)', fixed(r.outside_layers_share, 3)],
    ['tfjs-webgpu peer GFLOP/s', fixed(r.peer_gflops)],
    ['engine / peer (target ≥ 3)', fixed(r.peer_ratio, 2)],
    [`CPU peer GFLOP/s (${r.cpu_peer_op ?? 'onnxruntime-web wasm'})`, fixed(r.cpu_peer_gflops)],
    ['matmul / CPU peer (CPU backend target ≥ 0.8)', fixed(r.cpu_peer_ratio, 2)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(e.message);
    console.error(USAGE);
    return e.message ? 2 : 0;
  }
  const out = (text: string) => process.stdout.write(`${text}\n`);
  // tfjs and Dawn print notices with console.log: keep stdout for the result alone.
  console.log = console.info = console.warn = (...args: unknown[]) => process.stderr.write(`${args.join(' ')}\n`);
  const result = await runBenchmark({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  out(options.json ? JSON.stringify(result) : table(result));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    process.exit(1);
  },
);
