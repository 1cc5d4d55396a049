/**
 * `npx tsx src/bench/f16.ts [--config canonical] [--rows 2048,4096] [--window-ms 60] [--screen N] [--json]`
 *
 * Whether f16 arithmetic pays on this adapter: the adapter's features, then every f32 and f16
 * variant of the engine's matmul template on the config's four layer shapes (src/bench/f16-matmul.ts);
 * with --screen N, the engine's f16 screen against its f32 pass on N nonces (src/bench/f16-screen.ts).
 * One JSON object on stdout with --json; progress on stderr.
 */
import { getConfig } from '../sprint/config.ts';
import { GpuDevice, adapterLabel } from '../gpu/device.ts';
import { getGpu } from '../gpu/gpu-node.ts';
import { measureF16Matmuls } from './f16-matmul.ts';
import { measureScreen } from './f16-screen.ts';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

async function main(): Promise<void> {
  const config = getConfig(option('--config', 'canonical'));
  const rows = option('--rows', '2048,4096').split(',').map(Number);
  if (rows.some((r) => !Number.isInteger(r) || r < 0)) throw new Error('--rows: non-negative integers, comma separated (0: no matmul timing)');
  const windowMs = Number(option('--window-ms', '60'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info;
  const features = adapter ? [...adapter.features].sort() : [];
  log(`adapter: ${info?.vendor} / ${info?.architecture} / ${info?.device} / ${info?.description}; features: ${features.join(', ')}`);
  const dev = await GpuDevice.create(gpu);
  try {
    const report = (rows[0] ?? 0) > 0 ? await measureF16Matmuls(dev, config, rows, windowMs, log) : null;
    const screenNonces = Number(option('--screen', '0'));
    const shaderF16 = dev.hasShaderF16;
    dev.destroy();
    const screen = screenNonces > 0 ? await measureScreen(gpu, config, screenNonces, shaderF16 ? 'f16' : 'f16-emulated', log) : null;
    const result = {
      adapter: adapterLabel(dev.adapter),
      adapter_features: features,
      config: config.name,
      date: new Date().toISOString(),
      matmuls: report,
      screen,
    };
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    else
      for (const l of report?.layers ?? [])
        process.stdout.write(
          `M=${l.rows}: f32 ${l.f32.variant} ${l.f32.ms.toFixed(3)} ms/layer, f16 ${l.f16 ? `${l.f16.variant} ${l.f16.ms.toFixed(3)} ms/layer, speedup ${l.speedup!.toFixed(2)}` : 'n/a (no shader-f16)'}\n`,
        );
  } finally {
    dev.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`f16 bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
