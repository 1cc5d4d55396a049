/** The volunteers announcing the loaded model, the route setting, and the user's pick (by list or by typed peer id). */
import { useEffect } from 'react';
import { refreshVolunteerList } from './actions.ts';
import { useSplitStore } from './store.ts';

const LIST_REFRESH_MS = 2_000;

export function RouteSettings() {
  const s = useSplitStore();
  const set = useSplitStore.setState;
  return (
    <>
      <label>
        route{' '}
        <select value={s.route} onChange={(e) => set({ route: e.target.value === 'split' ? 'split' : 'auto' })} data-testid="split-route">
          <option value="auto">automatic: here if fast enough, else split</option>
          <option value="split">always split</option>
        </select>
      </label>
      {s.route === 'auto' && (
        <label>
          fast enough at{' '}
          <input
            type="number"
            min={0.1}
            step={0.1}
            value={s.targetTokensPerSecond}
            onChange={(e) => set({ targetTokensPerSecond: Math.max(0.1, Number(e.target.value) || 10) })}
            data-testid="split-target"
          />{' '}
          tokens/s (the whole model runs here when this device reaches it; measured once per model; 10 is about reading pace)
        </label>
      )}
    </>
  );
}

export function VolunteerList() {
  const s = useSplitStore();
  const set = useSplitStore.setState;
  useEffect(() => {
    const tick = () => void refreshVolunteerList().catch(() => undefined);
    tick();
    const timer = setInterval(tick, LIST_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const picked = s.volunteerPeerId.trim();
  return (
    <div className="split-volunteers" data-testid="split-volunteers">
      <p className="muted">
        Volunteers announcing this model ({s.listed.length}). Ranked by ledger weight, then the validators' verdicts on their sessions (inference score:
        consistent − 2 × inconsistent or invalid), reputation and a step measured by ping; while split is on the ranking refreshes with pings every 30 s, and
        Generate uses it. The next in the ranking takes over if the one serving fails.
      </p>
      <label>
        <input type="radio" name="split-pick" checked={picked === ''} onChange={() => set({ volunteerPeerId: '' })} data-testid="split-pick-auto" /> the best
        ranked
      </label>
      {s.listed.length > 0 && (
        <div className="split-table-scroll" tabIndex={0} role="region" aria-label="Volunteers announcing this model">
          <table className="split-steps">
            <thead>
              <tr>
                <th>use</th>
                <th>volunteer</th>
                <th>weight</th>
                <th>inference score</th>
                <th>reputation</th>
                <th>announced tok/s</th>
                <th>heard</th>
              </tr>
            </thead>
            <tbody>
              {s.listed.map((v) => (
                <tr key={v.peerId} data-testid="split-volunteer-row" data-peer={v.peerId}>
                  <td>
                    <input
                      type="radio"
                      name="split-pick"
                      checked={picked === v.peerId}
                      onChange={() => set({ volunteerPeerId: v.peerId })}
                      aria-label={`use volunteer ${v.peerId.slice(-8)}`}
                      data-testid="split-pick"
                    />
                  </td>
                  <td className="mono">…{v.peerId.slice(-8)}</td>
                  <td>{v.weight}</td>
                  <td>{v.inferenceScore}</td>
                  <td>
                    {v.reputation}
                    {v.flags.length > 0 ? ` (${v.flags.join(', ')})` : ''}
                  </td>
                  <td>{v.announcedTokensPerSecond > 0 ? v.announcedTokensPerSecond.toFixed(1) : '–'}</td>
                  <td>{(v.ageMs / 1000).toFixed(0)} s ago</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <label>
        or a volunteer's peer id{' '}
        <input
          className="mono"
          value={s.volunteerPeerId}
          onChange={(e) => set({ volunteerPeerId: e.target.value })}
          placeholder="12D3Koo…"
          data-testid="split-volunteer"
        />
      </label>
    </div>
  );
}

/** Where the last request ran and why, with the measured numbers and the ranking. */
export function RouteDecision() {
  const plan = useSplitStore((s) => s.plan);
  const result = useSplitStore((s) => s.result);
  if (!plan) return null;
  const n = (x: number | null) => (x === null ? '–' : x.toFixed(1));
  return (
    <div className="split-decision" data-testid="split-route-decision">
      <p>
        <strong data-testid="split-route-taken">{plan.route === 'local' ? 'Ran on this device' : 'Split with a volunteer'}</strong>: {plan.reason}.
      </p>
      <p className="muted" data-testid="split-route-numbers">
        Measured here: whole model {n(plan.localTokensPerSecond)} tok/s, layers [0, k) {n(plan.prefixTokensPerSecond)} tok/s; fast enough at{' '}
        {plan.targetTokensPerSecond} tok/s.
      </p>
      {plan.ranked.length > 0 && (
        <table className="split-steps" data-testid="split-ranking">
          <thead>
            <tr>
              <th>#</th>
              <th>volunteer</th>
              <th>tier</th>
              <th>weight</th>
              <th>inference score</th>
              <th>reputation</th>
              <th>step ms</th>
              <th>expected tok/s</th>
            </tr>
          </thead>
          <tbody>
            {plan.ranked.map((v, i) => (
              <tr key={v.peerId} data-testid="split-ranked">
                <td>{plan.order.indexOf(v.peerId) === 0 ? (plan.manual ? 'your pick' : 'chosen') : i + 1}</td>
                <td className="mono">…{v.peerId.slice(-8)}</td>
                <td>{v.problem ? `${v.tier}: ${v.problem}` : v.tier}</td>
                <td>{v.weight}</td>
                <td>{v.inferenceScore}</td>
                <td>{v.reputation}</td>
                <td>{v.stepMs === null ? '–' : v.stepMs.toFixed(1)}</td>
                <td>{n(v.expectedTokensPerSecond)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result && (
        <p data-testid="split-switches">
          Volunteer switches: <span data-testid="split-switch-count">{result.failovers}</span>
          {result.served.length > 0 ? ` (served by ${result.served.join(' → ')})` : ''}
        </p>
      )}
    </div>
  );
}
