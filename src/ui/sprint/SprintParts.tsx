/** Presentational pieces of the Sprint view; each reads the slice of the stores it shows. */
import { useEffect, useRef, useState } from 'react';
import { phaseClock } from '../../app/runtime.ts';
import type { BuildPhase } from '../../gpu/engine-types.ts';
import type { BackendChoice } from '../../cpu/backend.ts';
import { useNetworkStore } from '../network/store.ts';
import { useWalletStore } from '../wallet/store.ts';
import { readiness, useSprintStore } from './store.ts';
import { Term } from '../help/Term.tsx';
import { describeLeft, estimateLeftMs } from './eta.ts';
import { signingNote } from './signing.ts';

const PHASE_LABELS: Record<BuildPhase, string> = {
  autotune: 'Choosing the fastest kernels',
  weights: 'Generating model weights',
  compile: 'Compiling kernels',
};

const formatCount = (n: number): string => n.toLocaleString('en-US');
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
      return (
        <p className="muted" data-testid="sprint-readiness" data-state={ready}>
          Reading the network's settings…
        </p>
      );
    case 'no-network':
      return (
        <p className="muted" data-testid="sprint-readiness" data-state={ready}>
          Not connected to a Sprintnet network: this site does not name one, so there are no Sprints to take part in yet. Nothing for you to do here; if you run
          this site yourself, <code>npm start</code> starts a local network (its network.json names the genesis).
        </p>
      );
    case 'bad-genesis':
      return (
        <p className="error" data-testid="sprint-readiness" data-state={ready}>
          The network's genesis was refused: {problem}
        </p>
      );
    case 'no-wallet':
      return (
        <div className="sprint-readiness-action" data-testid="sprint-readiness" data-state={ready}>
          <p>Next step: create or restore a wallet to take part. Your finds and weight belong to its key.</p>
          <a className="button" href="#/wallet" data-testid="sprint-go-wallet">
            Set up a wallet
          </a>
        </div>
      );
    case 'ready':
      return null;
  }
}

/** What the Start/Stop control's state means, in words (data-status keeps the state for tests). */
const STATUS_WORDS: Record<string, string> = {
  loading: 'Getting ready…',
  idle: 'Not contributing.',
  preparing: 'Preparing to contribute…',
  running: 'Contributing.',
  stopping: 'Stopping…',
  error: 'Stopped by a problem (see below).',
};

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
        <Term id="backend">Engine</Term>{' '}
        <select data-testid="sprint-backend" value={backend} disabled={active || elsewhere} onChange={(e) => chooseBackend(e.target.value as BackendChoice)}>
          <option value="auto">auto (fastest here)</option>
          <option value="webgpu">WebGPU</option>
          <option value="cpu">CPU (WebAssembly)</option>
        </select>
      </label>
      {!active && !elsewhere && (
        <button data-testid="sprint-start" className="primary" disabled={status === 'loading' || !ready} onClick={() => void start()}>
          Start contributing
        </button>
      )}
      {active && (
        <button data-testid="sprint-stop" disabled={status === 'stopping'} onClick={() => void stop()}>
          {status === 'stopping' ? 'Stopping…' : 'Stop'}
        </button>
      )}
      <span className={`sprint-status sprint-${status}`} data-testid="sprint-status" data-status={status} role="status" aria-live="polite">
        {STATUS_WORDS[status]}
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
        {takenOver ? 'Another Sprintnet tab took over the GPU; this tab stopped and saved what it found.' : 'Another Sprintnet tab is contributing this GPU.'}{' '}
        Only one tab at a time runs the GPU and takes part in Sprints.
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
        <strong>{issue.code === 'DEVICE_LOST' ? 'GPU device lost' : issue.code}</strong> at {new Date(issue.at).toLocaleTimeString()}: the engine was rebuilt
        and the search resumed; nothing found was lost.
      </div>
    );
  }
  return null;
}

/** The wallet is locked and something must be signed (now, or this Sprint's proof later), or was missed for it. */
export function SigningNotice() {
  const status = useSprintStore((s) => s.snapshot?.status);
  const waiting = useSprintStore((s) => s.snapshot?.signing.waiting ?? null);
  const missed = useSprintStore((s) => s.snapshot?.signing.missed);
  const walletLocked = useWalletStore((s) => s.status === 'locked');
  const genesis = useNetworkStore((s) => s.genesis);
  const now = useNow(waiting || (walletLocked && status === 'running') ? 500 : null);
  const runtime = status === 'needs-unlock' || status === 'running' ? status : 'other';
  const note = signingNote({ runtime, walletLocked, waiting, missed: missed ?? [], genesis, now });
  if (!note) return null;
  return (
    <p
      className={note.urgent ? 'sprint-signing' : 'muted'}
      role={note.urgent ? 'status' : undefined}
      data-testid="sprint-signing"
      data-state={note.state}
      data-what={note.what}
    >
      {note.text}
    </p>
  );
}

