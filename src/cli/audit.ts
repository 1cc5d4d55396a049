/**
 * `sprintnet audit`: runs the attack suite (docs/sprint-audit.md) and prints each attack's
 * advantage over the honest engine with a 95% interval. Exits 1 when, on the current task
 * version, an attack's whole interval lies above 1 (a shortcut that clearly pays).
 */
import { runAudit } from '../audit/audit.ts';
import { getConfig } from '../sprint/config.ts';
import { TASK_VERSION, type TaskVersion } from '../sprint/seeds.ts';
import { parseCommandArgs } from './args.ts';

const positive = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`--${name} must be a positive integer, got '${value}'`);
  return n;
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, {
    config: { type: 'string', default: 'tiny' },
    nonces: { type: 'string' },
    train: { type: 'string' },
    selected: { type: 'string' },
    fractions: { type: 'string', default: '0.5,0.1,0.01' },
    screens: { type: 'string' },
    'spec-version': { type: 'string', default: String(TASK_VERSION) },
    'skip-low-precision': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const config = getConfig(args.config!);
  const big = config.layers > 8;
  const version = Number(args['spec-version']);
  if (version !== 1 && version !== 2) throw new RangeError(`--spec-version must be 1 or 2, got '${args['spec-version']}'`);
  const fractions = args.fractions!.split(',').map(Number);
  if (fractions.some((f) => !(f > 0 && f <= 1))) throw new RangeError(`--fractions must lie in (0, 1], got '${args.fractions}'`);
  const report = runAudit({
    config,
    version: version as TaskVersion,
    nonces: positive('nonces', args.nonces ?? (big ? '64' : '200000')),
    train: positive('train', args.train ?? (big ? '32' : '20000')),
    selected: positive('selected', args.selected ?? (big ? '20' : '20000')),
    fractions,
    screens: args.screens?.split(','),
    skipLowPrecision: args['skip-low-precision'],
    onProgress: (m) => process.stderr.write(`[audit ${((performance.now()) / 1000).toFixed(0)} s] ${m}\n`),
  });
  if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    const c = report.calibration;
    process.stdout.write(`task version ${report.spec_version}, ${report.config}: ${c.hits} hits in ${c.nonces} honest nonces (expected ${c.expected.toFixed(1)}, 99.9% interval [${c.interval.join(', ')}])\n`);
    for (const a of report.attacks) {
      process.stdout.write(`${a.name.padEnd(28)} fraction ${String(+a.fraction.toPrecision(3)).padEnd(8)} advantage ${a.advantage.toFixed(3)}  95% [${a.ci_low.toFixed(3)}, ${a.ci_high.toFixed(3)}]  (${a.method})\n`);
    }
    for (const d of report.deciles) process.stdout.write(`deciles of ${d.screen}: ${d.hits.join(' ')} within [${d.interval.join(', ')}]: ${d.within}\n`);
  }
  const clearlyAbove = report.spec_version === TASK_VERSION && report.attacks.some((a) => a.ci_low > 1);
  return clearlyAbove || !report.calibration.within ? 1 : 0;
}
