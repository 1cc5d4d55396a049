import { useEffect, useState } from 'react';

type GpuState = { kind: 'checking' } | { kind: 'missing'; reason: string } | { kind: 'ready'; adapter: string };

/** Shows whether this browser can contribute; the Sprint engine issue adds the controls. */
export function SprintPanel() {
  const [gpu, setGpu] = useState<GpuState>({ kind: 'checking' });

  useEffect(() => {
    let cancelled = false;
    (async (): Promise<GpuState> => {
      if (!('gpu' in navigator)) {
        return { kind: 'missing', reason: 'This browser has no WebGPU. Use Chrome or Edge 113 or newer, on https or localhost.' };
      }
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return { kind: 'missing', reason: 'WebGPU is present but no GPU adapter is available.' };
      const info = adapter.info;
      return { kind: 'ready', adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter' };
    })()
      .catch((e: Error): GpuState => ({ kind: 'missing', reason: `WebGPU failed: ${e.message}` }))
      .then((s) => !cancelled && setGpu(s));
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <section className="panel" aria-labelledby="sprint-title">
      <h2 id="sprint-title">GPU</h2>
      {gpu.kind === 'checking' && <p className="muted">Checking for WebGPU…</p>}
      {gpu.kind === 'missing' && <p className="error" data-testid="gpu-missing">{gpu.reason}</p>}
      {gpu.kind === 'ready' && (
        <p className="ok" data-testid="gpu-ready">
          WebGPU ready: <span className="mono">{gpu.adapter}</span>
        </p>
      )}
    </section>
  );
}
