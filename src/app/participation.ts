/**
 * When this device contributes (issue 11, "Contribute"): participation on or off (the one
 * Start/Stop), pause while on battery (the Battery API where the browser has it), and stop after N
 * minutes. It decides; the runtime obeys: it runs Sprints only while the decision is 'run', and
 * hands the engine `runSignal()`, which aborts the moment the decision leaves 'run', so a Stop
 * halts GPU work at once. Pure logic over an injected clock and battery source.
 *
 * The time limit counts wall-clock minutes from Start, paused time included: "stop after an hour"
 * means an hour from now. Reaching it turns participation off, so a reload does not resume.
 */
import type { Clock } from '../protocol/interfaces.ts';
import { systemClock } from './clock.ts';

export interface BatteryStatus {
  /** False only when the device runs on its battery; a desktop with no battery reports true. */
  readonly charging: boolean;
  /** 0 … 1. */
  readonly level: number;
}

/** Reports the battery now and on every change, or 'unsupported' once; returns a stop function. */
export interface BatterySource {
  watch(onStatus: (status: BatteryStatus | 'unsupported') => void): () => void;
}

export type BatteryState = 'checking' | 'unsupported' | 'plugged-in' | 'on-battery';

export interface ParticipationSettings {
  readonly enabled: boolean;
  readonly pauseOnBattery: boolean;
  /** null: no time limit. */
  readonly stopAfterMinutes: number | null;
}

export type Decision =
  | { readonly kind: 'run' }
  | { readonly kind: 'paused'; readonly cause: 'on-battery' | 'checking-battery' }
  | { readonly kind: 'stopped'; readonly cause: 'time-limit' }
  | { readonly kind: 'off' };

export interface ParticipationState {
  readonly settings: ParticipationSettings;
  readonly battery: BatteryState;
  readonly batteryLevel: number | null;
  readonly decision: Decision;
  /** One sentence for the volunteer: what happens and why. */
  readonly reason: string;
  /** When Start was pressed (clock ms); null while off. Persist it to keep the limit across a reload. */
  readonly startedAt: number | null;
  /** When the time limit stops contributing (clock ms); null without a limit or while off. */
  readonly stopsAt: number | null;
}

export const DEFAULT_PARTICIPATION: ParticipationSettings = { enabled: false, pauseOnBattery: true, stopAfterMinutes: null };
/** A week: beyond that, "no limit" says it better. */
export const MAX_STOP_AFTER_MINUTES = 7 * 24 * 60;

export class ParticipationError extends Error {
  override readonly name = 'ParticipationError';
  readonly code = 'BAD_SETTING';
}

export function checkStopAfterMinutes(minutes: unknown): number | null {
  if (minutes === null) return null;
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_STOP_AFTER_MINUTES) {
    throw new ParticipationError(
      `stop after must be a number of minutes above 0 and at most ${MAX_STOP_AFTER_MINUTES} (a week), or no limit; got ${String(minutes)}`,
    );
  }
  return minutes;
}

export interface Participation {
  readonly state: ParticipationState;
  /** Start (true) or Stop (false). Start restarts the time limit's count. */
  setEnabled(on: boolean): void;
  setPauseOnBattery(on: boolean): void;
  setStopAfterMinutes(minutes: number | null): void;
  /** Aborted as soon as the decision stops being 'run'; null while it is not 'run'. */
  runSignal(): AbortSignal | null;
  /** Stops watching the battery and the clock, and aborts any run. */
  dispose(): void;
}

export interface ParticipationOptions {
  readonly clock?: Clock;
  readonly battery?: BatterySource;
  /** Saved settings; a saved `startedAt` keeps the time limit counting from the first Start. */
  readonly settings?: Partial<ParticipationSettings>;
  readonly startedAt?: number | null;
  readonly onChange?: (state: ParticipationState) => void;
}

const minutesText = (m: number) => (m === 1 ? '1 minute' : `${Number.isInteger(m) ? m : m.toFixed(1)} minutes`);

function decide(settings: ParticipationSettings, battery: BatteryState, stoppedByLimit: boolean): Decision {
  if (stoppedByLimit) return { kind: 'stopped', cause: 'time-limit' };
  if (!settings.enabled) return { kind: 'off' };
  if (settings.pauseOnBattery && battery === 'on-battery') return { kind: 'paused', cause: 'on-battery' };
  if (settings.pauseOnBattery && battery === 'checking') return { kind: 'paused', cause: 'checking-battery' };
  return { kind: 'run' };
}

