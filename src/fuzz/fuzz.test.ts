/**
 * The short fuzz run CI does: every target of `npm run fuzz` with a few thousand inputs (fewer for
 * the targets that verify signatures), and no untyped error. A failure prints the seed and inputs;
 * replay with `npm run fuzz -- --target NAME --seed SEED --runs N`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../codec/binary.ts';
import { runTarget, type FuzzTarget } from './harness.ts';
import { TARGETS } from './targets/index.ts';

const RUNS: Record<string, number> = { envelope: 800, 'sealed-box': 1500, 'rpc-server': 1500, keystore: 1500 };

describe('fuzz (short run)', () => {
  it('covers every decoder and validator the issue names', () => {
    expect(TARGETS.map((t) => t.name).sort()).toEqual([
      'address',
      'codec',
      'envelope',
      'frames',
      'keystore',
      'presence',
      'protocol',
      'rpc-server',
      'sealed-box',
    ]);
  });

  it('counts an error that is not one of the project classes as untyped, with its input', async () => {
    // A decoder that throws DecodeError on short input but RangeError when a byte is 0xff.
    const sloppy: FuzzTarget<Uint8Array> = {
      name: 'sloppy',
      covers: 'harness self-test',
      async setup() {
        return {
          arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }),
          run(bytes) {
            if (bytes.includes(0xff)) throw new RangeError('offset out of bounds');
            if (bytes.length < 4) throw new DecodeError('truncated');
            return 'accepted';
          },
        };
      },
    };
    const report = await runTarget(sloppy, { runs: 2000, seed: 1 });
    expect(report.inputs).toBe(2000);
    expect(report.untypedErrors).toBeGreaterThan(0);
    expect(report.typedRejections).toBeGreaterThan(0);
    expect(report.accepted + report.typedRejections + report.untypedErrors).toBe(2000);
    expect(report.examples[0]?.error).toBe('RangeError: offset out of bounds');
    expect(report.examples[0]?.input).toMatch(/ff/);
  });

  for (const target of TARGETS) {
    const runs = RUNS[target.name] ?? 3000;
    it(`${target.name}: ${runs} inputs, no untyped errors`, async () => {
      const report = await runTarget(target, { runs });
      expect(report.inputs).toBe(runs);
      // The structured inputs must get past the first checks: some are accepted, some refused.
      expect(report.accepted).toBeGreaterThan(0);
      expect(report.typedRejections).toBeGreaterThan(0);
      expect(report.untypedErrors, `seed ${report.seed}: ${JSON.stringify(report.examples, null, 2)}`).toBe(0);
    });
  }
});
