import { useNetworkStore } from '../network/store.ts';
import { useWalletStore } from '../wallet/store.ts';
import { setServing } from './actions.ts';
import { figureFor, NOISE_LEVELS, PRIVACY_FIGURES } from './privacy-figures.ts';
import { useSplitStore } from './store.ts';
import { RouteDecision, RouteSettings, VolunteerList } from './VolunteerList.tsx';
import './split.css';

const pct = (n: number) => `${n.toFixed(n % 1 === 0 ? 0 : 1)} %`;

/** The privacy choice, the split settings and, before the first split request, what h_k does and does not protect. */
export function SplitSettings({ layers }: { layers: number }) {
  const s = useSplitStore();
  const k = s.k ?? Math.max(1, Math.floor(layers / 2));
  const fig = figureFor(k, layers, s.noise);
  const set = useSplitStore.setState;
  return (
    <fieldset className="split-settings" data-testid="split-settings">
      <legend>Where it runs</legend>
      <label>
        <input
          type="radio"
          name="split-privacy"
          checked={s.privacy === 'device-only'}
          onChange={() => set({ privacy: 'device-only' })}
          data-testid="split-device-only"
        />{' '}
        On this device only (nothing about your prompt leaves this browser)
      </label>
      <label>
        <input
          type="radio"
          name="split-privacy"
          checked={s.privacy === 'allow-split'}
          onChange={() => set({ privacy: 'allow-split' })}
          data-testid="split-allow"
        />{' '}
        Split with a volunteer: the first layers run here, the rest on a volunteer's device
      </label>
      {s.privacy === 'allow-split' && (
        <div className="split-options">
          <label>
            split after layer k{' '}
            <input
              type="number"
              min={1}
              max={layers - 1}
              value={k}
              onChange={(e) => set({ k: Math.min(layers - 1, Math.max(1, Number(e.target.value) || 1)) })}
              data-testid="split-k"
            />{' '}
            of {layers}
          </label>
          <label>
            calibrated noise α{' '}
            <select value={s.noise} onChange={(e) => set({ noise: Number(e.target.value) })} data-testid="split-noise">
              {NOISE_LEVELS.map((n) => (
                <option key={n} value={n}>
                  {n === 0 ? 'none' : n}
                </option>
              ))}
            </select>
          </label>
          {fig && (
            <p className="muted" data-testid="split-noise-effect">
              Measured on the 8-layer test model at k = {fig.k}, α = {fig.noise}: a volunteer who knows the model recovers {pct(fig.searchRecovery)} of the
              prompt's tokens; the output's greedy token stays the same {pct(fig.sameToken)} of the time (KL {fig.kl} nats from the unsplit model).
            </p>
          )}
          <RouteSettings />
          <VolunteerList />
          {!s.noticeAccepted && <SplitNotice />}
        </div>
      )}
    </fieldset>
  );
}

