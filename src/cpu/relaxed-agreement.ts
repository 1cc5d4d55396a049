/**
 * Runs the relaxed-SIMD kernels (fused multiply-adds) on tiny against the reference and prints one
 * JSON line. A script, not a test: Node 20 accepts relaxed SIMD only with
 * --experimental-wasm-relaxed-simd, so kernels.test.ts starts it in a child process with that flag.
 */
import { evaluateNonces } from '../sprint/reference.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { CONFIGS } from '../sprint/config.ts';
import { bestKernelVariant } from './layout.ts';
import { PUBLIC_KEY, SPRINT_SEED, cpuEngine } from './test-support.ts';
import { at } from '../sprint/indexing.ts';

const nonces = Array.from({ length: 512 }, (_, i) => 2900 + i);
const engine = await cpuEngine({ kernels: 'relaxed-simd', batch: 64 });
try {
  const got = await engine.evaluateNonces(PUBLIC_KEY, nonces);
  const ref = evaluateNonces(CONFIGS.tiny, SPRINT_SEED, PUBLIC_KEY, nonces);
  const r = rTarget(CONFIGS.tiny);
  let worst = 0;
  let flagMismatches = 0;
  ref.forEach((x, i) => {
    const distance = at(got, i, 'engine distance');
    worst = Math.max(worst, Math.abs(x.distance - distance));
    if (distance < r !== x.appropriate) flagMismatches++;
  });
  process.stdout.write(
    `${JSON.stringify({ available: bestKernelVariant(), kernels: engine.kernels, nonces: nonces.length, appropriate: ref.filter((x) => x.appropriate).length, worst, flagMismatches })}\n`,
  );
} finally {
  engine.destroy();
}
