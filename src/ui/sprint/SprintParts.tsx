/** Presentational pieces of the Sprint view; each reads the slice of the store it shows. */
import { CONFIGS, flopsPerNonce, type ConfigName } from '../../sprint/config.ts';
import { useSprintStore, type BuildProgress } from './store.ts';
import type { BackendChoice } from '../../cpu/backend.ts';

const PHASE_LABELS: Record<keyof BuildProgress, string> = {
  autotune: 'Choosing the fastest kernels',
  weights: 'Generating model weights',
  compile: 'Compiling kernels',
};

const formatCount = (n: number): string => n.toLocaleString('en-US');

export function SprintControls() {
  const status = useSprintStore((s) => s.status);
  const config = useSprintStore((s) => s.config);
  const sprint = useSprintStore((s) => s.sprint);
  const elsewhere = useSprintStore((s) => s.gpuElsewhere);
  const backend = useSprintStore((s) => s.backend);
  const { chooseConfig, chooseBackend, start, startNew, stop } = useSprintStore.getState();
  const busy = status === 'preparing' || status === 'running' || status === 'stopping';
  const resumable = sprint !== null && sprint.config === config;
  return (
    <div className="sprint-controls">
      <label>
        Model{' '}
        <select data-testid="sprint-config" value={config} disabled={busy || elsewhere || status === 'loading'} onChange={(e) => chooseConfig(e.target.value as ConfigName)}>
          {(Object.keys(CONFIGS) as ConfigName[]).map((name) => (
            <option key={name} value={name}>
              {name} ({(flopsPerNonce(CONFIGS[name]) / 1e9).toFixed(3)} GFLOP per nonce)
            </option>
          ))}
        </select>
      </label>
      <label>
        Backend{' '}
        <select data-testid="sprint-backend" value={backend} disabled={busy || elsewhere} onChange={(e) => chooseBackend(e.target.value as BackendChoice)}>
          <option value="auto">auto (fastest here)</option>
          <option value="webgpu">WebGPU</option>
          <option value="cpu">CPU (WebAssembly)</option>
        </select>
      </label>
      {!busy && !elsewhere && (
        <button data-testid="sprint-start" disabled={status === 'loading'} onClick={() => void start()}>
          {resumable && sprint.nextNonce > 0 ? `Resume from nonce ${formatCount(sprint.nextNonce)}` : 'Start practice Sprint'}
        </button>
      )}
      {!busy && !elsewhere && resumable && (
        <button className="secondary" data-testid="sprint-new" onClick={() => void startNew()}>
          New practice Sprint
        </button>
      )}
      {busy && (
        <button data-testid="sprint-stop" disabled={status === 'stopping'} onClick={() => void stop()}>
          {status === 'stopping' ? 'Stopping…' : 'Stop'}
        </button>
      )}
      <span className={`sprint-status sprint-${status}`} data-testid="sprint-status">
        {status}
      </span>
    </div>
  );
}

/** Only one tab runs the GPU: shown in the others, with the offer to move the work here. */
export function OtherTabNotice() {
  const elsewhere = useSprintStore((s) => s.gpuElsewhere);
  const takenOver = useSprintStore((s) => s.takenOver);
  const status = useSprintStore((s) => s.status);
  const { takeOver } = useSprintStore.getState();
  if (!elsewhere || status === 'preparing' || status === 'running') return null;
  return (
    <div className="sprint-other-tab" role="status" data-testid="sprint-other-tab" data-taken-over={takenOver}>
      <p>
        {takenOver ? 'Another Sprintnet tab took over the GPU; this tab stopped and saved what it found.' : 'Another Sprintnet tab is contributing this GPU.'} Only
        one tab at a time runs the GPU.
      </p>
      <button data-testid="sprint-take-over" disabled={status === 'stopping'} onClick={() => void takeOver()}>
        Take over in this tab
      </button>
    </div>
  );
}

export function SprintErrorBox() {
  const error = useSprintStore((s) => s.error);
  if (!error) return null;
  return (
    <div className="sprint-error error" role="alert" data-testid="sprint-error" data-code={error.code}>
      <strong>{error.title}.</strong> {error.message}
    </div>
  );
}

