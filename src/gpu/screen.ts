/**
 * The f16 screen (docs/sprint-audit.md, attack e): where f16 arithmetic is cheaper than f32, a
 * host could run every nonce in f16 and confirm in f32 only the nonces the f16 pass cannot rule
 * out. If that pays, the engine must do it itself so that nobody gains by it. Spec §10 still
 * holds: every distance that counts as a find comes from the f32 pass.
 *
 * A nonce is confirmed in f32 when its f16 distance lies below r_target + `distance`, or when one
 * of its 128 fingerprint logits lay within `fingerprint` of the mean: then a bit may have flipped
 * under f16 rounding, the f16 pass used another permutation, and its distance says nothing.
 * Every other nonce is reported as not appropriate (distance +∞: never measured in f32). A hit
 * whose fingerprint flipped in f16 is lost unless the fingerprint margin caught it: the screen
 * trades those hits for speed, which is what a host using it for itself would do too.
 */
import { AbortWaiter } from './engine-helpers.ts';

export interface ScreenMargins {
  /** Confirm when d16 < r_target + distance. */
  readonly distance: number;
  /** Confirm when min_{j<128} |z_j − mean| < fingerprint (logit units) in the f16 pass. */
  readonly fingerprint: number;
}

/**
 * Measured on canonical (docs/benchmarks.md, "f16 screen"): where the fingerprints agree, |d16 − d32|
 * stayed below 3.7e-5 over 32,768 nonces, so a distance margin of 2e-4 loses nothing. The
 * fingerprint margin is 0: confirming near-flips costs more than the hits it saves (4.2% of nonces
 * flip; a margin that recovers all of them sends 39% of nonces to f32), so the cheapest screen
 * drops them, and so does the engine, since an attacker would. `screenMargins` can ask for another.
 */
export const DEFAULT_SCREEN_MARGINS: ScreenMargins = { distance: 2e-4, fingerprint: 0 };

export interface ScreenPass {
  readonly distances: Float32Array;
  /** Per nonce: min_{j<128} |z_j − mean| of this pass's logits. */
  readonly margins: Float32Array;
}

/** Indices of the nonces the f16 pass cannot rule out. */
export function candidates(pass: ScreenPass, threshold: number, margins: ScreenMargins): number[] {
  if (pass.margins.length !== pass.distances.length) {
    throw new RangeError(`a screen pass has one margin per distance, got ${pass.margins.length} margins for ${pass.distances.length} distances`);
  }
  const out: number[] = [];
  // i < distances.length = margins.length (checked above).
  for (let i = 0; i < pass.distances.length; i++) {
    const d = pass.distances[i]!;
    // NaN (an f16 overflow) is never ruled out.
    if (!(d >= threshold + margins.distance) || !(pass.margins[i]! >= margins.fingerprint)) out.push(i);
  }
  return out;
}

export interface ScreenCounts {
  /** Nonces that went through the f16 pass. */
  screened: number;
  /** Of them, nonces confirmed in f32. */
  confirmed: number;
}

export interface ScreenedRun {
  readonly next: () => readonly number[] | null;
  /** Submits one f16 pass at once (queue order is call order) and resolves with its results. */
  readonly screen: (nonces: readonly number[]) => Promise<ScreenPass>;
  /** Submits one f32 pass of at most `confirmCapacity` nonces; resolves with their distances. */
  readonly confirm: (nonces: readonly number[]) => Promise<Float32Array>;
  readonly confirmCapacity: number;
  /** Distances in f32 for confirmed nonces, +∞ for the rest; batches in order. */
  readonly onBatch: (nonces: readonly number[], distances: Float32Array) => void;
  readonly threshold: number;
  readonly margins: ScreenMargins;
  readonly counts: ScreenCounts;
  readonly signal?: AbortSignal;
  /** f16 passes kept in flight (the engine's slots). */
  readonly depth: number;
  /**
   * Screened batches that may wait for a shared confirmation pass (default 1: each batch confirms
   * its own). A confirmation pass costs far more than its share of nonces (on an H100, 64 nonces
   * in f32 took ~60 ms against ~105 ms for 512 in f16), so one pass per candidate batch ate the
   * screen's whole gain; pooling the candidates of several batches into one pass keeps it.
   */
  readonly maxHeld?: number;
}

/**
 * The engine's `maxHeld`: at canonical's batch of 512 on an H100 (~105 ms an f16 pass) 16 batches
 * delay a find by under 2 s, and their ~11 candidates (0.13% of nonces) share one confirmation pass.
 */
export const SCREEN_MAX_HELD = 16;

interface HeldBatch {
  readonly nonces: readonly number[];
  readonly picked: readonly number[];
}

/**
 * Screens batches in order with up to `depth` f16 passes in flight. When the oldest finishes, the
 * next f16 pass is queued before any confirmation, so the GPU always has a pass queued behind the
 * one it runs. Candidates wait, with the batches behind them, until a confirmation pass fills,
 * `maxHeld` batches wait, or the batches run out; batches are still reported in order. An abort
 * returns at once; batches not yet reported count as not tried.
 */
export async function runScreened(r: ScreenedRun): Promise<void> {
  const inflight: { nonces: readonly number[]; result: Promise<ScreenPass> }[] = [];
  const held: HeldBatch[] = [];
  const maxHeld = Math.max(1, r.maxHeld ?? 1);
  const abort = new AbortWaiter(r.signal);
  const submit = (): boolean => {
    const nonces = r.next();
    if (!nonces || nonces.length === 0) return false;
    inflight.push({ nonces, result: r.screen(nonces) });
    return true;
  };
  /** Confirms every held candidate and reports the held batches; false on abort. */
  const flush = async (): Promise<boolean> => {
    const all = held.flatMap((b, h) => b.picked.map((i) => ({ h, i })));
    const outs = held.map((b) => new Float32Array(b.nonces.length).fill(Infinity));
    for (let start = 0; start < all.length; start += r.confirmCapacity) {
      const part = all.slice(start, start + r.confirmCapacity);
      const confirmed = await abort.race(r.confirm(part.map(({ h, i }) => held[h]!.nonces[i]!)));
      if (!confirmed) return false;
      part.forEach(({ h, i }, k) => (outs[h]![i] = confirmed[k]!));
    }
    held.forEach((b, h) => {
      r.counts.screened += b.nonces.length;
      r.counts.confirmed += b.picked.length;
      r.onBatch(b.nonces, outs[h]!);
    });
    held.length = 0;
    return true;
  };
  try {
    let more = true;
    while (more && inflight.length < r.depth) more = submit();
    while (inflight.length > 0) {
      const pass = await abort.race(inflight[0]!.result);
      if (!pass) return;
      const { nonces } = inflight.shift()!;
      if (more) more = submit();
      held.push({ nonces, picked: candidates(pass, r.threshold, r.margins) });
      const waiting = held.reduce((a, b) => a + b.picked.length, 0);
      const last = inflight.length === 0;
      if ((waiting === 0 || waiting >= r.confirmCapacity || held.length >= maxHeld || last) && !(await flush())) return;
    }
  } finally {
    abort.dispose();
    inflight.forEach((f) => f.result.catch(() => {}));
  }
}
