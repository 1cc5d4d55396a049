/**
 * The components rendered to HTML on the server (no DOM here: vitest runs in Node without jsdom),
 * to check their accessible markup. Effects do not run, so uPlot draws nothing; the browser tests
 * cover the live behaviour.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../../sprint/config.ts';
import { EarningsSummary } from './EarningsSummary.tsx';
import { FoundNoncesDetails, LISTED_FINDS } from './FoundNoncesDetails.tsx';
import { IntensitySlider } from './IntensitySlider.tsx';
import { ParticipationControls } from './ParticipationControls.tsx';
import { WorkChart } from './WorkChart.tsx';

const noop = () => {};
/** The opening tag of the element with this test id. */
const tag = (html: string, testId: string): string => html.match(new RegExp(`<[a-z]+ [^>]*data-testid="${testId}"[^>]*>`))?.[0] ?? '';

describe('contribute components (server-rendered markup)', () => {
  it('IntensitySlider: a labelled range in percent with a spoken value', () => {
    const html = renderToStaticMarkup(createElement(IntensitySlider, { value: 0.5, onChange: noop }));
    expect(html).toMatch(/<label for="([^"]+)">Intensity<\/label><input id="\1" type="range"/);
    const input = tag(html, 'intensity');
    for (const attr of ['min="10"', 'max="100"', 'step="5"', 'value="50"', 'aria-valuetext="50% — the GPU rests half the time"']) expect(input).toContain(attr);
  });

  it('ParticipationControls: the battery toggle is disabled and says why where the browser cannot tell', () => {
    const props = {
      pauseOnBattery: true,
      batteryLevel: null,
      stopAfterMinutes: 30,
      stopsAt: 1_000 + 12 * 60_000,
      reason: 'Contributing.',
      onPauseOnBatteryChange: noop,
      onStopAfterMinutesChange: noop,
      now: () => 1_000,
    };
    const unsupported = renderToStaticMarkup(createElement(ParticipationControls, { ...props, battery: 'unsupported' }));
    expect(tag(unsupported, 'pause-on-battery')).toContain('disabled=""');
    expect(tag(unsupported, 'pause-on-battery')).not.toContain('checked');
    expect(unsupported).toContain('Not supported by this browser');
    expect(unsupported).toContain('Stops in 12 min 00 s.');
    expect(tag(unsupported, 'stop-after-minutes')).toContain('value="30"');
    const onBattery = renderToStaticMarkup(
      createElement(ParticipationControls, { ...props, battery: 'on-battery', batteryLevel: 0.5, stopAfterMinutes: null, stopsAt: null }),
    );
    expect(tag(onBattery, 'pause-on-battery')).toContain('checked=""');
    expect(tag(onBattery, 'stop-after-minutes')).toContain('disabled=""');
    expect(onBattery).toContain('On battery, 50%.');
    expect(onBattery).not.toContain('Stops in');
  });

  it('FoundNoncesDetails: collapsed with no rows rendered; open, newest first, capped', () => {
    const found = Array.from({ length: LISTED_FINDS + 5 }, (_, i) => ({ nonce: 1000 + i, distance: 0.5 }));
    const closed = renderToStaticMarkup(createElement(FoundNoncesDetails, { found }));
    expect(closed).toMatch(/^<details class="found-nonces"[^>]*><summary>Finds this Sprint \(205\)<\/summary>/);
    expect(closed).not.toMatch(/<details[^>]* open/);
    // The screen re-renders several times a second in a Sprint: a folded list costs no rows.
    expect(closed).not.toContain('<tr>');
    const html = renderToStaticMarkup(createElement(FoundNoncesDetails, { found, defaultOpen: true }));
    expect(html).toMatch(/<details[^>]* open=""/);
    expect(html.match(/<tr>/g)).toHaveLength(LISTED_FINDS + 1);
    expect(html.indexOf('1,204')).toBeLessThan(html.indexOf('1,203'));
    expect(html).not.toContain('>1,004<');
  });

  it('EarningsSummary: labels the estimate as an estimate, and the ledger figure as credited', () => {
    const base = { config: CONFIGS.canonical, hitRateDenominator: 900, tried: 90_000, found: 100, elapsedMs: 125_000 };
    const estimate = renderToStaticMarkup(createElement(EarningsSummary, base));
    expect(estimate).toContain('90,000 tries in 2 min 05 s, 100 finds');
    expect(estimate).toMatch(/>Weight<\/a> this <a[^>]*>epoch<\/a> \(estimate\)/);
    expect(estimate).toContain('href="#/help/cu"');
    expect(estimate).toContain('0.44 CU');
    // Each figure says what its unit is: a first-time volunteer does not know weight or CU.
    expect(estimate).toContain('one per accepted find');
    expect(estimate).toContain('1 CU = 10^15 operations');
    const credited = renderToStaticMarkup(createElement(EarningsSummary, { ...base, credited: { weight: 97, cu: 0.42 } }));
    expect(credited).not.toContain('(estimate)');
    expect(credited).toContain('>97<');
  });

  it('WorkChart: an image with a summary label and a polite text alternative', () => {
    const samples = [
      { t: 60_000, noncesPerSecond: 500 },
      { t: 61_000, noncesPerSecond: 520 },
    ];
    const html = renderToStaticMarkup(createElement(WorkChart, { samples, windowMinutes: 1 }));
    expect(html).toContain('role="img" aria-label="Work per second over the last minute: now about 520 tries per second, on average 510, at most 520."');
    expect(html).toMatch(/aria-live="polite"[^>]*>Work per second over the last minute/);
  });
});
