import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { evaluateNonce } from '../sprint/reference.ts';

const seedHex = 'ab'.repeat(32);
const keyHex = '01'.repeat(32);
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

describe('bin/sprintnet', () => {
  it('eval --json prints tokens, distance and appropriate as computed by the reference', () => {
    const out = execFileSync('node', ['bin/sprintnet', 'eval', '--config', 'tiny', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '42', '--json'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const want = evaluateNonce('tiny', hexBytes(seedHex), hexBytes(keyHex), 42);
    expect(JSON.parse(lines[0])).toEqual({ tokens: want.tokens, distance: want.distance, appropriate: want.appropriate });
  });

  it('bad input exits non-zero with a typed message and no stack trace', () => {
    const res = spawnSync('node', ['bin/sprintnet', 'eval', '--config', 'tiny', '--sprint-seed', 'abc', '--public-key', keyHex, '--nonce', '1'], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/SprintInputError: sprint seed must be 32 bytes/);
    const bad = spawnSync('node', ['bin/sprintnet', 'eval', '--config', 'nope', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '1'], { encoding: 'utf8' });
    expect(bad.stderr).toMatch(/unknown config 'nope'/);
    const neg = spawnSync('node', ['bin/sprintnet', 'eval', '--sprint-seed', seedHex, '--public-key', keyHex, '--nonce', '-1'], { encoding: 'utf8' });
    expect(neg.status).not.toBe(0);
  });

  it('audit --json prints the documented shape; bad arguments give a clear error', () => {
    const res = spawnSync('node', ['bin/sprintnet', 'audit', '--config', 'tiny', '--nonces', '600', '--train', '400', '--selected', '20', '--fractions', '0.5', '--screens', 'mean-screen', '--skip-low-precision', '--json'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout.trim());
    expect(report).toMatchObject({ spec_version: 2, config: 'tiny', nonces: 600 });
    const mean = report.attacks.find((a: { name: string }) => a.name === 'mean-screen');
    expect(mean).toMatchObject({ fraction: 0.5 });
    for (const key of ['advantage', 'ci_low', 'ci_high']) expect(typeof mean[key]).toBe('number');
    expect(mean.ci_low).toBeLessThanOrEqual(mean.advantage);
    expect(mean.ci_high).toBeGreaterThanOrEqual(mean.advantage);
    const bad = spawnSync('node', ['bin/sprintnet', 'audit', '--fractions', '2'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--fractions must lie in \(0, 1\]/);
  }, 120_000);

  it('an unknown command prints usage and exits 2', () => {
    const res = spawnSync('node', ['bin/sprintnet', 'frobnicate'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/unknown command/);
  });
});
