import { useEffect } from 'react';
import { BuildProgressBars, FoundNonces, OtherTabNotice, SprintControls, SprintErrorBox, SprintIdentity, SprintStats } from './SprintParts.tsx';
import { useSprintStore } from './store.ts';
import { useGpuCheck } from './useGpuCheck.ts';
import { installEngineTestHandle } from './engine-test-handle.ts';
import { canShareMemory } from '../../cpu/threads-browser.ts';
import './sprint.css';

installEngineTestHandle();

/** The volunteer's Sprint view: WebGPU check, then config, Start/Stop, build progress, live stats, finds. */
export function SprintPanel() {
  const gpu = useGpuCheck();
  // Without WebGPU the CPU backend (src/cpu) still runs, given a cross-origin isolated page.
  const cpuOnly = gpu.kind === 'missing' && canShareMemory();
  const init = useSprintStore((s) => s.init);
  useEffect(() => {
    void init();
  }, [init]);

  return (
    <section className="panel sprint" aria-labelledby="sprint-title" data-testid="sprint-panel">
      <h2 id="sprint-title">GPU</h2>
      {gpu.kind === 'checking' && <p className="muted">Checking for WebGPU…</p>}
      {gpu.kind === 'missing' && <p className={cpuOnly ? 'muted' : 'error'} data-testid="gpu-missing">{gpu.reason}{cpuOnly && ' The CPU backend (WebAssembly) runs the Sprints instead.'}</p>}
      {(gpu.kind === 'ready' || cpuOnly) && (
        <>
          {gpu.kind === 'ready' && (
            <p className="ok" data-testid="gpu-ready">
              WebGPU ready: <span className="mono">{gpu.adapter}</span>
            </p>
          )}
          <SprintControls />
          <OtherTabNotice />
          <SprintErrorBox />
          <BuildProgressBars />
          <SprintIdentity />
          <SprintStats />
          <FoundNonces />
        </>
      )}
    </section>
  );
}
