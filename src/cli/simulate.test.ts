import { describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('sprintnet simulate', () => {
  it('--json gives per epoch and host the state hash, weight, fraud flag, CU, certificate and weight per evaluated nonce', async () => {
    const r = await capture([
      'simulate',
      '--config',
      'tiny',
      '--hosts',
      '3',
      '--cheaters',
      'forged',
      '--epochs',
      '1',
      '--seed',
      '4',
      '--nonces',
      '32',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.simulation).toBe('cpu-backend');
    const [e0] = report.epochs;
    expect(e0.agreed).toBe(true);
    expect(e0.hosts.map((h: { name: string }) => h.name)).toEqual(['honest-0', 'honest-1', 'honest-2', 'forged']);
    for (const h of e0.hosts) {
      expect(h.stateHash).toMatch(/^[0-9a-f]{64}$/);
      expect(h.certificate).toBe('certified');
      expect(typeof h.weight).toBe('number');
      expect(typeof h.fraud).toBe('boolean');
      expect(typeof h.cuEpoch).toBe('number');
      expect(h).toHaveProperty('weightPerEvaluated');
    }
    const forged = e0.hosts[3];
    expect(forged.fraud).toBe(true);
    expect(forged.weightPerEvaluated).toBeNull();
  }, 60_000);

  it('refuses unknown cheaters and configs other than tiny with a clear message', async () => {
    const a = await capture(['simulate', '--cheaters', 'sneaky']);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/unknown cheater 'sneaky'/);
    const b = await capture(['simulate', '--config', 'canonical']);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/tiny config only/);
  });
});
