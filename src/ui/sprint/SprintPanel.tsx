import { useEffect } from 'react';
import {
  BuildProgressBars,
  EpochClock,
  NetworkNotice,
  OtherTabNotice,
  SigningNotice,
  SprintControls,
  SprintErrorBox,
  SprintIdentity,
  SprintStats,
} from './SprintParts.tsx';
import { ContributeControls, LastEpoch, SprintEarnings, WorkNow } from './ContributeParts.tsx';
import { useSprintStore } from './store.ts';
import { useGpuCheck } from './useGpuCheck.ts';
import { installEngineTestHandle } from './engine-test-handle.ts';
import { canShareMemory } from '../../cpu/threads-browser.ts';
import './sprint.css';

installEngineTestHandle();

/**
 * The Contribute screen's body over the network's Sprint protocol: whether this browser can take
 * part (GPU, genesis, wallet), one Start/Stop, the epoch phase with a countdown and the peers, when
 * and how hard the GPU works, work per second, this Sprint's work and earnings, and the finds and
 * technical figures folded away. The weights table and the rest of the ledger are on Network &
 * ledger.
 */
export function SprintPanel() {
  const gpu = useGpuCheck();
  // Without WebGPU the CPU backend (src/cpu) still runs, given a cross-origin isolated page.
  const cpuOnly = gpu.kind === 'missing' && canShareMemory();
  const init = useSprintStore((s) => s.init);
  const engine = useSprintStore((s) => s.snapshot?.engine);
  useEffect(() => {
    void init();
  }, [init]);

  return (
    <section className="panel sprint" aria-labelledby="sprint-title" data-testid="sprint-panel">
      <h2 id="sprint-title">Contribute this GPU</h2>
      {gpu.kind === 'checking' && <p className="muted">Checking for WebGPU…</p>}
      {gpu.kind === 'missing' && (
        <p className={cpuOnly ? 'muted' : 'error'} data-testid="gpu-missing">
          {gpu.reason}
          {cpuOnly && ' The CPU engine (WebAssembly) runs the Sprints instead, slowly.'}
        </p>
      )}
      {(gpu.kind === 'ready' || cpuOnly) && (
        <>
          {gpu.kind === 'ready' && (
            <p className="ok" data-testid="gpu-ready">
              WebGPU ready: <span className="mono">{gpu.adapter}</span>
            </p>
          )}
          {engine?.backend === 'cpu' && (
            // Said where "WebGPU ready" is, not only in the technical details: on a software adapter
            // the auto setting runs the CPU engine, and the line above alone reads as the GPU working.
            <p className="muted" data-testid="engine-on-cpu">
              Sprints run on the CPU engine (WebAssembly, {engine.threads === 1 ? '1 thread' : `${engine.threads} threads`}): {engine.backendReason}.
            </p>
          )}
          <NetworkNotice />
          <SprintControls />
          <OtherTabNotice />
          <SprintErrorBox />
          <SigningNotice />
          <EpochClock />
          <BuildProgressBars />
          <ContributeControls />
          <WorkNow />
          <SprintEarnings />
          <LastEpoch />
          <details className="sprint-technical" data-testid="sprint-technical">
            <summary>Technical details</summary>
            <SprintIdentity />
            <SprintStats />
          </details>
        </>
      )}
    </section>
  );
}
