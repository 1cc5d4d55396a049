/** Presentational pieces of the Sprint view; each reads the slice of the stores it shows. */
import { useEffect, useState } from 'react';
import { phaseClock } from '../../app/runtime.ts';
import type { BuildPhase } from '../../gpu/engine-types.ts';
import type { BackendChoice } from '../../cpu/backend.ts';
import { useNetworkStore } from '../network/store.ts';
import { useWalletStore } from '../wallet/store.ts';
import { readiness, useSprintStore } from './store.ts';

const PHASE_LABELS: Record<BuildPhase, string> = {
  autotune: 'Choosing the fastest kernels',
  weights: 'Generating model weights',
  compile: 'Compiling kernels',
};

const formatCount = (n: number): string => n.toLocaleString('en-US');
const short = (hex: string): string => `${hex.slice(0, 8)}…${hex.slice(-4)}`;
const seconds = (ms: number): string => `${Math.max(0, Math.ceil(ms / 1000))} s`;

function useReadiness(): ReturnType<typeof readiness> {
  const networkKnown = useNetworkStore((s) => s.networkKnown);
  const genesis = useNetworkStore((s) => s.genesis);
  const genesisProblem = useNetworkStore((s) => s.genesisProblem);
  const walletStatus = useWalletStore((s) => s.status);
  return readiness({ networkKnown, genesis, genesisProblem }, walletStatus);
}

/** Why the view cannot take part yet, in plain words; null when it can. */
export function NetworkNotice() {
  const ready = useReadiness();
  const problem = useNetworkStore((s) => s.genesisProblem);
  switch (ready) {
    case 'loading':
      return <p className="muted" data-testid="sprint-readiness" data-state={ready}>Reading the network's settings…</p>;
    case 'no-network':
      return (
        <p className="muted" data-testid="sprint-readiness" data-state={ready}>
          Not connected to a Sprintnet network: this site's network.json names no genesis, so there are no Sprints to take part in. Run <code>npm start</code> for a local
          network.
        </p>
      );
    case 'bad-genesis':
      return <p className="error" data-testid="sprint-readiness" data-state={ready}>The network's genesis was refused: {problem}</p>;
    case 'no-wallet':
      return <p className="muted" data-testid="sprint-readiness" data-state={ready}>Create or restore a wallet to take part: your finds and weight belong to its key.</p>;
    case 'ready':
      return null;
  }
}

