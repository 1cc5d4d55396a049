import { useEffect } from 'react';
import {
  BuildProgressBars,
  EpochClock,
  FoundNonces,
  NetworkNotice,
  OtherTabNotice,
  SigningNotice,
  SprintControls,
  SprintErrorBox,
  SprintIdentity,
  SprintStats,
  WeightsTable,
} from './SprintParts.tsx';
import { useSprintStore } from './store.ts';
import { useGpuCheck } from './useGpuCheck.ts';
import { installEngineTestHandle } from './engine-test-handle.ts';
import { canShareMemory } from '../../cpu/threads-browser.ts';
import './sprint.css';

installEngineTestHandle();

/**
 * The volunteer's Sprint view over the network's real Sprint protocol: WebGPU check, whether this
 * browser can take part (genesis, wallet), Start/Stop, the epoch and phase with a countdown, build
 * progress, this Sprint's finds, and the newest weights table with its certificate status.
 */
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
      <h2 id="sprint-title">Sprints</h2>
      {gpu.kind === 'checking' && <p className="muted">Checking for WebGPU…</p>}
      {gpu.kind === 'missing' && <p className={cpuOnly ? 'muted' : 'error'} data-testid="gpu-missing">{gpu.reason}{cpuOnly && ' The CPU backend (WebAssembly) runs the Sprints instead.'}</p>}
      {(gpu.kind === 'ready' || cpuOnly) && (
        <>
          {gpu.kind === 'ready' && (
            <p className="ok" data-testid="gpu-ready">
              WebGPU ready: <span className="mono">{gpu.adapter}</span>
            </p>
          )}
          <NetworkNotice />
          <EpochClock />
          <SprintControls />
          <OtherTabNotice />
          <SprintErrorBox />
          <SigningNotice />
          <BuildProgressBars />
          <SprintIdentity />
          <SprintStats />
          <WeightsTable />
          <FoundNonces />
        </>
      )}
    </section>
  );
}
