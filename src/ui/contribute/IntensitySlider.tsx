/** The duty-cycle slider: how much of the time the GPU works while contributing (keyboard: arrows, Page Up/Down, Home/End). */
import { useId } from 'react';
import { INTENSITY_PERCENT, intensityFromPercent, intensityValueText } from './format.ts';
import './contribute.css';

export interface IntensitySliderProps {
  /** 0.1 … 1. */
  readonly value: number;
  readonly onChange: (intensity: number) => void;
  readonly disabled?: boolean;
}

export function IntensitySlider({ value, onChange, disabled }: IntensitySliderProps) {
  const id = useId();
  const text = intensityValueText(value);
  return (
    <div className="intensity-slider">
      <label htmlFor={id}>Intensity</label>
      <input
        id={id}
        type="range"
        data-testid="intensity"
        min={INTENSITY_PERCENT.min}
        max={INTENSITY_PERCENT.max}
        step={INTENSITY_PERCENT.step}
        value={Math.round(value * 100)}
        aria-valuetext={text}
        aria-describedby={`${id}-help`}
        disabled={disabled}
        onChange={(e) => onChange(intensityFromPercent(Number(e.target.value)))}
      />
      <output htmlFor={id}>{text}</output>
      <span id={`${id}-help`} className="contribute-sr-only">
        Lower intensity keeps the device cooler and quieter and earns less; it takes effect after the current batch.
      </span>
    </div>
  );
}
