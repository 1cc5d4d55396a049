/**
 * Work per second over the last minutes, drawn by uPlot. The canvas says nothing to a screen
 * reader, so the figure carries a summary as its label and a visually hidden sentence that is
 * announced politely, at most every ANNOUNCE_EVERY_MS (a rate that changes every second would
 * otherwise talk over everything else).
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatRate, secondsAgoLabel, summarizeWork, windowSamples, type WorkSample } from './format.ts';
import './contribute.css';

const HEIGHT = 160;
const ANNOUNCE_EVERY_MS = 30_000;

export interface WorkChartProps {
  /** Oldest first; t in Date.now() ms. */
  readonly samples: readonly WorkSample[];
  readonly windowMinutes?: number;
  /** The right edge of the chart (default: the newest sample, or now). */
  readonly now?: number;
}

/** x is seconds before the right edge (≤ 0), so the axis reads "2 min ago … now" rather than clock times. */
function chartData(samples: readonly WorkSample[], now: number, windowMs: number): uPlot.AlignedData {
  const shown = windowSamples(samples, now, windowMs);
  return [shown.map((s) => (s.t - now) / 1000), shown.map((s) => s.noncesPerSecond)];
}

export function WorkChart({ samples, windowMinutes = 5, now }: WorkChartProps) {
  const windowMs = windowMinutes * 60_000;
  const right = now ?? samples.at(-1)?.t ?? Date.now();
  const summary = summarizeWork(samples, right, windowMs);
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const windowSeconds = useRef(windowMs / 1000);
  windowSeconds.current = windowMs / 1000;
  const [announced, setAnnounced] = useState({ text: summary, at: right });

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: () => [-windowSeconds.current, 0] }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [
        {
          stroke: '#94a3b8',
          grid: { stroke: '#334155', width: 1 },
          ticks: { stroke: '#334155' },
          incrs: [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600],
          // Labels such as "4:30 ago" are ~60 px wide: uPlot's default 50 px spacing overlapped them on a phone.
          space: 80,
          values: (_u, ticks) => ticks.map(secondsAgoLabel),
        },
        {
          stroke: '#94a3b8',
          grid: { stroke: '#334155', width: 1 },
          ticks: { stroke: '#334155' },
          size: 56,
          values: (_u, ticks) => ticks.map((v) => formatRate(v)),
        },
      ],
      series: [{}, { label: 'tries per second', stroke: '#60a5fa', width: 2, fill: 'rgba(96, 165, 250, 0.15)', points: { show: false } }],
    };
    const chart = new uPlot(opts, [[], []], el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(chartData(samples, right, windowMs));
  }, [samples, right, windowMs]);

  useEffect(() => {
    if (summary !== announced.text && right - announced.at >= ANNOUNCE_EVERY_MS) setAnnounced({ text: summary, at: right });
  }, [summary, right, announced]);

  return (
    <figure className="work-chart" data-testid="work-chart">
      <figcaption>Work per second, last {windowMinutes} minutes</figcaption>
      <div className="work-chart-plot" ref={host} role="img" aria-label={summary} />
      <p className="contribute-sr-only" aria-live="polite" data-testid="work-chart-summary">
        {announced.text}
      </p>
    </figure>
  );
}