export function SprintControls() {
  const status = useSprintStore((s) => s.status);
  const elsewhere = useSprintStore((s) => s.gpuElsewhere);
  const backend = useSprintStore((s) => s.backend);
  const ready = useReadiness() === 'ready';
  const { chooseBackend, start, stop } = useSprintStore.getState();
  const active = status === 'preparing' || status === 'running' || status === 'stopping';
  return (
    <div className="sprint-controls">
      <label>
        Backend{' '}
        <select data-testid="sprint-backend" value={backend} disabled={active || elsewhere} onChange={(e) => chooseBackend(e.target.value as BackendChoice)}>
          <option value="auto">auto (fastest here)</option>
          <option value="webgpu">WebGPU</option>
          <option value="cpu">CPU (WebAssembly)</option>
        </select>
      </label>
      {!active && !elsewhere && (
        <button data-testid="sprint-start" disabled={status === 'loading' || !ready} onClick={() => void start()}>
          Take part in Sprints
        </button>
      )}
      {active && (
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

/** Only one tab at a time runs the GPU: shown in the others, with the offer to move the work here. */
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
        one tab at a time runs the GPU and takes part in Sprints.
      </p>
      <button data-testid="sprint-take-over" disabled={status === 'stopping'} onClick={() => void takeOver()}>
        Take over in this tab
      </button>
    </div>
  );
}

export function SprintErrorBox() {
  const error = useSprintStore((s) => s.error);
  const issue = useSprintStore((s) => s.snapshot?.issue);
  if (error) {
    return (
      <div className="sprint-error error" role="alert" data-testid="sprint-error" data-code={error.code}>
        <strong>{error.title}.</strong> {error.message}
      </div>
    );
  }
  if (issue?.recovered) {
    return (
      <div className="sprint-error" role="status" data-testid="sprint-error" data-code={issue.code} data-recovered="true">
        <strong>{issue.code === 'DEVICE_LOST' ? 'GPU device lost' : issue.code}</strong> at {new Date(issue.at).toLocaleTimeString()}: the engine was rebuilt and the
        search resumed; nothing found was lost.
      </div>
    );
  }
  return null;
}

/** The wallet is locked and something must be signed, or was missed for it. */
export function SigningNotice() {
  const needsUnlock = useSprintStore((s) => s.snapshot?.status === 'needs-unlock');
  const waiting = useSprintStore((s) => s.snapshot?.signing.waiting);
  const missed = useSprintStore((s) => s.snapshot?.signing.missed);
  const now = useNow(waiting ? 500 : null);
  if (needsUnlock) {
    return (
      <p className="sprint-signing" role="status" data-testid="sprint-signing" data-state="needs-unlock">
        Unlock your wallet once to take part: this browser makes its validation key for this network then. Searching needs no unlock afterwards.
      </p>
    );
  }
  if (waiting) {
    return (
      <p className="sprint-signing" role="status" data-testid="sprint-signing" data-state="waiting" data-what={waiting.what}>
        Wallet locked: unlock to submit your {waiting.what === 'proof' ? 'proof' : `${waiting.what} message`} (within {seconds(waiting.until - now)}). Searching goes on
        without it.
      </p>
    );
  }
  const last = missed?.at(-1);
  if (last) {
    return (
      <p className="muted" data-testid="sprint-signing" data-state="missed" data-what={last.what}>
        The wallet was locked when this browser's {last.what} was due ({new Date(last.at).toLocaleTimeString()}); it was skipped for that epoch.
      </p>
    );
  }
  return null;
}

/** Shown while the engine is being built: every phase can take seconds (weights: minutes on a CPU adapter). */
export function BuildProgressBars() {
  const build = useSprintStore((s) => s.snapshot?.build);
  if (!build) return null;
  return (
    <div className="sprint-build" data-testid="sprint-build">
      {(Object.keys(PHASE_LABELS) as BuildPhase[]).map((p) => (
        <div key={p} className={p === build.phase ? 'active' : undefined}>
          <span>
            {PHASE_LABELS[p]} — {Math.round(build.progress[p] * 100)}%
          </span>
          <progress data-testid={`build-progress-${p}`} value={build.progress[p]} max={1} />
        </div>
      ))}
    </div>
  );
}

function useNow(everyMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs === null) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Epoch and phase of the network's schedule, with a countdown; peers and the network's state. */
export function EpochClock() {
  const genesis = useNetworkStore((s) => s.genesis);
  const online = useNetworkStore((s) => s.status === 'online' && s.relayState === 'connected');
  const peers = useSprintStore((s) => s.snapshot?.runtime?.peers ?? 0);
  const now = useNow(genesis ? 500 : null);
  if (!genesis) return null;
  const c = phaseClock(genesis, now);
  return (
    <dl className="sprint-identity">
      <dt>Epoch</dt>
      <dd data-testid="sprint-epoch" data-epoch={c.epoch}>
        {c.epoch < 0 ? 'not started' : c.epoch}
      </dd>
      <dt>Phase</dt>
      <dd data-testid="sprint-phase" data-phase={c.phase}>
        {c.phase} · {seconds(c.msLeft)} left
      </dd>
      <dt>Network</dt>
      <dd data-testid="sprint-network" data-online={online} data-peers={peers}>
        {online ? `${genesis.networkId} · ${peers} protocol peer${peers === 1 ? '' : 's'}` : 'not connected to the network (no relay reached): searching goes on, proofs wait for peers'} ·{' '}
        {genesis.config}, p = 1/{genesis.hitRateDenominator}, Sprint {seconds(genesis.timings.sprintMs)} every {seconds(genesis.timings.epochMs)}
      </dd>
    </dl>
  );
}

export function SprintIdentity() {
  const runtime = useSprintStore((s) => s.snapshot?.runtime);
  const engine = useSprintStore((s) => s.snapshot?.engine);
  if (!runtime) return null;
  return (
    <dl className="sprint-identity">
      <dt>Public key</dt>
      <dd className="mono" data-testid="sprint-key">{runtime.publicKey}</dd>
      <dt>Sprint seed</dt>
      <dd className="mono" data-testid="sprint-seed" data-epoch={runtime.findsEpoch}>
        {runtime.sprintSeed ?? '— (set at the start of the Sprint by the hosts\' reveals)'}
      </dd>
      {engine && (
        <>
          <dt>Backend</dt>
          <dd data-testid="sprint-engine-backend" data-backend={engine.backend}>
            {engine.backend === 'cpu' ? 'CPU' : 'WebGPU'} · <span className="mono">{engine.adapter}</span> · {engine.config} · {engine.batch} nonces per pass ·{' '}
            {(engine.weightBytes / 2 ** 20).toFixed(1)} MiB of weights
            <span className="muted sprint-note" data-testid="sprint-engine-reason">{engine.backendReason}</span>
          </dd>
        </>
      )}
    </dl>
  );
}

export function SprintStats() {
  const runtime = useSprintStore((s) => s.snapshot?.runtime);
  if (!runtime) return null;
  const current = runtime.findsEpoch === runtime.epoch;
  return (
    <div className="sprint-stats">
      <div>
        <span className="label">Nonces tried this Sprint</span>
        <span className="value" data-testid="sprint-tried">{formatCount(current ? runtime.tried : 0)}</span>
      </div>
      <div>
        <span className="label">Appropriate found</span>
        <span className="value" data-testid="sprint-found-count" data-epoch={runtime.findsEpoch}>{runtime.finds.length}</span>
      </div>
      <div>
        <span className="label">Nonces/s</span>
        <span className="value" data-testid="sprint-rate" data-rate={runtime.rate}>
          {runtime.searching ? runtime.rate.toFixed(runtime.rate < 10 ? 2 : 0) : '—'}
        </span>
      </div>
    </div>
  );
}

/** Rows shown: a long Sprint on a fast GPU finds thousands; all of them are kept, the newest are shown. */
const FOUND_SHOWN = 50;

export function FoundNonces() {
  const finds = useSprintStore((s) => s.snapshot?.runtime?.finds);
  if (!finds || finds.length === 0) return null;
  const newest = finds.slice(-FOUND_SHOWN).reverse();
  return (
    <table className="sprint-found" data-testid="sprint-found-list">
      <caption className="muted">{finds.length > FOUND_SHOWN ? `Newest ${FOUND_SHOWN} of ${finds.length} appropriate nonces` : 'Appropriate nonces'}</caption>
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

/** The newest epoch this browser derived: state hash, certificate, and the weights table. */
export function WeightsTable() {
  const ledger = useSprintStore((s) => s.snapshot?.runtime?.ledger);
  const me = useSprintStore((s) => s.snapshot?.runtime?.publicKey);
  if (!ledger) return <p className="muted" data-testid="ledger-none">No epoch derived yet: the first weights table appears when an epoch closes.</p>;
  return (
    <table className="sprint-found" data-testid="ledger" data-epoch={ledger.epoch} data-hash={ledger.hash} data-certificate={ledger.certificate}>
      <caption>
        Epoch {ledger.epoch}: state <span className="mono" data-testid="ledger-hash">{short(ledger.hash)}</span>,{' '}
        <span data-testid="ledger-certificate">{ledger.certificate === 'certified' || ledger.certificate === 'adopted' ? `certified (${ledger.certificate})` : ledger.certificate}</span>
      </caption>
      <thead>
        <tr>
          <th>Host</th>
          <th>Weight next epoch</th>
          <th>Claimed</th>
          <th>Credited</th>
          <th>Flags</th>
          <th>CU</th>
        </tr>
      </thead>
      <tbody>
        {ledger.rows.map((r) => (
          <tr key={r.publicKey} data-testid="ledger-row" data-key={r.publicKey} data-weight={r.weight} data-claimed={r.claimed} data-flags={r.flags.join(' ')}>
            <td className="mono">
              {short(r.publicKey)}
              {r.publicKey === me ? ' (you)' : ''}
            </td>
            <td>{r.weight}</td>
            <td>{r.claimed}</td>
            <td>{r.credited}</td>
            <td>{r.flags.join(', ') || '—'}</td>
            <td>{r.cuTotal.toFixed(6)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
