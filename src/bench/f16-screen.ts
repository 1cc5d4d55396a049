/**
 * How good the engine's f16 screen is on one adapter: its own pass (native f16, or emulated where
 * the adapter lacks shader-f16) against the f32 pass on the same nonces, and the Sprint with and
 * without the screen in one process. Figures for docs/benchmarks.md and docs/sprint-audit.md (e).
 */
import { rTarget } from '../sprint/difficulty.ts';
import type { SprintConfig } from '../sprint/config.ts';
import { SprintEngine } from '../gpu/transformer.ts';
import { candidates, DEFAULT_SCREEN_MARGINS } from '../gpu/screen.ts';

export interface ScreenReport {
  mode: string;
  nonces: number;
  fingerprint_agreement: number;
  /** Largest f16 fingerprint margin among nonces whose fingerprint flipped (must stay below the margin). */
  flipped_max_margin16: number | null;
  /** |d16 − d32| where the fingerprints agree: max and 99.9th percentile. */
  distance_error_max: number;
  distance_error_p999: number;
  margins: { distance: number; fingerprint: number };
  confirm_share: number;
  /** Fingerprint flips, and the largest f16 margins among them (what the fingerprint margin must exceed). */
  flips: number;
  flipped_top_margins16: number[];
  /** Confirmed share at other fingerprint margins (distance margin unchanged), same nonces. */
  confirm_share_by_margin: { fingerprint: number; share: number; flipped_unconfirmed_share: number }[];
  /** Per hit rate: appropriate nonces by f32, and how many of them the screen sends to f32. */
  recall: { hit_rate: number; hits: number; kept: number }[];
  /** runSprint nonces/s, plain f32 and screened, same process, same nonces count. */
  plain_nonces_per_s: number;
  screened_nonces_per_s: number;
  speed_ratio: number;
}

export async function measureScreen(
  gpu: GPU,
  config: SprintConfig,
  n: number,
  screen: 'f16' | 'f16-emulated',
  log: (l: string) => void,
): Promise<ScreenReport> {
  const sprintSeed = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
  const publicKey = Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff);
  const nonces = Array.from({ length: n }, (_, i) => i);
  const plain = await SprintEngine.create({ config, sprintSeed, gpu, screen: 'off' });
  const screened = await SprintEngine.create({ config, sprintSeed, gpu, screen, variant: plain.variant, batch: plain.batch });
  try {
    log(`screen ${screened.screen.variant}, batch ${plain.batch}; ${n} nonces f32 and f16…`);
    const exact = await plain.inspectNonces(publicKey, nonces);
    const low = await screened.inspectScreen(publicKey, nonces);
    for (const [what, got, want] of [
      ['exact distances', exact.distances.length, n],
      ['f16 distances', low.distances.length, n],
      ['f16 margins', low.margins.length, n],
    ] as const) {
      if (got !== want) throw new RangeError(`the engine returned ${got} ${what} for ${want} nonces`);
    }
    let agree = 0;
    let flippedMax: number | null = null;
    const flippedMargins: number[] = [];
    const errors: number[] = [];
    for (let i = 0; i < n; i++) {
      const same = [0, 1, 2, 3].every((w) => exact.fingerprints[4 * i + w] === low.fingerprints[4 * i + w]);
      if (same) {
        agree++;
        errors.push(Math.abs(low.distances[i]! - exact.distances[i]!)); // i < n, the lengths checked above
      } else {
        flippedMax = Math.max(flippedMax ?? 0, low.margins[i]!);
        flippedMargins.push(low.margins[i]!);
      }
    }
    errors.sort((a, b) => a - b);
    const recall = [1 / 900, 1 / 64, 1 / 16].map((p) => {
      const r = rTarget(config, p);
      const picked = new Set(candidates(low, r, DEFAULT_SCREEN_MARGINS));
      const hits = nonces.filter((i) => exact.distances[i]! < r);
      return { hit_rate: p, hits: hits.length, kept: hits.filter((i) => picked.has(i)).length };
    });
    const confirmShare = candidates(low, rTarget(config), DEFAULT_SCREEN_MARGINS).length / n;
    // A hit is lost when its fingerprint flipped and the margin let it through; flips do not depend
    // on the hit, so the lost share of hits is the share of nonces that flipped unconfirmed.
    const byMargin = [0, 1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3, 8e-3].map((fingerprint) => ({
      fingerprint,
      share: candidates(low, rTarget(config), { ...DEFAULT_SCREEN_MARGINS, fingerprint }).length / n,
      flipped_unconfirmed_share: flippedMargins.filter((m) => m >= fingerprint).length / n,
    }));
    log('Sprint speed, plain then screened…');
    const speed = async (e: SprintEngine) => {
      await e.runSprint({ publicKey, maxNonces: e.batch * 2 }); // warm-up
      const r = await e.runSprint({ publicKey, startNonce: 1e6, maxNonces: n });
      return r.noncesPerSecond;
    };
    const plainRate = await speed(plain);
    const screenedRate = await speed(screened);
    return {
      mode: screened.screen.mode,
      nonces: n,
      fingerprint_agreement: agree / n,
      flipped_max_margin16: flippedMax,
      distance_error_max: errors.at(-1) ?? 0,
      distance_error_p999: errors[Math.floor(errors.length * 0.999)] ?? 0,
      margins: { ...DEFAULT_SCREEN_MARGINS },
      confirm_share: confirmShare,
      flips: flippedMargins.length,
      flipped_top_margins16: flippedMargins.sort((a, b) => b - a).slice(0, 5),
      confirm_share_by_margin: byMargin,
      recall,
      plain_nonces_per_s: plainRate,
      screened_nonces_per_s: screenedRate,
      speed_ratio: screenedRate / plainRate,
    };
  } finally {
    plain.destroy();
    screened.destroy();
  }
}
