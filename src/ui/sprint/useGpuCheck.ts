import { useEffect, useState } from 'react';

export type GpuCheck = { kind: 'checking' } | { kind: 'missing'; reason: string } | { kind: 'ready'; adapter: string };

/** Whether this browser exposes a WebGPU adapter at all (before any engine is built). */
export function useGpuCheck(): GpuCheck {
  const [gpu, setGpu] = useState<GpuCheck>({ kind: 'checking' });
  useEffect(() => {
    let cancelled = false;
    (async (): Promise<GpuCheck> => {
      if (!('gpu' in navigator)) {
        return { kind: 'missing', reason: 'This browser has no WebGPU. Use Chrome or Edge 113 or newer, on https or localhost.' };
      }
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return { kind: 'missing', reason: 'WebGPU is present but no GPU adapter is available.' };
      const info = adapter.info;
      return { kind: 'ready', adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter' };
    })()
      .catch((e: Error): GpuCheck => ({ kind: 'missing', reason: `WebGPU failed: ${e.message}` }))
      .then((s) => !cancelled && setGpu(s));
    return () => {
      cancelled = true;
    };
  }, []);
  return gpu;
}
