/**
 * `npm run fuzz [-- --runs N] [--target a,b] [--seed N] [--json]`: fast-check over every decoder and
 * validator (src/fuzz/targets), at least 10^5 inputs per target by default. Prints, per target, the
 * inputs tried, how many were accepted, typed rejections, untyped errors and the slowest input;
 * exits 1 if any target had an untyped error (with the first few inputs that caused one).
 */
import '../node/polyfills.ts';
import { parseArgs } from 'node:util';
import { runTarget, type TargetReport } from './harness.ts';
import { TARGETS } from './targets/index.ts';

const DEFAULT_RUNS = 100_000;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      target: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npm run fuzz -- [--runs N] [--target ${TARGETS.map((t) => t.name).join(',')}] [--seed N] [--json]\n`);
    return 0;
  }
  const runs = values.runs === undefined ? DEFAULT_RUNS : Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs <= 0) throw new RangeError(`--runs must be a positive integer, got '${values.runs}'`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new RangeError(`--seed must be an integer, got '${values.seed}'`);
  const wanted = values.target?.split(',').map((s) => s.trim()) ?? TARGETS.map((t) => t.name);
  const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
  if (unknown.length) throw new RangeError(`unknown target(s) ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`);

  const reports: TargetReport[] = [];
  for (const target of TARGETS.filter((t) => wanted.includes(t.name))) {
    const report = await runTarget(target, { runs, seed });
    reports.push(report);
    if (!values.json) process.stderr.write(`${line(report)}\n`);
  }
  const untyped = reports.reduce((n, r) => n + r.untypedErrors, 0);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ runs, reports, untypedErrors: untyped }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${table(reports)}\n\ntyped rejections by kind:\n`);
    for (const r of reports) {
      const kinds = Object.entries(r.rejections).sort((a, b) => b[1] - a[1]);
      process.stdout.write(`  ${r.target}: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
    }
    for (const r of reports) {
      for (const ex of r.examples) process.stdout.write(`\nUNTYPED in ${r.target} (seed ${r.seed}): ${ex.error}\n  input: ${ex.input}\n`);
    }
    process.stdout.write(untyped === 0 ? '\nuntyped errors: 0\n' : `\nuntyped errors: ${untyped}\n`);
  }
  return untyped === 0 ? 0 : 1;
}

function line(r: TargetReport): string {
  return `${r.target}: ${r.inputs} inputs, ${r.typedRejections} typed rejections, ${r.untypedErrors} untyped errors, slowest ${r.slowestMs.toFixed(1)} ms, ${(r.totalMs / 1000).toFixed(1)} s (seed ${r.seed})`;
}

function table(reports: TargetReport[]): string {
  const head = ['target', 'inputs', 'accepted', 'typed rejections', 'untyped errors', 'slowest (ms)', 'total (s)', 'seed'];
  const rows = reports.map((r) => [
    r.target,
    String(r.inputs),
    String(r.accepted),
    String(r.typedRejections),
    String(r.untypedErrors),
    r.slowestMs.toFixed(1),
    (r.totalMs / 1000).toFixed(1),
    String(r.seed),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

process.exitCode = await main(process.argv.slice(2));