/** Shown while the engine is being built: every phase can take seconds (weights: minutes on a CPU adapter). */
export function BuildProgressBars() {
  const build = useSprintStore((s) => s.snapshot?.build);
  // When each phase was first seen moving: its own rate gives the time-left estimate.
  const started = useRef(new Map<BuildPhase, number>());
  const now = useNow(build ? 1000 : null);
  if (!build) {
    started.current.clear();
    return null;
  }
  for (const p of Object.keys(PHASE_LABELS) as BuildPhase[]) {
    if (build.progress[p] > 0 && !started.current.has(p)) started.current.set(p, now);
  }
  const left = (p: BuildPhase): string => {
    const since = started.current.get(p);
    if (p !== build.phase || since === undefined) return '';
    const words = describeLeft(estimateLeftMs(build.progress[p], now - since));
    return words ? ` (${words})` : '';
  };
  // Autotuning comes first when it runs at all; the CPU engine and a cached tuning skip it, and a
  // row stuck at 0% beside finished ones read as a stalled step.
  const skipped = (p: BuildPhase): boolean => p === 'autotune' && build.progress.autotune === 0 && (build.progress.weights > 0 || build.progress.compile > 0);
  return (
    <div className="sprint-build" data-testid="sprint-build">
      {(Object.keys(PHASE_LABELS) as BuildPhase[])
        .filter((p) => !skipped(p))
        .map((p) => (
          <div key={p} className={p === build.phase ? 'active' : undefined}>
            <span>
              {PHASE_LABELS[p]} — {Math.round(build.progress[p] * 100)}%{left(p)}
            </span>
            <progress data-testid={`build-progress-${p}`} value={build.progress[p]} max={1} aria-label={PHASE_LABELS[p]} />
          </div>
        ))}
    </div>
  );
}

export function useNow(everyMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs === null) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** The schedule's phases (src/app/runtime.ts phaseClock) in words. */
const PHASE_WORDS: Record<string, string> = {
  'before epoch 0': 'The network has not started yet',
  commit: 'Agreeing on the next Sprint (hosts commit to a secret)',
  reveal: 'Agreeing on the next Sprint (hosts reveal their secrets)',
  settle: 'The Sprint starts soon (searching begins as soon as every secret is revealed)',
  Sprint: 'Sprint: GPUs are searching',
  proof: 'Sprint over: hosts publish their proofs',
  validation: 'Hosts check each other’s proofs',
  sync: 'Hosts exchange what they received',
  certify: 'Hosts sign the epoch’s results',
  work: 'Between Sprints',
};

/** Epoch and phase of the network's schedule, with a countdown; peers and the network's state. */
export function EpochClock() {
  const genesis = useNetworkStore((s) => s.genesis);
  const online = useNetworkStore((s) => s.status === 'online');
  // Before Start (or without a wallet) there is no runtime to count peers: the node's presence
  // records are the same ones the runtime's transport counts.
  const nodePeers = useNetworkStore((s) => Object.values(s.peers).filter((p) => p.role !== 'relay').length);
  const peers = useSprintStore((s) => s.snapshot?.runtime?.peers) ?? nodePeers;
  const now = useNow(genesis ? 500 : null);
  if (!genesis) return null;
  const c = phaseClock(genesis, now);
  return (
    <dl className="sprint-identity">
      <dt>
        <Term id="epoch">Epoch</Term>
      </dt>
      <dd data-testid="sprint-epoch" data-epoch={c.epoch}>
        {c.epoch < 0 ? 'not started' : c.epoch}
      </dd>
      <dt>
        <Term id="phase">Now</Term>
      </dt>
      <dd data-testid="sprint-phase" data-phase={c.phase}>
        {PHASE_WORDS[c.phase] ?? c.phase} · {seconds(c.msLeft)} left
      </dd>
      <dt>Network</dt>
      <dd data-testid="sprint-network" data-online={online} data-peers={peers}>
        {online
          ? `Connected · ${peers === 0 ? 'no other computers' : peers === 1 ? '1 other computer' : `${peers} other computers`} taking part`
          : 'Not connected to the network: searching goes on, and what you find is sent when the connection is back'}
        {' · '}a Sprint of {seconds(genesis.timings.sprintMs)} every {seconds(genesis.timings.epochMs)}
      </dd>
      <dt>
        <Term id="model">Model</Term>
      </dt>
      <dd data-testid="sprint-model" data-config={genesis.config}>
        {genesis.config}, chosen by the network (it is fixed when the network starts). A new network keeps its own history in this browser, so switching never
        deletes earlier results.
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
      <dt>Public key (your wallet's)</dt>
      <dd className="mono" data-testid="sprint-key">
        {runtime.publicKey}
      </dd>
      <dt>Sprint seed</dt>
      <dd className="mono" data-testid="sprint-seed" data-epoch={runtime.findsEpoch}>
        {runtime.sprintSeed ?? "— (set by the hosts' reveals; the search starts once every secret is revealed)"}
      </dd>
      {engine && (
        <>
          <dt>Backend</dt>
          <dd data-testid="sprint-engine-backend" data-backend={engine.backend}>
            {engine.backend === 'cpu' ? 'CPU' : 'WebGPU'} · <span className="mono">{engine.adapter}</span> · {engine.config} · {engine.batch} nonces per pass ·{' '}
            {(engine.weightBytes / 2 ** 20).toFixed(1)} MiB of weights
            <span className="muted sprint-note" data-testid="sprint-engine-reason">
              {engine.backendReason}
            </span>
          </dd>
        </>
      )}
    </dl>
  );
}

export function SprintStats() {
  const runtime = useSprintStore((s) => s.snapshot?.runtime);
  if (!runtime) return null;
  return (
    <div className="sprint-stats">
      <div>
        <span className="label">Tries this Sprint</span>
        <span className="value" data-testid="sprint-tried">
          {formatCount(runtime.tried)}
        </span>
      </div>
      <div>
        <span className="label">Finds</span>
        <span className="value" data-testid="sprint-found-count" data-epoch={runtime.findsEpoch}>
          {runtime.finds.length}
        </span>
      </div>
      <div>
        <span className="label">Tries per second</span>
        <span className="value" data-testid="sprint-rate" data-rate={runtime.rate}>
          {runtime.searching ? runtime.rate.toFixed(runtime.rate < 10 ? 2 : 0) : '—'}
        </span>
      </div>
    </div>
  );
}
