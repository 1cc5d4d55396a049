import { describe, expect, it } from 'vitest';
import { GpuError } from './errors.ts';
import { PUBLIC_KEY, nodeEngine } from './test-support.ts';

describe('device loss during a Sprint', () => {
  it('ends with a typed error that keeps the nonces found; a rebuilt engine resumes without losing any', async () => {
    const hitRate = 0.05; // many hits in few nonces
    const engine = await nodeEngine({ autotune: false, batch: 64 });
    let lostAt = -1;
    const error = await engine
      .runSprint({
        publicKey: PUBLIC_KEY,
        durationMs: 120_000,
        hitRate,
        onProgress: (p) => {
          if (lostAt < 0 && p.noncesTried >= 256) {
            lostAt = p.noncesTried;
            engine.device.device.destroy(); // what a driver reset or a GPU process crash looks like
          }
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    const lost = error as GpuError;
    expect(lost.code).toBe('DEVICE_LOST');
    // The batch queued behind the one that reported (two slots) may have finished before the loss
    // took effect: then it counts too. Nothing past what finished is claimed, nothing finished is lost.
    const next = lost.details.nextNonce!;
    expect([lostAt, lostAt + 64]).toContain(next);
    expect(lost.details.found!.length).toBeGreaterThan(0);
    expect(lost.details.found!.every((f) => f.nonce < next)).toBe(true);
    engine.destroy();

    const rebuilt = await nodeEngine({ autotune: false, batch: 64 });
    try {
      const resumed = await rebuilt.runSprint({
        publicKey: PUBLIC_KEY,
        hitRate,
        startNonce: lost.details.nextNonce,
        found: lost.details.found,
        maxNonces: 128,
      });
      expect(resumed.nextNonce).toBe(next + 128);
      // The union equals an uninterrupted Sprint over the same nonces.
      const straight = await rebuilt.runSprint({ publicKey: PUBLIC_KEY, hitRate, startNonce: 0, maxNonces: resumed.nextNonce });
      expect(resumed.found.map((f) => f.nonce)).toEqual(straight.found.map((f) => f.nonce));
    } finally {
      rebuilt.destroy();
    }
  });
});
