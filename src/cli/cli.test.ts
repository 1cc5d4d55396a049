import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { evaluateNonce } from '../sprint/reference.ts';
import { commands, main, type Io } from './main.ts';
import { CliUsageError, parseChoice, parseCommandArgs, parseInteger, parseList, parseNumber } from './args.ts';
import { describeError } from './describe-error.ts';
import { demoHostThreads } from './start.ts';
import * as words from '../app/plain-words.ts';
import * as appFormat from '../ui/contribute/format.ts';

const seedHex = 'ab'.repeat(32);
const keyHex = '01'.repeat(32);
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
/** A class name used as a prefix, as in "TypeError: …" or "SprintInputError: …". */
const CLASS_PREFIX = /\b[A-Z]\w*(Error|Exception): /;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('bin/sprintnet', () => {
  it('eval --json prints tokens, distance and appropriate as computed by the reference', () => {
    const out = execFileSync(
      'node',
      ['bin/sprintnet', 'eval', '--config', 'tiny', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '42', '--json'],
      { encoding: 'utf8' },
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const want = evaluateNonce('tiny', hexBytes(seedHex), hexBytes(keyHex), 42);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ tokens: want.tokens, distance: want.distance, appropriate: want.appropriate });
  });

  it('bad input exits non-zero with one sentence, the value typed, no class name and no stack trace', () => {
    const res = spawnSync('node', ['bin/sprintnet', 'eval', '--config', 'tiny', '--sprint-seed', 'abc', '--public-key', keyHex, '--nonce', '1'], {
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe("sprintnet eval: sprint seed must be 32 bytes of hex (64 hex digits), got 'abc'.\n");
    const bad = spawnSync('node', ['bin/sprintnet', 'eval', '--config', 'nope', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '1'], {
      encoding: 'utf8',
    });
    expect(bad.stderr).toMatch(/^sprintnet eval: unknown config 'nope' \(known: canonical, tiny\)\.$/m);
    const fraction = spawnSync('node', ['bin/sprintnet', 'eval', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '1.5'], { encoding: 'utf8' });
    expect(fraction.status).toBe(2);
    expect(fraction.stderr).toMatch(/^sprintnet eval: --nonce must be a whole number of at least 0, but was given '1\.5'\.$/m);
    for (const r of [res, bad, fraction]) {
      expect(r.stderr).not.toMatch(CLASS_PREFIX);
      expect(r.stderr).not.toMatch(/NaN|\n\s+at /);
    }
  });

  it('audit --json prints the documented shape; bad arguments give a clear error', () => {
    const res = spawnSync(
      'node',
      [
        'bin/sprintnet',
        'audit',
        '--config',
        'tiny',
        '--nonces',
        '600',
        '--train',
        '400',
        '--selected',
        '20',
        '--fractions',
        '0.5',
        '--screens',
        'mean-screen',
        '--skip-low-precision',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout.trim());
    expect(report).toMatchObject({ spec_version: 2, config: 'tiny', nonces: 600 });
    const mean = report.attacks.find((a: { name: string }) => a.name === 'mean-screen');
    expect(mean).toMatchObject({ fraction: 0.5 });
    for (const key of ['advantage', 'ci_low', 'ci_high']) expect(typeof mean[key]).toBe('number');
    expect(mean.ci_low).toBeLessThanOrEqual(mean.advantage);
    expect(mean.ci_high).toBeGreaterThanOrEqual(mean.advantage);
    const bad = spawnSync('node', ['bin/sprintnet', 'audit', '--fractions', '2'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/each fraction in --fractions must be a number above 0 and at most 1, but was given '2'/);
  }, 120_000);

  it('--help through bin/sprintnet prints the options and starts nothing', () => {
    const res = spawnSync('node', ['bin/sprintnet', 'host', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^usage: sprintnet host \[options\]\n/);
    expect(res.stdout).toMatch(/--genesis PATH/);
    expect(res.stderr).toBe('');
  });
});

describe('sprintnet <command> --help', () => {
  it.each(Object.keys(commands))('%s lists every option of its table with its help, default and placeholder', async (name) => {
    const command = commands[name]!;
    const module = await command.load();
    const { code, out, err } = await run([name, '--help']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out.startsWith(`usage: sprintnet ${name}`)).toBe(true);
    const entries = Object.entries(module.options);
    expect(entries.length).toBeGreaterThan(0);
    for (const [option, spec] of entries) {
      const line = out.split('\n').find((l) => l.trimStart().startsWith(`--${option} `));
      expect(line, `--${option} in ${name} --help`).toBeDefined();
      expect(line).toContain(spec.help);
      if (spec.type === 'string') {
        expect(line).toContain(`--${option} ${spec.value}`);
        if (spec.default) expect(line).toContain(`default: ${spec.default}`);
      }
    }
    expect(out).toMatch(/-h, --help {2,}show this help/);
    // -h and `sprintnet help <command>` say the same.
    expect((await run([name, '-h'])).out).toBe(out);
    expect((await run(['help', name])).out).toBe(out);
  });

  it('the command list names every command and how to get its help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const name of Object.keys(commands)) expect(out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(out).toMatch(/sprintnet <command> --help/);
    const none = await run([]);
    expect(none.code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toMatch(/^sprintnet: there is no command 'frobnicate'\./);
  });
});

describe('command-line errors', () => {
  /** Each case: argv, then the whole first line of stderr. */
  const cases: Array<[string[], string]> = [
    [['eval', '--nonse', '1'], "sprintnet eval: there is no option '--nonse'."],
    [['eval', '-x'], "sprintnet eval: there is no option '-x'."],
    [['eval', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce'], 'sprintnet eval: --nonce needs a value: --nonce N.'],
    [['eval', '--sprint-seed', seedHex, '--public-key', keyHex], 'sprintnet eval: --nonce is required: --nonce N.'],
    [['eval', '--nonce', '1', '--nonce', '2'], "sprintnet eval: --nonce was given twice ('1' and '2'); give it once."],
    [['eval', '--json=yes'], "sprintnet eval: --json takes no value, but was given 'yes'."],
    [['eval', 'tiny'], "sprintnet eval: 'tiny' is not an option of this command (options start with --)."],
    [
      ['eval', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '1e3'],
      "sprintnet eval: --nonce must be a whole number of at least 0, but was given '1e3'.",
    ],
    [['relay', '--port', '70000'], "sprintnet relay: --port must be a whole number from 0 to 65535, but was given '70000'."],
    [['start', '--hosts', 'two'], "sprintnet start: --hosts must be a whole number from 0 to 16, but was given 'two'."],
    [['simulate', '--hosts', '0'], "sprintnet simulate: --hosts must be a whole number of at least 1, but was given '0'."],
    [['simulate', '--scale', '10,,100'], "sprintnet simulate: --scale must be a comma-separated list with no empty items, but was given '10,,100'."],
    [['simulate', '--scale', '10,x'], "sprintnet simulate: each size in --scale must be a whole number of at least 2, but was given 'x'."],
    [['audit', '--spec-version', '3'], "sprintnet audit: --spec-version must be 1 or 2, but was given '3'."],
    [['make-test-model', '--layers', '2'], 'sprintnet make-test-model: --out is required: --out DIR.'],
    [['make-test-model', '--out', '/nonexistent/x', '--dtype', 'f8'], "sprintnet make-test-model: --dtype must be bf16, f16 or f32, but was given 'f8'."],
    [
      ['infer', '--model', '/nonexistent', '--prompt', 'hi', '--top-p', '0'],
      "sprintnet infer: --top-p must be a number above 0 and at most 1, but was given '0'.",
    ],
    [['host', '--sprint-ms', '-5'], "sprintnet host: --sprint-ms must be a whole number of at least 1, but was given '-5'."],
    [['host', '--backend', 'gpu'], "sprintnet host: --backend must be auto, webgpu or cpu, but was given 'gpu'."],
  ];

  it.each(cases)('%j', async (argv, firstLine) => {
    const { code, out, err } = await run(argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    const [line, hint] = err.split('\n');
    expect(line).toBe(firstLine);
    expect(hint).toBe(`Run 'sprintnet ${argv[0]} --help' to see its options.`);
    expect(err).not.toMatch(CLASS_PREFIX);
  });

  it('an error from inside a command is a sentence without its class name; a bug says how to see the stack', () => {
    expect(describeError(new RangeError('offset out of bounds'), {})).toBe('offset out of bounds.');
    expect(describeError(new Error('Error: wrapped twice'), {})).toBe('wrapped twice.');
    const bug = describeError(new TypeError("Cannot read properties of undefined (reading 'x')"), {});
    expect(bug).toBe(
      "Cannot read properties of undefined (reading 'x'). This is a bug in sprintnet; run again with SPRINTNET_DEBUG=1 to see where it happened.",
    );
    expect(describeError(new TypeError('boom'), { SPRINTNET_DEBUG: '1' })).toMatch(/\n\s+at /);
    expect(describeError('plain text', {})).toBe('plain text.');
  });
});

describe('option parsing helpers', () => {
  it('parseInteger takes decimal whole numbers in range only and echoes what it refuses', () => {
    expect(parseInteger('42', '--n')).toBe(42);
    expect(parseInteger('-3', '--n', { min: -5 })).toBe(-3);
    for (const text of ['1.5', '1e3', '0x10', '', ' ', 'NaN', 'Infinity', '9007199254740993', '12abc']) {
      expect(() => parseInteger(text, '--n'), text).toThrow(CliUsageError);
    }
    try {
      parseInteger('7', '--n', { max: 5 });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'BAD_VALUE', option: '--n', value: '7', message: "--n must be a whole number of at most 5, but was given '7'" });
    }
  });

  it('demo hosts share the cores with each other and the page, one thread at least', () => {
    expect(demoHostThreads(2, 2)).toBe(1); // this machine: two hosts and the page on 2 cores
    expect(demoHostThreads(16, 2)).toBe(5);
    expect(demoHostThreads(8, 1)).toBe(4);
    expect(demoHostThreads(1, 16)).toBe(1);
  });

  it('parseNumber, parseChoice and parseList', () => {
    expect(parseNumber('0.25', '--p', { min: 0, aboveMin: true, max: 1 })).toBe(0.25);
    expect(() => parseNumber('0', '--p', { min: 0, aboveMin: true })).toThrow("--p must be a number above 0, but was given '0'");
    expect(() => parseNumber('abc', '--t', { min: 0 })).toThrow("--t must be a number of at least 0, but was given 'abc'");
    expect(parseChoice('cpu', '--backend', ['auto', 'webgpu', 'cpu'])).toBe('cpu');
    expect(() => parseChoice('gpu', '--backend', ['auto', 'webgpu', 'cpu'])).toThrow("--backend must be auto, webgpu or cpu, but was given 'gpu'");
    expect(parseList('1, 2,3', '--xs', (s) => parseInteger(s, 'each x'))).toEqual([1, 2, 3]);
  });

  it('parseCommandArgs applies defaults, keeps repeated values in order and refuses what the table lacks', () => {
    const table = {
      port: { type: 'string', value: 'N', default: '9090', help: 'port' },
      relay: { type: 'string', value: 'ADDR', multiple: true, help: 'relay' },
      json: { type: 'boolean', help: 'json' },
    } as const;
    expect(parseCommandArgs([], table)).toEqual({ port: '9090', relay: undefined, json: false });
    expect(parseCommandArgs(['--relay', 'a', '--relay=b', '--json', '--port', '1'], table)).toEqual({ port: '1', relay: ['a', 'b'], json: true });
    expect(() => parseCommandArgs(['--help'], table)).toThrow("there is no option '--help'");
  });
});

describe("the host's words", () => {
  it('format counts, rates and durations exactly as the app does', () => {
    for (const n of [0, 1, 999, 1234, 1_234_567.4]) expect(words.formatCount(n)).toBe(appFormat.formatCount(n));
    for (const r of [0, -1, NaN, 0.0042, 0.42, 9.99, 12.34, 99.5, 150, 12_345.6]) expect(words.formatRate(r)).toBe(appFormat.formatRate(r));
    for (const ms of [0, 999, 45_000, 59_001, 60_000, 725_000, 3_599_000, 3_600_000, 7_380_000])
      expect(words.formatDuration(ms)).toBe(appFormat.formatDuration(ms));
  });

  it('say tries and finds, in the singular when there is one', () => {
    expect(words.workSummary(12_345, 3, 65_000, 189.9)).toBe('12,345 tries in 1 min 05 s, 3 finds, 190 tries per second');
    expect(words.workSummary(1, 1, 400, 2.5)).toBe('1 try in 1 s, 1 find, 2.5 tries per second');
    expect(words.connectionWords('relayed')).toBe('through relay');
    expect(words.connectionWords('webrtc')).toBe('direct');
    expect(words.relayWords('waiting')).toMatch(/^not connected to the network/);
    expect(words.shortId('12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp')).toBe('12D3KooW…c6iDEp');
  });
});
