import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLAY_LIMITS, ReplayCache } from './replay-cache.ts';

const WINDOW = 5 * 60_000;
const T0 = 1_700_000_000_000;

const key = (n: number, bytes = 32) => {
  const k = new Uint8Array(bytes);
  new DataView(k.buffer).setUint32(0, n);
  return k;
};

describe('replay cache', () => {
  it('keys on (sender, id): the same id from two senders is two messages', () => {
    const cache = new ReplayCache({ windowMs: WINDOW, ...DEFAULT_REPLAY_LIMITS });
    const id = key(7, 16);
    expect(cache.check(key(1), id, T0, T0)).toBe('new');
    expect(cache.check(key(2), id, T0, T0)).toBe('new');
    expect(cache.check(key(1), id, T0, T0)).toBe('replay');
    expect(cache.check(key(2), id, T0, T0)).toBe('replay');
  });

  it('100 000 other ids neither evict a live id nor let it be accepted again (default limits)', () => {
    const cache = new ReplayCache({ windowMs: WINDOW, ...DEFAULT_REPLAY_LIMITS });
    const victim = key(1);
    const victimId = key(1, 16);
    expect(cache.check(victim, victimId, T0, T0)).toBe('new');
    // 120 000 ids from 120 senders (1 000 each, under the per-sender quota), over 2 minutes.
    let now = T0;
    let refused = 0;
    for (let i = 0; i < 120_000; i++) {
      now = T0 + Math.floor(i / 1_000) * 1_000;
      if (cache.check(key(1_000 + Math.floor(i / 1_000)), key(i, 16), now, now) !== 'new') refused++;
    }
    expect(cache.size).toBeLessThanOrEqual(DEFAULT_REPLAY_LIMITS.maxEntries);
    // The victim's entry was the oldest and was dropped, but the floor now sits above its stamp.
    expect(cache.check(victim, victimId, T0, now)).toBe('below-floor');
    expect(refused).toBe(0);
  });

  it('refuses a sender past its quota, and no one else', () => {
    const cache = new ReplayCache({ windowMs: WINDOW, maxEntries: 100, maxPerSender: 4 });
    for (let i = 0; i < 4; i++) expect(cache.check(key(1), key(i, 16), T0, T0)).toBe('new');
    expect(cache.check(key(1), key(99, 16), T0, T0)).toBe('sender-full');
    expect(cache.check(key(2), key(99, 16), T0, T0)).toBe('new');
    // The sender's ids expire with the window, and its quota with them.
    expect(cache.check(key(1), key(100, 16), T0 + WINDOW + 1_000, T0 + WINDOW + 1_000)).toBe('new');
    expect(cache.senderCount).toBe(1);
  });

  it('forgets an entry once its stamp is outside the clock window, not before', () => {
    const cache = new ReplayCache({ windowMs: WINDOW, maxEntries: 100, maxPerSender: 100 });
    // A sender whose clock runs 4 minutes ahead: the entry must outlive its arrival by 9 minutes.
    const stamp = T0 + 4 * 60_000;
    expect(cache.check(key(1), key(1, 16), stamp, T0)).toBe('new');
    expect(cache.check(key(1), key(1, 16), stamp, stamp + WINDOW)).toBe('replay');
    expect(cache.size).toBe(1);
    expect(cache.check(key(2), key(2, 16), stamp + WINDOW + 1_000, stamp + WINDOW + 1_000)).toBe('new');
    expect(cache.size).toBe(1);
  });

  it('rejects nonsensical limits with a typed error', () => {
    expect(() => new ReplayCache({ windowMs: 0, maxEntries: 1, maxPerSender: 1 })).toThrow(RangeError);
    expect(() => new ReplayCache({ windowMs: 1, maxEntries: 0, maxPerSender: 1 })).toThrow(RangeError);
  });
});