function SplitNotice() {
  return (
    <div className="split-notice" role="note" data-testid="split-notice">
      <p>
        <strong>What splitting protects, and what it does not.</strong> Your prompt is turned into token ids and run through the first k layers here; only the
        resulting hidden state h_k is sent, and your reply is sampled here.
      </p>
      <ul>
        <li>
          <strong>It protects against</strong> relays, your network and anyone listening in: every request and answer is encrypted end to end to the volunteer's
          wallet key.
        </li>
        <li>
          <strong>It does not protect against the volunteer.</strong> A volunteer who knows the model can often turn h_k back into your words. Measured on the
          test model with an exact h_k, a search recovers every token at k = 1, 2, L/4 and L/2 alike; noise lowers that only at a level that also spoils the
          answer:
        </li>
      </ul>
      <div className="split-table-scroll" tabIndex={0} role="region" aria-label="Privacy figures">
        <table className="split-figures">
          <thead>
            <tr>
              <th>k (of 8)</th>
              <th>noise α</th>
              <th>tokens recovered</th>
              <th>greedy token unchanged</th>
            </tr>
          </thead>
          <tbody>
            {PRIVACY_FIGURES.filter((f) => f.noise !== 0.1).map((f) => (
              <tr key={`${f.k}-${f.noise}`}>
                <td>{f.k}</td>
                <td>{f.noise}</td>
                <td>{pct(f.searchRecovery)}</td>
                <td>{pct(f.sameToken)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted">Source: the privacy meter (`sprintnet privacy`), docs/split-inference.md §10. Use "on this device only" for anything secret.</p>
      <button type="button" onClick={() => useSplitStore.setState({ noticeAccepted: true })} data-testid="split-notice-ok">
        I understand: split with a volunteer
      </button>
    </div>
  );
}

/** The split run: phase, streamed output, per-step C_t / H_t / rewinds, the proof and its submission. */
export function SplitRun() {
  const s = useSplitStore();
  const wallet = useWalletStore((w) => w.status);
  if (s.privacy !== 'allow-split') return null;
  const decode = s.steps.filter((x) => x.phase === 'decode');
  return (
    <div className="split-run" data-testid="split-run">
      {wallet !== 'unlocked' && (
        <p className="error" data-testid="split-wallet">
          Unlock your wallet (Wallet screen): it signs the effective-compute proof that credits the volunteer, and the page's node must run under its key.
        </p>
      )}
      {s.phase && (
        <p className="muted" data-testid="split-phase">
          {s.phase}…
        </p>
      )}
      <RouteDecision />
      {s.error && (
        <p className="error" data-testid="split-error">
          {s.error}
        </p>
      )}
      <pre className="llm-output" data-testid="split-output" aria-live="polite">
        {s.output}
      </pre>
      {s.steps.length > 0 && (
        <details open>
          <summary>
            {decode.length} decode steps · {s.steps.reduce((n, x) => n + x.rewinds, 0)} rewinds
            {s.result && ` · τ = ${s.result.thresholds.tau.toFixed(4)}, θ_H = ${s.result.thresholds.maxEntropy.toFixed(3)} nats`}
          </summary>
          <div className="split-table-scroll" tabIndex={0} role="region" aria-label="Split steps">
            <table className="split-steps" data-testid="split-steps">
              <thead>
                <tr>
                  <th>step</th>
                  <th>phase</th>
                  <th>C_t</th>
                  <th>H_t (nats)</th>
                  <th>rewinds</th>
                  <th>bytes sent / received</th>
                </tr>
              </thead>
              <tbody>
                {s.steps.map((x, i) => (
                  <tr key={i} data-testid="split-step">
                    <td>{x.step}</td>
                    <td>{x.phase === 'prefill' ? `prefill ×${x.positions}` : 'decode'}</td>
                    <td>{x.cost.toFixed(4)}</td>
                    <td>{x.entropy.toFixed(3)}</td>
                    <td>{x.rewinds}</td>
                    <td>
                      {x.requestBytes} / {x.answerBytes}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
      {s.result && (
        <dl data-testid="split-result">
          <dt>Stopped by</dt>
          <dd>
            {s.result.stoppedBy} after {s.result.tokens} tokens
          </dd>
          <dt>Proof</dt>
          <dd className="mono" data-testid="split-proof">
            {s.result.proofHex
              ? `${s.result.proofHex.slice(0, 48)}… (${s.result.proofHex.length / 2} bytes, signed by your wallet; ${s.result.flops} FLOPs on the volunteer)`
              : `none: ${s.result.unproven ?? 'a step crossed τ'}`}
          </dd>
          <dt>Submitted</dt>
          <dd data-testid="split-submitted">{s.result.submitted}</dd>
        </dl>
      )}
    </div>
  );
}

/** "Serve private inference with this model": this page as a volunteer, and what the ledger credited it. */
export function SplitVolunteerSettings({ cu }: { cu: { inferenceCu: number; sessions: number } | null }) {
  const s = useSplitStore();
  const wallet = useWalletStore((w) => w.status);
  const peerId = useNetworkStore((n) => n.peerId);
  return (
    <fieldset className="split-settings" data-testid="split-volunteer-settings">
      <legend>Serve private inference</legend>
      <ServeToggle serving={s.serving} walletUnlocked={wallet === 'unlocked'} onChange={(on) => void setServing(on)} />
      {s.servingError && (
        <p className="error" data-testid="split-serve-error">
          {s.servingError}
        </p>
      )}
      {s.serving === 'on' && (
        <p data-testid="split-serving">
          Serving as{' '}
          <span className="mono" data-testid="split-serving-peer">
            {peerId}
          </span>
          , model {s.servingModelHash?.slice(0, 16)}… · sessions served <span data-testid="split-served">{s.served?.sessionsServed ?? 0}</span> · steps{' '}
          {s.served?.stepsServed ?? 0} · proofs published <span data-testid="split-published">{s.served?.proofsPublished ?? 0}</span>
          {s.served?.lastNote ? ` (last: ${s.served.lastNote})` : ''}
        </p>
      )}
      <p className="muted" data-testid="split-cu">
        {cu
          ? `Inference CU credited to you in the ledger: ${cu.inferenceCu.toPrecision(3)} over ${cu.sessions} sessions.`
          : 'Inference CU appears here once this page follows the ledger (Contribute screen).'}
      </p>
    </fieldset>
  );
}

/**
 * The serve checkbox. Turning serving on needs an unlocked wallet (it signs the receipts), so it is
 * disabled while locked, with the reason next to it; turning it off is always possible.
 */
export function ServeToggle({
  serving,
  walletUnlocked,
  onChange,
}: {
  serving: 'off' | 'starting' | 'on';
  walletUnlocked: boolean;
  onChange: (on: boolean) => void;
}) {
  const blocked = serving === 'off' && !walletUnlocked;
  return (
    <>
      <label>
        <input
          type="checkbox"
          checked={serving !== 'off'}
          disabled={serving === 'starting' || blocked}
          aria-describedby={blocked ? 'split-serve-needs-wallet' : undefined}
          onChange={(e) => onChange(e.target.checked)}
          data-testid="split-serve"
        />{' '}
        serve private inference with this model (users send you h_k; you run the remaining layers and earn inference CU once validators re-run a sample)
      </label>
      {!walletUnlocked && (
        <p className="muted" id="split-serve-needs-wallet" data-testid="split-serve-needs-wallet">
          {serving === 'off' ? 'Unlock your wallet (Wallet screen) to serve: ' : 'Serving needs an unlocked wallet: '}
          it signs your receipts, and its key is credited.
        </p>
      )}
    </>
  );
}
