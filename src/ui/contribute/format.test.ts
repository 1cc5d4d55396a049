import { describe, expect, it } from 'vitest';
import {
  batteryText,
  secondsAgoLabel,
  formatDuration,
  formatRate,
  intensityFromPercent,
  intensityValueText,
  parseStopAfter,
  summarizeWork,
  windowSamples,
} from './format.ts';

describe('contribute formatting', () => {
  it('says what the intensity does to the GPU', () => {
    expect(intensityValueText(0.5)).toBe('50% — the GPU rests half the time');
    expect(intensityValueText(1)).toBe('100% — the GPU works without rest');
    expect(intensityValueText(0.25)).toBe('25% — the GPU rests three quarters of the time');
    expect(intensityValueText(0.1)).toBe('10% — the GPU rests 90% of the time');
    expect(intensityValueText(0.7)).toBe('70% — the GPU rests 30% of the time');
  });

  it('maps slider percent to an intensity the engine accepts', () => {
    expect(intensityFromPercent(50)).toBe(0.5);
    expect(intensityFromPercent(0)).toBe(0.1);
    expect(intensityFromPercent(250)).toBe(1);
    expect(intensityFromPercent(33.4)).toBe(0.33);
  });

  it('formats rates and durations', () => {
    expect(formatRate(0)).toBe('0');
    expect(formatRate(Number.NaN)).toBe('0');
    expect(formatRate(0.4237)).toBe('0.42');
    expect(formatRate(12.34)).toBe('12.3');
    expect(formatRate(1234.4)).toBe('1,234');
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(44_100)).toBe('45 s');
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12 min 05 s');
    expect(formatDuration(2 * 3_600_000 + 3 * 60_000)).toBe('2 h 03 min');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('reads the stop-after field, and names what it cannot use', () => {
    expect(parseStopAfter(' 30 ')).toEqual({ minutes: 30 });
    expect(parseStopAfter('1.5')).toEqual({ minutes: 1.5 });
    for (const bad of ['', 'abc', '0', '-3', '20000', 'Infinity']) {
      const r = parseStopAfter(bad);
      expect('error' in r && r.error).toContain(`"${bad.trim()}" is not a time limit`);
    }
  });

  it('summarizes the chart in words, over the window only, rounded so it changes rarely', () => {
    const now = 1_000_000;
    const samples = [
      { t: now - 400_000, noncesPerSecond: 9_999 }, // outside a 5-minute window
      { t: now - 3_000, noncesPerSecond: 1_180 },
      { t: now - 2_000, noncesPerSecond: 1_240 },
      { t: now - 1_000, noncesPerSecond: 1_210 },
    ];
    expect(windowSamples(samples, now, 300_000)).toHaveLength(3);
    expect(summarizeWork(samples, now, 300_000)).toBe(
      'Work per second over the last 5 minutes: now about 1,200 tries per second, on average 1,200, at most 1,200.',
    );
    expect(summarizeWork([], now, 60_000)).toBe('Work per second over the last minute: no work yet.');
    expect(summarizeWork([{ t: now, noncesPerSecond: 3.14159 }], now, 60_000)).toContain('now about 3.1 tries per second');
  });

  it('labels the time axis relative to now', () => {
    expect([0, -0.2, -30, -60, -90, -120].map(secondsAgoLabel)).toEqual(['now', 'now', '30 s ago', '1 min ago', '1:30 ago', '2 min ago']);
  });

  it('says whether the battery can be read', () => {
    expect(batteryText('unsupported', null)).toMatch(/^Not supported by this browser/);
    expect(batteryText('on-battery', 0.734)).toBe('On battery, 73%.');
    expect(batteryText('plugged-in', 1)).toBe('Plugged in, 100%.');
    expect(batteryText('checking', null)).toBe('Checking the battery…');
  });
});
