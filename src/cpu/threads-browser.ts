/**
 * Browser compute threads: dedicated Workers from a Blob URL (they inherit the page's cross-origin
 * isolation, which SharedArrayBuffer needs; see docs/cpu-backend.md). Works from the page and from
 * a dedicated Worker (nested workers).
 */
import type { ComputeThread, ThreadSpawner } from './threads.ts';

let url: string | null = null;

export const browserSpawner: ThreadSpawner = {
  platform: 'browser',
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 2,
  spawn(source: string, name: string): ComputeThread {
    url ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const w = new Worker(url, { name });
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (l) => w.addEventListener('message', (e) => l(e.data)),
      onError: (l) => w.addEventListener('error', (e) => l(e.message || 'worker error')),
      terminate: () => w.terminate(),
      keepAlive: () => {},
    };
  },
};

/** Whether this context can share memory between threads (cross-origin isolated, or not a browser). */
export function canShareMemory(): boolean {
  return typeof SharedArrayBuffer === 'function' && (typeof crossOriginIsolated === 'undefined' || crossOriginIsolated);
}
