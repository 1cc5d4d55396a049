import { describe, expect, it } from 'vitest';
import { GpuError } from '../../gpu/errors.ts';
import { StorageError } from '../../wallet/index.ts';
import { describeError } from './store.ts';

describe('Sprint view error messages', () => {
  it('names each engine failure the volunteer can act on', () => {
    expect(describeError(new GpuError('NO_WEBGPU', 'navigator.gpu is missing'))).toMatchObject({ code: 'NO_WEBGPU', title: 'No WebGPU' });
    expect(describeError(new GpuError('NO_ADAPTER', 'no adapter')).title).toBe('No WebGPU');
    const lost = describeError(new GpuError('DEVICE_LOST', 'lost', { nextNonce: 512, found: [] }));
    expect(lost).toMatchObject({ code: 'DEVICE_LOST', title: 'GPU device lost' });
    expect(lost.message).toMatch(/resume/);
    const oom = describeError(new GpuError('INSUFFICIENT_MEMORY', 'too big', { requiredBytes: 3 * 2 ** 30 }));
    expect(oom).toMatchObject({ code: 'INSUFFICIENT_MEMORY', title: 'Out of GPU memory' });
    expect(oom.message).toContain('3.00 GiB');
    expect(describeError(new Error('boom'))).toMatchObject({ code: 'UNKNOWN', message: 'boom' });
    const full = describeError(new StorageError('QUOTA_EXCEEDED', 'quota'));
    expect(full).toMatchObject({ code: 'QUOTA_EXCEEDED', title: 'Storage full' });
    expect(full.message).toMatch(/GPU was stopped.*saved before is kept/);
    expect(describeError(new StorageError('UPGRADED_ELSEWHERE', 'x'))).toMatchObject({
      title: 'Sprintnet was updated in another tab',
      message: expect.stringMatching(/Reload/),
    });
  });
});