function explain(decision: Decision, settings: ParticipationSettings, battery: BatteryState, level: number | null): string {
  const percent = level === null ? '' : ` (${Math.round(level * 100)}%)`;
  switch (decision.kind) {
    case 'off':
      return 'Not contributing. Press Start to let your GPU work for the network.';
    case 'stopped':
      return `Stopped after ${minutesText(settings.stopAfterMinutes ?? 0)}, the time limit you set. Press Start to contribute again.`;
    case 'paused':
      return decision.cause === 'on-battery'
        ? `Paused: this device is running on its battery${percent}. Contributing resumes by itself when it is plugged in.`
        : 'Paused for a moment: checking whether this device is plugged in.';
    case 'run':
      if (settings.pauseOnBattery && battery === 'unsupported') {
        return 'Contributing. This browser does not say whether the device is on battery, so "pause on battery" cannot work here.';
      }
      return settings.pauseOnBattery ? 'Contributing while this device is plugged in.' : 'Contributing: your GPU is working for the network.';
  }
}

export function createParticipation(options: ParticipationOptions = {}): Participation {
  const clock = options.clock ?? systemClock;
  let settings: ParticipationSettings = { ...DEFAULT_PARTICIPATION, ...options.settings };
  checkStopAfterMinutes(settings.stopAfterMinutes);
  let startedAt = settings.enabled ? (options.startedAt ?? clock.now()) : null;
  let battery: BatteryState = options.battery ? 'checking' : 'unsupported';
  let level: number | null = null;
  let stoppedByLimit = false;
  let run: AbortController | null = null;
  let cancelTimer: (() => void) | null = null;
  let disposed = false;
  let state!: ParticipationState;

  const stopsAt = () => (settings.enabled && startedAt !== null && settings.stopAfterMinutes !== null ? startedAt + settings.stopAfterMinutes * 60_000 : null);

  const update = (notify = true) => {
    if (disposed) return;
    let end = stopsAt();
    if (end !== null && clock.now() >= end) {
      // The limit ends participation itself, so a saved `enabled` does not resume after a reload.
      settings = { ...settings, enabled: false };
      startedAt = null;
      stoppedByLimit = true;
      end = null;
    }
    const decision = decide(settings, battery, stoppedByLimit);
    if (decision.kind === 'run' && !run) run = new AbortController();
    if (decision.kind !== 'run' && run) {
      run.abort();
      run = null;
    }
    cancelTimer?.();
    cancelTimer = end === null ? null : clock.setTimer(end, () => update());
    state = { settings, battery, batteryLevel: level, decision, reason: explain(decision, settings, battery, level), startedAt, stopsAt: end };
    if (notify) options.onChange?.(state);
  };

  update(false);
  const stopWatching = options.battery?.watch((status) => {
    if (status === 'unsupported') {
      battery = 'unsupported';
      level = null;
    } else {
      battery = status.charging ? 'plugged-in' : 'on-battery';
      level = status.level;
    }
    update();
  });

  return {
    get state() {
      return state;
    },
    setEnabled(on) {
      if (on === settings.enabled && !(on && stoppedByLimit)) return;
      stoppedByLimit = false;
      startedAt = on ? clock.now() : null;
      settings = { ...settings, enabled: on };
      update();
    },
    setPauseOnBattery(on) {
      settings = { ...settings, pauseOnBattery: on };
      update();
    },
    setStopAfterMinutes(minutes) {
      settings = { ...settings, stopAfterMinutes: checkStopAfterMinutes(minutes) };
      update();
    },
    runSignal: () => run?.signal ?? null,
    dispose() {
      run?.abort();
      run = null;
      cancelTimer?.();
      stopWatching?.();
      disposed = true;
    },
  };
}

interface BatteryManagerLike extends EventTarget {
  readonly charging: boolean;
  readonly level: number;
}

/** The Battery API (`navigator.getBattery`, Chromium only); 'unsupported' where it is missing or refused. */
export function browserBattery(nav: unknown = globalThis.navigator): BatterySource {
  return {
    watch(onStatus) {
      const getBattery = (nav as { getBattery?: () => Promise<BatteryManagerLike> } | undefined)?.getBattery;
      if (typeof getBattery !== 'function') {
        onStatus('unsupported');
        return () => {};
      }
      let stopped = false;
      let unlisten = () => {};
      getBattery.call(nav).then(
        (manager) => {
          if (stopped) return;
          const emit = () => onStatus({ charging: manager.charging, level: manager.level });
          manager.addEventListener('chargingchange', emit);
          manager.addEventListener('levelchange', emit);
          unlisten = () => {
            manager.removeEventListener('chargingchange', emit);
            manager.removeEventListener('levelchange', emit);
          };
          emit();
        },
        () => !stopped && onStatus('unsupported'),
      );
      return () => {
        stopped = true;
        unlisten();
      };
    },
  };
}
