import { describe, expect, it } from 'vitest';
import type { Clock } from '../protocol/interfaces.ts';
import { browserBattery, createParticipation, ParticipationError, type BatterySource, type BatteryStatus, type ParticipationState } from './participation.ts';

/** A clock whose time moves only by `advance`, firing due timers in order. */
function fakeClock(start = 1_000_000) {
  let t = start;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => t,
    setTimer(at, fn) {
      const timer = { at, fn };
      timers.add(timer);
      return () => timers.delete(timer);
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = [...timers].filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers.delete(due);
      t = due.at;
      due.fn();
    }
    t = end;
  };
  return { clock, advance, pending: () => timers.size };
}

function fakeBattery() {
  let listener: ((s: BatteryStatus | 'unsupported') => void) | null = null;
  let stops = 0;
  const source: BatterySource = {
    watch(onStatus) {
      listener = onStatus;
      return () => {
        stops++;
        listener = null;
      };
    },
  };
  return { source, report: (s: BatteryStatus | 'unsupported') => listener?.(s), stops: () => stops, watching: () => listener !== null };
}

const MIN = 60_000;

describe('createParticipation', () => {
  it('is off until Start, then runs; Stop aborts the run signal at once', () => {
    const { clock } = fakeClock();
    const changes: ParticipationState[] = [];
    const p = createParticipation({ clock, settings: { pauseOnBattery: false }, onChange: (s) => changes.push(s) });
    expect(p.state.decision).toEqual({ kind: 'off' });
    expect(p.runSignal()).toBeNull();
    p.setEnabled(true);
    expect(p.state.decision).toEqual({ kind: 'run' });
    expect(p.state.reason).toMatch(/^Contributing/);
    const signal = p.runSignal()!;
    expect(signal.aborted).toBe(false);
    p.setEnabled(false);
    expect(signal.aborted).toBe(true);
    expect(p.state.decision).toEqual({ kind: 'off' });
    expect(p.state.reason).toMatch(/Press Start/);
    expect(changes.map((s) => s.decision.kind)).toEqual(['run', 'off']);
  });

  it('pauses on battery and resumes when plugged in, with a fresh signal', () => {
    const { clock } = fakeClock();
    const battery = fakeBattery();
    const p = createParticipation({ clock, battery: battery.source, settings: { enabled: true } });
    // Until the battery answers, it does not start GPU work it may have to stop a moment later.
    expect(p.state.decision).toEqual({ kind: 'paused', cause: 'checking-battery' });
    battery.report({ charging: true, level: 0.9 });
    expect(p.state.decision.kind).toBe('run');
    const first = p.runSignal()!;
    battery.report({ charging: false, level: 0.73 });
    expect(first.aborted).toBe(true);
    expect(p.state.decision).toEqual({ kind: 'paused', cause: 'on-battery' });
    expect(p.state.reason).toContain('running on its battery (73%)');
    expect(p.state.battery).toBe('on-battery');
    battery.report({ charging: true, level: 0.74 });
    expect(p.state.decision.kind).toBe('run');
    expect(p.runSignal()).not.toBe(first);
    expect(p.runSignal()!.aborted).toBe(false);
  });

  it('runs on battery when the volunteer turns the pause off', () => {
    const battery = fakeBattery();
    const p = createParticipation({ clock: fakeClock().clock, battery: battery.source, settings: { enabled: true } });
    battery.report({ charging: false, level: 0.5 });
    expect(p.state.decision.kind).toBe('paused');
    p.setPauseOnBattery(false);
    expect(p.state.decision.kind).toBe('run');
  });

  it('says so when the browser has no Battery API, and runs', () => {
    const battery = fakeBattery();
    const p = createParticipation({ clock: fakeClock().clock, battery: battery.source, settings: { enabled: true, pauseOnBattery: true } });
    battery.report('unsupported');
    expect(p.state.battery).toBe('unsupported');
    expect(p.state.decision.kind).toBe('run');
    expect(p.state.reason).toContain('does not say whether the device is on battery');
  });

  it('stops after N minutes counted from Start, and turns participation off', () => {
    const c = fakeClock();
    const p = createParticipation({ clock: c.clock, settings: { pauseOnBattery: false, stopAfterMinutes: 30 } });
    p.setEnabled(true);
    const signal = p.runSignal()!;
    expect(p.state.stopsAt).toBe(c.clock.now() + 30 * MIN);
    c.advance(30 * MIN - 1);
    expect(p.state.decision.kind).toBe('run');
    c.advance(1);
    expect(signal.aborted).toBe(true);
    expect(p.state.decision).toEqual({ kind: 'stopped', cause: 'time-limit' });
    expect(p.state.reason).toBe('Stopped after 30 minutes, the time limit you set. Press Start to contribute again.');
    expect(p.state.settings.enabled).toBe(false);
    expect(p.state.stopsAt).toBeNull();
    // Start again: the count restarts.
    p.setEnabled(true);
    expect(p.state.decision.kind).toBe('run');
    expect(p.state.stopsAt).toBe(c.clock.now() + 30 * MIN);
  });

  it('applies a limit set while running to the time already spent', () => {
    const c = fakeClock();
    const p = createParticipation({ clock: c.clock, settings: { pauseOnBattery: false } });
    p.setEnabled(true);
    c.advance(20 * MIN);
    p.setStopAfterMinutes(15);
    expect(p.state.decision.kind).toBe('stopped');
    p.setEnabled(true);
    p.setStopAfterMinutes(45);
    c.advance(10 * MIN);
    p.setStopAfterMinutes(null);
    c.advance(60 * MIN);
    expect(p.state.decision.kind).toBe('run');
    expect(c.pending()).toBe(0);
  });

  it('keeps counting from a saved start after a reload', () => {
    const c = fakeClock();
    const startedAt = c.clock.now() - 50 * MIN;
    const resumed = createParticipation({ clock: c.clock, settings: { enabled: true, pauseOnBattery: false, stopAfterMinutes: 60 }, startedAt });
    expect(resumed.state.stopsAt).toBe(startedAt + 60 * MIN);
    const late = createParticipation({ clock: c.clock, settings: { enabled: true, pauseOnBattery: false, stopAfterMinutes: 40 }, startedAt });
    expect(late.state.decision.kind).toBe('stopped');
  });

  it('rejects a bad time limit with a typed error that names the value', () => {
    const p = createParticipation({ clock: fakeClock().clock });
    for (const bad of [0, -5, Number.NaN, Infinity, 20_000]) {
      expect(() => p.setStopAfterMinutes(bad)).toThrow(ParticipationError);
    }
    expect(() => p.setStopAfterMinutes(1.5)).not.toThrow();
    expect(() => createParticipation({ settings: { stopAfterMinutes: -1 } })).toThrow(/got -1/);
  });

  it('dispose aborts the run and stops watching the battery and the clock', () => {
    const c = fakeClock();
    const battery = fakeBattery();
    const p = createParticipation({ clock: c.clock, battery: battery.source, settings: { enabled: true, pauseOnBattery: false, stopAfterMinutes: 5 } });
    const signal = p.runSignal()!;
    p.dispose();
    expect(signal.aborted).toBe(true);
    expect(battery.stops()).toBe(1);
    expect(c.pending()).toBe(0);
  });
});

describe('browserBattery', () => {
  it('reports unsupported where navigator.getBattery is missing', () => {
    const seen: unknown[] = [];
    browserBattery({}).watch((s) => seen.push(s));
    browserBattery(undefined).watch((s) => seen.push(s));
    expect(seen).toEqual(['unsupported', 'unsupported']);
  });

  it('reports the battery and its changes, and stops listening', async () => {
    const manager = Object.assign(new EventTarget(), { charging: true, level: 0.5 });
    const seen: unknown[] = [];
    const stop = browserBattery({ getBattery: async () => manager }).watch((s) => seen.push(s));
    await Promise.resolve();
    await Promise.resolve();
    manager.charging = false;
    manager.dispatchEvent(new Event('chargingchange'));
    stop();
    manager.level = 0.4;
    manager.dispatchEvent(new Event('levelchange'));
    expect(seen).toEqual([
      { charging: true, level: 0.5 },
      { charging: false, level: 0.5 },
    ]);
  });

  it('reports unsupported when getBattery is refused', async () => {
    const seen: unknown[] = [];
    browserBattery({ getBattery: () => Promise.reject(new Error('not allowed')) }).watch((s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['unsupported']);
  });
});
