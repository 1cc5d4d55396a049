/**
 * `sprintnet audit`: runs the attack suite (docs/sprint-audit.md) and prints each attack's
 * advantage over the honest engine with a 95% interval. Exits 1 when, on the current task
 * version, an attack's whole interval lies above 1 (a shortcut that clearly pays).
 */
import { runAudit } from '../audit/audit.ts';
import { getConfig } from '../sprint/config.ts';
import { TASK_VERSION, type TaskVersion } from '../sprint/seeds.ts';
import { defineOptions, parseChoice, parseCommandArgs, parseInteger, parseList, parseNumber } from './args.ts';

export const options = defineOptions({
  config: { type: 'string', value: 'NAME', default: 'tiny', help: 'the model: tiny or canonical' },
  nonces: { type: 'string', value: 'N', help: 'honest nonces for the calibration and the screens (default: 200000 on tiny, 64 on canonical)' },
  train: { type: 'string', value: 'N', help: 'nonces the screens learn from (default: 20000 on tiny, 32 on canonical)' },
  selected: { type: 'string', value: 'N', help: 'nonces each screen selects to run in full (default: 20000 on tiny, 20 on canonical)' },
  fractions: { type: 'string', value: 'F,F,…', default: '0.5,0.1,0.01', help: 'fractions of the nonces each screen keeps, each above 0 and at most 1' },
  screens: { type: 'string', value: 'NAME,…', help: 'run only these screens (default: all)' },
  'spec-version': { type: 'string', value: 'V', default: String(TASK_VERSION), help: 'task version to attack: 1 (superseded) or 2' },
  'skip-low-precision': { type: 'boolean', help: 'leave out the low-precision attacks (the slowest part)' },
  json: { type: 'boolean', help: 'print the report as one JSON record' },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  const config = getConfig(args.config);
  const big = config.layers > 8;
  const version: TaskVersion = parseChoice(args['spec-version'], '--spec-version', ['1', '2']) === '1' ? 1 : 2;
  const fractions = parseList(args.fractions, '--fractions', (f) => parseNumber(f, 'each fraction in --fractions', { min: 0, aboveMin: true, max: 1 }));
  const count = (text: string | undefined, flag: string, fallback: number) => (text === undefined ? fallback : parseInteger(text, flag, { min: 1 }));
  const report = runAudit({
    config,
    version,
    nonces: count(args.nonces, '--nonces', big ? 64 : 200_000),
    train: count(args.train, '--train', big ? 32 : 20_000),
    selected: count(args.selected, '--selected', big ? 20 : 20_000),
    fractions,
    screens: args.screens === undefined ? undefined : parseList(args.screens, '--screens', (name) => name),
    skipLowPrecision: args['skip-low-precision'],
    onProgress: (m) => process.stderr.write(`[audit ${(performance.now() / 1000).toFixed(0)} s] ${m}\n`),
  });
  if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    const c = report.calibration;
    process.stdout.write(
      `task version ${report.spec_version}, ${report.config}: ${c.hits} hits in ${c.nonces} honest nonces (expected ${c.expected.toFixed(1)}, 99.9% interval [${c.interval.join(', ')}])\n`,
    );
    for (const a of report.attacks) {
      process.stdout.write(
        `${a.name.padEnd(28)} fraction ${String(+a.fraction.toPrecision(3)).padEnd(8)} advantage ${a.advantage.toFixed(3)}  95% [${a.ci_low.toFixed(3)}, ${a.ci_high.toFixed(3)}]  (${a.method})\n`,
      );
    }
    for (const d of report.deciles) process.stdout.write(`deciles of ${d.screen}: ${d.hits.join(' ')} within [${d.interval.join(', ')}]: ${d.within}\n`);
  }
  const clearlyAbove = report.spec_version === TASK_VERSION && report.attacks.some((a) => a.ci_low > 1);
  return clearlyAbove || !report.calibration.within ? 1 : 0;
}
