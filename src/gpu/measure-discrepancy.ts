/**
 * Measures |d_gpu − d_cpu| per config on this machine's adapter, for docs/sprint-spec.md §11
 * ("GPU vs CPU discrepancy"). Usage:
 *   npx tsx src/gpu/measure-discrepancy.ts [tiny=512] [canonical=4] [--format=u8|f16] [--output=serial|workgroup]
 */
import { getConfig } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { ReferenceModel, evaluateNonces } from '../sprint/reference.ts';
import { getGpu } from './gpu-node.ts';
import type { MatmulVariant } from './shaders/matmul.wgsl.ts';
import type { OutputMode } from './shaders/output.wgsl.ts';
import { SprintEngine } from './transformer.ts';

const SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(configName: string, count: number, variant: MatmulVariant, outputMode?: OutputMode) {
  const config = getConfig(configName);
  const nonces = Array.from({ length: count }, (_, i) => i);
  let t = performance.now();
  const engine = await SprintEngine.create({ config, sprintSeed: SEED, gpu: await getGpu(), variant, outputMode, autotune: false });
  const buildMs = performance.now() - t;
  t = performance.now();
  const gpu = await engine.evaluateNonces(KEY, nonces);
  const gpuMs = performance.now() - t;
  const adapter = engine.adapter;
  const format = engine.weightFormat;
  engine.destroy();
  t = performance.now();
  const cpu = evaluateNonces(config, SEED, KEY, nonces, new ReferenceModel(config, SEED, config.layers <= 4));
  const cpuMs = performance.now() - t;
  const diffs = cpu.map((c, i) => Math.abs(gpu[i] - c.distance)).sort((a, b) => a - b);
  const r = rTarget(config);
  const flagMismatches = cpu.filter((c, i) => gpu[i] < r !== c.appropriate).length;
  return {
    config: configName,
    adapter: `${adapter.vendor}/${adapter.architecture}${adapter.description ? ` (${adapter.description})` : ''}`,
    format,
    output: outputMode ?? (adapter.isFallback ? 'serial' : 'workgroup'),
    nonces: count,
    max: diffs.at(-1)!,
    p99: quantile(diffs, 0.99),
    median: quantile(diffs, 0.5),
    mean: diffs.reduce((s, x) => s + x, 0) / diffs.length,
    flagMismatches,
    gpuMs: Math.round(gpuMs),
    buildMs: Math.round(buildMs),
    cpuMs: Math.round(cpuMs),
  };
}

const args = process.argv.slice(2);
const format = (args.find((a) => a.startsWith('--format='))?.split('=')[1] ?? 'u8') as MatmulVariant['weightFormat'];
const outputMode = args.find((a) => a.startsWith('--output='))?.split('=')[1] as OutputMode | undefined;
const counts = args.filter((a) => !a.startsWith('--')).map(Number);
const variant: MatmulVariant = { tileM: 4, tileN: 4, useWorkgroupMemory: false, workgroupSize: 64, weightFormat: format };
for (const [name, n] of [['tiny', counts[0] ?? 512], ['canonical', counts[1] ?? 4]] as const) {
  if (n > 0) console.log(JSON.stringify(await measure(name, n, variant, outputMode)));
}
process.exit(0);
