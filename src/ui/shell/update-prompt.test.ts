/** The update prompt never lets an update interrupt a Sprint (the e2e shell spec covers the update itself). */
import { describe, expect, it } from 'vitest';
import type { SprintStatus } from '../sprint/store.ts';
import { updateOffer } from './UpdatePrompt.tsx';

describe('updateOffer', () => {
  it('holds the update back while the GPU is busy with a Sprint, and offers it otherwise', () => {
    const busy: SprintStatus[] = ['preparing', 'running', 'stopping'];
    const free: SprintStatus[] = ['loading', 'idle', 'error'];
    for (const status of busy)
      expect(updateOffer(status)).toEqual({ canApply: false, message: expect.stringContaining('will not interrupt your running Sprint') });
    for (const status of free) expect(updateOffer(status).canApply).toBe(true);
  });
});
