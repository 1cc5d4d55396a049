/**
 * Pause on battery and stop after N minutes, with the time left. Plain props: the runtime holds a
 * `Participation` (src/app/participation.ts) and passes its state and setters down.
 */
import { useEffect, useId, useState } from 'react';
import type { BatteryState } from '../../app/participation.ts';
import { batteryText, formatDuration, parseStopAfter } from './format.ts';
import './contribute.css';

export interface ParticipationControlsProps {
  readonly pauseOnBattery: boolean;
  readonly battery: BatteryState;
  readonly batteryLevel: number | null;
  readonly stopAfterMinutes: number | null;
  /** When the time limit stops contributing (Date.now ms), or null. */
  readonly stopsAt: number | null;
  /** The participation's sentence: what happens and why. */
  readonly reason: string;
  readonly onPauseOnBatteryChange: (on: boolean) => void;
  readonly onStopAfterMinutesChange: (minutes: number | null) => void;
  /** The clock behind `stopsAt` (default Date.now). */
  readonly now?: () => number;
}

function useNow(active: boolean, now: () => number): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    if (!active) return;
    setT(now());
    const timer = setInterval(() => setT(now()), 1000);
    return () => clearInterval(timer);
  }, [active, now]);
  return t;
}

export function ParticipationControls(props: ParticipationControlsProps) {
  const { pauseOnBattery, battery, batteryLevel, stopAfterMinutes, stopsAt, reason } = props;
  const id = useId();
  const now = useNow(stopsAt !== null, props.now ?? Date.now);
  const [limitOn, setLimitOn] = useState(stopAfterMinutes !== null);
  const [text, setText] = useState(String(stopAfterMinutes ?? 60));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setLimitOn(stopAfterMinutes !== null);
    if (stopAfterMinutes !== null) setText(String(stopAfterMinutes));
  }, [stopAfterMinutes]);

  const commit = (on: boolean, value: string) => {
    if (!on) {
      setError(null);
      props.onStopAfterMinutesChange(null);
      return;
    }
    const parsed = parseStopAfter(value);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    props.onStopAfterMinutesChange(parsed.minutes);
  };
  const unsupported = battery === 'unsupported';

  return (
    <fieldset className="participation-controls" data-testid="participation-controls">
      <legend>When to contribute</legend>
      <p role="status" data-testid="participation-reason">
        {reason}
      </p>
      <div>
        <div className="row">
          <input
            id={`${id}-battery`}
            type="checkbox"
            data-testid="pause-on-battery"
            checked={pauseOnBattery && !unsupported}
            disabled={unsupported}
            aria-describedby={`${id}-battery-state`}
            onChange={(e) => props.onPauseOnBatteryChange(e.target.checked)}
          />
          <label htmlFor={`${id}-battery`}>Pause when on battery</label>
        </div>
        <span id={`${id}-battery-state`} className="note" data-testid="battery-state">
          {batteryText(battery, batteryLevel)}
        </span>
      </div>
      <div>
        <div className="row">
          <input
            id={`${id}-limit`}
            type="checkbox"
            data-testid="stop-after-on"
            checked={limitOn}
            onChange={(e) => {
              setLimitOn(e.target.checked);
              commit(e.target.checked, text);
            }}
          />
          <label htmlFor={`${id}-limit`}>Stop after</label>
          <input
            type="number"
            data-testid="stop-after-minutes"
            aria-label="Minutes before contributing stops"
            aria-invalid={error !== null}
            aria-describedby={error ? `${id}-limit-error` : undefined}
            min={1}
            step={1}
            inputMode="decimal"
            value={text}
            disabled={!limitOn}
            onChange={(e) => setText(e.target.value)}
            onBlur={() => commit(limitOn, text)}
            onKeyDown={(e) => e.key === 'Enter' && commit(limitOn, text)}
          />
          <span>minutes</span>
        </div>
        {error && (
          <span id={`${id}-limit-error`} className="note error" role="alert">
            {error}
          </span>
        )}
        {stopsAt !== null && (
          <span className="note" data-testid="time-left">
            Stops in {formatDuration(stopsAt - now)}.
          </span>
        )}
      </div>
    </fieldset>
  );
}
