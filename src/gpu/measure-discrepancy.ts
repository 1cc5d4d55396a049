/**
 * Measures, per config on this machine's adapter, how far the GPU engine is from the CPU reference
 * (task version 2): |d_gpu − d_cpu|, appropriate-flag disagreements, and fingerprint disagreements
 * (nonces whose 128-bit logit fingerprint, hence whose permutation, differs between the two), read
 * through `SprintEngine.inspectNonces`. For docs/sprint-spec.md §11 and docs/gpu-engine.md. Usage:
 *   npx tsx src/gpu/measure-discrepancy.ts [tiny=512] [canonical=4] [--format=u8|f16] [--output=serial|workgroup]
 */
import { getConfig } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { fingerprint, FINGERPRINT_BITS, FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import { ReferenceModel, logitMean, mapReferenceNonces } from '../sprint/reference.ts';
import { at } from '../sprint/indexing.ts';
import { getGpu } from './gpu-node.ts';
import type { MatmulVariant } from './shaders/matmul.wgsl.ts';
import type { OutputMode } from './shaders/output.wgsl.ts';
import { SprintEngine } from './transformer.ts';

const SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff);

function quantile(sorted: number[], q: number): number {
  return at(sorted, Math.min(sorted.length - 1, Math.floor(q * sorted.length)), 'quantile');
}

interface Reference {
  distance: number;
  fingerprint: Uint32Array;
  /** min_j |z_j − mean| over the 128 fingerprint logits: how near the nonce is to a bit flip. */
  margin: number;
}

/** The reference's distance and fingerprint of each nonce (the steps of `evaluateNonces`, keeping the logits). */
function referenceNonces(configName: string, nonces: readonly number[]): Reference[] {
  const config = getConfig(configName);
  const model = new ReferenceModel(config, SEED, config.layers <= 4);
  return mapReferenceNonces(model, SEED, KEY, nonces, ({ logits, distance }) => {
    const mean = logitMean(logits);
    let margin = Infinity;
    for (const z of logits.subarray(0, FINGERPRINT_BITS)) margin = Math.min(margin, Math.abs(z - mean));
    return { distance, fingerprint: fingerprint(logits, mean), margin };
  });
}

async function measure(configName: string, count: number, variant: MatmulVariant, outputMode?: OutputMode) {
  const config = getConfig(configName);
  const nonces = Array.from({ length: count }, (_, i) => i);
  let t = performance.now();
  const engine = await SprintEngine.create({ config, sprintSeed: SEED, gpu: await getGpu(), variant, outputMode, autotune: false });
  const buildMs = performance.now() - t;
  t = performance.now();
  const gpu = await engine.inspectNonces(KEY, nonces);
  const gpuMs = performance.now() - t;
  const adapter = engine.adapter;
  const format = engine.weightFormat;
  engine.destroy();
  t = performance.now();
  const cpu = referenceNonces(configName, nonces);
  const cpuMs = performance.now() - t;
  const gpuDistance = (i: number) => at(gpu.distances, i, 'GPU distance');
  const diffs = cpu.map((c, i) => Math.abs(gpuDistance(i) - c.distance)).sort((a, b) => a - b);
  const r = rTarget(config);
  const flagMismatches = cpu.filter((c, i) => gpuDistance(i) < r !== c.distance < r).length;
  const fingerprintMismatches = cpu.filter((c, i) => c.fingerprint.some((w, k) => w !== gpu.fingerprints[i * FINGERPRINT_WORDS + k])).length;
  const margins = cpu.map((c) => c.margin).sort((a, b) => a - b);
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
    fingerprintMismatches,
    minFingerprintMargin: margins[0],
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
for (const [name, n] of [
  ['tiny', counts[0] ?? 512],
  ['canonical', counts[1] ?? 4],
] as const) {
  if (n > 0) console.log(JSON.stringify(await measure(name, n, variant, outputMode)));
}
process.exit(0);