/** Shown while the engine is being built: every phase can take seconds (weights: minutes on a CPU adapter). */
export function BuildProgressBars() {
  const status = useSprintStore((s) => s.status);
  const build = useSprintStore((s) => s.build);
  const phase = useSprintStore((s) => s.buildPhase);
  if (status !== 'preparing') return null;
  return (
    <div className="sprint-build" data-testid="sprint-build">
      {(Object.keys(PHASE_LABELS) as (keyof BuildProgress)[]).map((p) => (
        <div key={p} className={p === phase ? 'active' : undefined}>
          <span>
            {PHASE_LABELS[p]} — {Math.round(build[p] * 100)}%
          </span>
          <progress data-testid={`build-progress-${p}`} value={build[p]} max={1} />
        </div>
      ))}
    </div>
  );
}

export function SprintIdentity() {
  const sprint = useSprintStore((s) => s.sprint);
  const engine = useSprintStore((s) => s.engine);
  if (!sprint) return <p className="muted">No Sprint yet. A practice Sprint uses a random seed of its own until the network announces Sprints.</p>;
  return (
    <dl className="sprint-identity">
      <dt>Practice Sprint seed</dt>
      <dd className="mono" data-testid="sprint-seed">{sprint.sprintSeedHex}</dd>
      <dt>{sprint.keySource === 'wallet' ? 'Wallet public key' : 'Ephemeral key'}</dt>
      <dd data-testid="sprint-key" data-source={sprint.keySource}>
        <span className="mono">{sprint.publicKeyHex}</span>
        {sprint.address && <span className="muted mono"> ({sprint.address})</span>}
        {sprint.keySource === 'ephemeral' && <span className="muted sprint-note">No wallet was unlocked: a throwaway key, for practice only. It earns nothing.</span>}
      </dd>
      {engine && (
        <>
          <dt>Backend</dt>
          <dd data-testid="sprint-engine-backend" data-backend={engine.backend}>
            {engine.backend === 'cpu' ? 'CPU' : 'WebGPU'} · <span className="mono">{engine.adapter}</span>
            <span className="muted sprint-note" data-testid="sprint-engine-reason">{engine.backendReason}</span>
          </dd>
        </>
      )}
      <dt>Model</dt>
      <dd>
        {sprint.config}
        {engine && (
          <span className="muted">
            {' '}
            · {engine.batch} nonces per pass · {(engine.weightBytes / 2 ** 20).toFixed(1)} MiB of weights · {engine.variant}
          </span>
        )}
      </dd>
    </dl>
  );
}

export function SprintStats() {
  const sprint = useSprintStore((s) => s.sprint);
  const rate = useSprintStore((s) => s.noncesPerSecond);
  const status = useSprintStore((s) => s.status);
  // Live count between saved resume points (the saved one moves every couple of seconds).
  const live = useSprintStore((s) => s.runStart + s.runTried);
  if (!sprint) return null;
  return (
    <div className="sprint-stats">
      <div>
        <span className="label">Nonces tried</span>
        <span className="value" data-testid="sprint-tried">{formatCount(Math.max(sprint.nextNonce, live))}</span>
      </div>
      <div>
        <span className="label">Appropriate found</span>
        <span className="value" data-testid="sprint-found-count">{sprint.found.length}</span>
      </div>
      <div>
        <span className="label">Nonces/s</span>
        <span className="value" data-testid="sprint-rate" data-rate={rate}>
          {status === 'running' || rate > 0 ? rate.toFixed(rate < 10 ? 2 : 0) : '—'}
        </span>
      </div>
    </div>
  );
}

/** Rows shown: a long Sprint on a fast GPU finds thousands; all of them are saved, the newest are shown. */
const FOUND_SHOWN = 50;

export function FoundNonces() {
  const found = useSprintStore((s) => s.sprint?.found);
  if (!found || found.length === 0) return null;
  const newest = found.slice(-FOUND_SHOWN).reverse();
  return (
    <table className="sprint-found" data-testid="sprint-found-list">
      <caption className="muted">{found.length > FOUND_SHOWN ? `Newest ${FOUND_SHOWN} of ${found.length} appropriate nonces` : 'Appropriate nonces'}</caption>
      <thead>
        <tr>
          <th>Nonce</th>
          <th>Distance</th>
        </tr>
      </thead>
      <tbody>
        {newest.map((f) => (
          <tr key={f.nonce}>
            <td className="mono">{f.nonce}</td>
            <td className="mono">{f.distance.toFixed(6)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
