import { describe, expect, it } from 'vitest';
import { firstSeen } from './log-once.ts';

describe('firstSeen', () => {
  it('says yes once per key, again when its value changes, and forgets past its limit', () => {
    const first = firstSeen(3);
    expect([first('a'), first('a'), first('b', 'host'), first('b', 'host'), first('b', 'page')]).toEqual([true, false, true, false, true]);
    expect([first('c'), first('d'), first('a')]).toEqual([true, true, true]); // 'd' filled it past 3: forgotten, so 'a' is new again
  });
});
