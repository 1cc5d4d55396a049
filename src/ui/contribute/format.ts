/** Words and numbers of the Contribute controls, kept out of the components so they can be tested. */
import { checkStopAfterMinutes, MAX_STOP_AFTER_MINUTES, type BatteryState } from '../../app/participation.ts';
import { MAX_INTENSITY, MIN_INTENSITY } from '../../gpu/sprint-loop.ts';

// One source for the words the app and the headless host's log share.
import { formatCount, formatDuration, formatRate } from '../../app/plain-words.ts';

export { formatCount, formatDuration, formatRate };

/** The slider works in whole percent; the engine takes a fraction. */
export const INTENSITY_PERCENT = { min: MIN_INTENSITY * 100, max: MAX_INTENSITY * 100, step: 5 } as const;

export function intensityFromPercent(percent: number): number {
  const clamped = Math.min(INTENSITY_PERCENT.max, Math.max(INTENSITY_PERCENT.min, Math.round(percent)));
  return clamped / 100;
}

/** What a screen reader says for the slider: "50% — the GPU rests half the time". */
export function intensityValueText(intensity: number): string {
  const percent = Math.round(intensity * 100);
  const rest = 100 - percent;
  if (rest === 0) return '100% — the GPU works without rest';
  if (rest === 50) return '50% — the GPU rests half the time';
  if (rest === 75) return '25% — the GPU rests three quarters of the time';
  if (rest === 25) return '75% — the GPU rests a quarter of the time';
  return `${percent}% — the GPU rests ${rest}% of the time`;
}

/** The "stop after" field: whole or decimal minutes; a sentence when it cannot be used. */
export function parseStopAfter(text: string): { minutes: number } | { error: string } {
  const trimmed = text.trim();
  const minutes = Number(trimmed);
  try {
    if (trimmed === '' || !Number.isFinite(minutes)) throw new Error();
    return { minutes: checkStopAfterMinutes(minutes)! };
  } catch {
    return { error: `"${trimmed}" is not a time limit: enter minutes above 0 and at most ${formatCount(MAX_STOP_AFTER_MINUTES)} (a week).` };
  }
}

export interface WorkSample {
  /** Clock ms (Date.now). */
  readonly t: number;
  readonly noncesPerSecond: number;
}

/** Samples inside the window ending at `now`, oldest first. */
export const windowSamples = (samples: readonly WorkSample[], now: number, windowMs: number): WorkSample[] =>
  samples.filter((s) => s.t > now - windowMs && s.t <= now);

/** The chart's time axis, x in seconds before now (≤ 0): "now", "30 s ago", "2 min ago", "1:30 ago". */
export function secondsAgoLabel(x: number): string {
  const s = Math.round(-x);
  if (s <= 0) return 'now';
  if (s < 60) return `${s} s ago`;
  return s % 60 === 0 ? `${s / 60} min ago` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} ago`;
}

/** Two significant figures: the spoken summary should change only when the rate really changes. */
const roughly = (x: number): string => (x >= 100 ? formatCount(Number(x.toPrecision(2))) : formatRate(Number(x.toPrecision(2))));

/** The chart in words, for its aria-label and its polite text alternative. */
export function summarizeWork(samples: readonly WorkSample[], now: number, windowMs: number): string {
  const minutes = windowMs / 60_000;
  const span = Number.isInteger(minutes) ? `the last ${minutes === 1 ? 'minute' : `${minutes} minutes`}` : `the last ${formatDuration(windowMs)}`;
  const inWindow = windowSamples(samples, now, windowMs);
  if (inWindow.length === 0) return `Work per second over ${span}: no work yet.`;
  const rates = inWindow.map((s) => s.noncesPerSecond);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const latest = rates[rates.length - 1]!;
  return `Work per second over ${span}: now about ${roughly(latest)} tries per second, on average ${roughly(mean)}, at most ${roughly(Math.max(...rates))}.`;
}

/** The battery line under "Pause when on battery". */
export function batteryText(battery: BatteryState, level: number | null): string {
  const percent = level === null ? '' : `, ${Math.round(level * 100)}%`;
  switch (battery) {
    case 'checking':
      return 'Checking the battery…';
    case 'unsupported':
      return 'Not supported by this browser: it does not report whether the device is on battery.';
    case 'plugged-in':
      return `Plugged in${percent}.`;
    case 'on-battery':
      return `On battery${percent}.`;
  }
}
