/**
 * The ledger as this browser derived it (the Sprint runtime's snapshot, or the ledger follower's while
 * this tab does not take part: ledger-store.ts): the newest weights table
 * with its certificate and any fraud evidence, the epoch history, and this browser's own proofs and
 * the validations it gave and received; private inference: each volunteer's sessions as the
 * validators judged them, and the inference verdicts this browser published. Read-only views of
 * src/app/activity.ts's plain data and the BrowserRuntime snapshot.
 */
import { ACTIVITY_EPOCHS, type WeightRow } from '../../app/activity.ts';
import type { JudgeSnapshot } from '../../app/inference-judge.ts';
import type { VerdictView } from '../../app/runtime.ts';
import type { InferenceRecord } from '../../protocol/inference-reputation.ts';
import { Term } from '../help/Term.tsx';
import { useSprintStore } from '../sprint/store.ts';
import type { FollowerMode } from '../../app/ledger-follower.ts';
import { useLedgerStore, type LedgerUiState } from './ledger-store.ts';

export const shortKey = (hex: string): string => `${hex.slice(0, 8)}…${hex.slice(-4)}`;

const CERTIFICATE_WORDS: Record<string, string> = {
  certified: 'certified: hosts holding most of the weight signed it',
  adopted: 'certified (adopted from the hosts’ signed certificate)',
};
const certificateWords = (c: string): string => CERTIFICATE_WORDS[c] ?? `${c}: not certified yet`;

const VERDICT_WORDS: Record<string, string> = {
  ok: 'passed',
  mismatch: 'failed: results did not match',
  duplicate: 'failed: a find was listed twice',
  malformed: 'failed: the list did not match the proof',
  unavailable: 'could not be checked: the list was not reachable',
};
const verdictWords = (v: string): string => VERDICT_WORDS[v] ?? v;

/** Where the ledger comes from: this tab taking part, or following without taking part. */
export function LedgerSource() {
  const source = useLedgerStore((s) => s.source);
  const mode = useLedgerStore((s) => s.followerMode);
  return <LedgerSourceLine source={source} mode={mode} />;
}

export function LedgerSourceLine({ source, mode }: { source: LedgerUiState['source']; mode: FollowerMode }) {
  return (
    <p className="muted" data-testid="ledger-source" data-source={source} data-mode={mode}>
      {source === 'runtime'
        ? 'This browser takes part (Contribute) and derives the ledger itself.'
        : source === 'follower'
          ? 'This browser follows the ledger without taking part: it checks every message and certificate it receives, and signs and sends nothing.'
          : mode === 'opening' || mode === 'following'
            ? 'Following the ledger: waiting for the network’s messages.'
            : 'Not following the ledger yet.'}
    </p>
  );
}

export function WeightsTable() {
  const ledger = useLedgerStore((s) => s.runtime?.ledger);
  const me = useLedgerStore((s) => s.runtime?.publicKey);
  if (!ledger)
    return (
      <p className="muted" data-testid="ledger-none">
        No epoch closed yet: the first weights table appears when an epoch closes.
      </p>
    );
  const flagged = ledger.rows.filter((r) => r.evidence && r.evidence.length > 0);
  return (
    <>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Weights table">
        <table className="sprint-found" data-testid="ledger" data-epoch={ledger.epoch} data-hash={ledger.hash} data-certificate={ledger.certificate}>
          <caption>
            <Term id="weight">Weights</Term> after epoch {ledger.epoch} (state{' '}
            <span className="mono" data-testid="ledger-hash">
              {shortKey(ledger.hash)}
            </span>
            ): <span data-testid="ledger-certificate">{certificateWords(ledger.certificate)}</span>
          </caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Weight next epoch</th>
              <th scope="col">
                <Term id="reputation">Reputation</Term>
              </th>
              <th scope="col">Finds claimed</th>
              <th scope="col">Finds credited</th>
              <th scope="col">Outcome</th>
              <th scope="col">
                <Term id="cu">CU</Term> in all
              </th>
            </tr>
          </thead>
          <tbody>
            {ledger.rows.length === 0 && (
              <tr data-testid="ledger-empty">
                <td colSpan={7} className="muted">
                  No host took part in epoch {ledger.epoch}, so nobody holds weight yet. Hosts appear here once their proofs are checked.
                </td>
              </tr>
            )}
            {ledger.rows.map((r) => (
              <tr
                key={r.publicKey}
                data-testid="ledger-row"
                data-key={r.publicKey}
                data-weight={r.weight}
                data-claimed={r.claimed}
                data-flags={r.flags.join(' ')}
                data-me={r.publicKey === me}
              >
                <td className="mono">
                  {shortKey(r.publicKey)}
                  {r.publicKey === me ? ' (you)' : ''}
                </td>
                <td>{r.weight}</td>
                <td>{r.reputation}</td>
                <td>{r.claimed}</td>
                <td>{r.credited}</td>
                <td>{r.flags.join(', ') || '—'}</td>
                <td>{r.cuTotal.toFixed(6)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {flagged.map((r) => (
        <div key={r.publicKey} className="sprint-error error" role="alert" data-testid="fraud-flag" data-key={r.publicKey}>
          <strong>
            <Term id="fraud">Fraud</Term> flag on {shortKey(r.publicKey)}
            {r.publicKey === me ? ' (you)' : ''}.
          </strong>{' '}
          Evidence:{' '}
          {r.evidence!.map((v) => `${shortKey(v.peer)} checked ${v.checked} finds and found ${v.mismatches} wrong (${verdictWords(v.verdict)})`).join('; ')}.
          {r.tally && ` Validators holding ${r.tally.fraudWeight} of ${r.tally.validatingWeight} validating weight said so.`}
        </div>
      ))}
    </>
  );
}

export function EpochHistory() {
  const history = useLedgerStore((s) => s.runtime?.history);
  if (!history || history.length === 0) return null;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Epoch history">
      <table className="sprint-found" data-testid="epoch-history">
        <caption>Epoch history (newest first)</caption>
        <thead>
          <tr>
            <th scope="col">Epoch</th>
            <th scope="col">Certificate</th>
            <th scope="col">Hosts</th>
            <th scope="col">Your weight</th>
            <th scope="col">Your finds credited</th>
          </tr>
        </thead>
        <tbody>
          {history.map((h) => (
            <tr key={h.epoch} data-testid="epoch-row" data-epoch={h.epoch} data-certificate={h.certificate} data-my-weight={h.mine?.weight ?? ''}>
              <td>{h.epoch}</td>
              <td>{h.certificate === 'certified' || h.certificate === 'adopted' ? 'certified' : h.certificate}</td>
              <td>{h.hosts}</td>
              <td>{h.mine ? h.mine.weight : '—'}</td>
              <td>{h.mine ? `${h.mine.credited} of ${h.mine.claimed}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Verdicts({ list, testId, who }: { list: readonly VerdictView[]; testId: string; who: string }) {
  if (list.length === 0)
    return (
      <p className="muted" data-testid={testId} data-count={0}>
        None in these epochs.
      </p>
    );
  return (
    <ul data-testid={testId} data-count={list.length}>
      {list.map((v, i) => (
        <li key={`${v.epoch}-${v.peer}-${i}`} data-verdict={v.verdict}>
          Epoch {v.epoch}: {who} {shortKey(v.peer)}, {v.checked} finds checked, {v.mismatches} wrong: {verdictWords(v.verdict)}
        </li>
      ))}
    </ul>
  );
}

const INFERENCE_WORDS: Record<string, string> = {
  consistent: 'consistent: the re-run agreed',
  inconsistent: 'inconsistent: the re-run disagreed',
  invalid: 'invalid: the proof failed its checks',
};

/** Each volunteer of private inference, with the sessions weighted validators judged, from this browser's pool. */
export function InferenceReputation() {
  const records = useLedgerStore((s) => s.inferenceReputation);
  const rows = useLedgerStore((s) => s.runtime?.ledger?.rows);
  const me = useLedgerStore((s) => s.runtime?.publicKey);
  return <InferenceReputationTable records={records ?? []} rows={rows ?? []} me={me ?? null} />;
}

export function InferenceReputationTable({
  records,
  rows,
  me,
}: {
  records: readonly InferenceRecord[];
  rows: readonly Pick<WeightRow, 'publicKey' | 'inferenceCuTotal'>[];
  me: string | null;
}) {
  if (records.length === 0) return null;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Private inference volunteers">
      <table className="sprint-found" data-testid="inference-reputation">
        <caption>Private inference: each volunteer’s sessions as the validators judged them</caption>
        <thead>
          <tr>
            <th scope="col">Volunteer</th>
            <th scope="col">Consistent</th>
            <th scope="col">Inconsistent</th>
            <th scope="col">Invalid</th>
            <th scope="col">Not judged yet</th>
            <th scope="col">
              <Term id="cu">CU</Term> credited
            </th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => {
            const row = rows.find((x) => x.publicKey === r.volunteer);
            return (
              <tr
                key={r.volunteer}
                data-testid="inference-reputation-row"
                data-key={r.volunteer}
                data-consistent={r.consistent}
                data-inconsistent={r.inconsistent}
                data-invalid={r.invalid}
              >
                <td className="mono">
                  {shortKey(r.volunteer)}
                  {r.volunteer === me ? ' (you)' : ''}
                </td>
                <td>{r.consistent}</td>
                <td>{r.inconsistent}</td>
                <td>{r.invalid}</td>
                <td>{r.unjudged}</td>
                <td>{row ? row.inferenceCuTotal.toExponential(2) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The inference proofs this browser judged (with the model loaded on "Run a model"), and whether it waits for an unlock. */
function InferenceVerdictsGiven() {
  const judge = useSprintStore((s) => s.snapshot?.inferenceJudge);
  return <InferenceVerdictsList judge={judge ?? null} />;
}

export function InferenceVerdictsList({ judge }: { judge: JudgeSnapshot | null }) {
  if (!judge)
    return (
      <p className="muted" data-testid="inference-verdicts-given" data-state="off" data-count={0}>
        Not judging: load a model on “Run a model” to check other volunteers’ private inference of that model.
      </p>
    );
  return (
    <div data-testid="inference-verdicts-given" data-state={judge.waiting ? 'waiting' : 'on'} data-count={judge.published.length}>
      {judge.waiting && (
        <p className="sprint-signing" role="status" data-testid="inference-judge-waiting">
          Wallet locked: unlock to judge an inference proof (within the epoch’s validation window).
        </p>
      )}
      {judge.published.length === 0 ? (
        <p className="muted">None yet: proofs of the loaded model by others are judged when this browser has weight.</p>
      ) : (
        <ul>
          {judge.published.map((v) => (
            <li key={v.proofId} data-verdict={v.verdict} data-volunteer={v.volunteer}>
              Epoch {v.epoch}: volunteer {shortKey(v.volunteer)}, {v.checked} steps re-run: {INFERENCE_WORDS[v.verdict] ?? v.verdict}
            </li>
          ))}
        </ul>
      )}
      {judge.missed.length > 0 && (
        <p className="muted" data-testid="inference-judge-missed">
          {judge.missed.length} proof{judge.missed.length === 1 ? '' : 's'} not judged: the wallet was locked until the validation window closed.
        </p>
      )}
      {judge.lastProblem && <p className="muted">Last problem: {judge.lastProblem}</p>}
    </div>
  );
}

/** This browser's proofs and the validations it did and received. */
export function MyActivity() {
  const activity = useLedgerStore((s) => s.runtime?.activity);
  if (!activity) return <p className="muted">Start contributing to see your proofs and validations here.</p>;
  return (
    <div data-testid="my-activity">
      <p className="muted">
        The last {ACTIVITY_EPOCHS} epochs, whose messages this browser keeps; the weights table and the epoch history above reach further back.
      </p>
      <h4>
        Your <Term id="proof">proofs</Term>
      </h4>
      {activity.proofs.length === 0 ? (
        <p className="muted" data-testid="my-proofs" data-count={0}>
          None in these epochs: a proof is sent after each Sprint in which this browser searched.
        </p>
      ) : (
        <ul data-testid="my-proofs" data-count={activity.proofs.length}>
          {activity.proofs.map((p) => (
            <li key={`${p.epoch}-${p.root}`}>
              Epoch {p.epoch}: {p.count} finds out of {p.tried.toLocaleString('en-US')} tries
            </li>
          ))}
        </ul>
      )}
      <h4>
        <Term id="validation">Validations</Term> you did
      </h4>
      <Verdicts list={activity.validationsGiven} testId="validations-given" who="checked" />
      <h4>Validations of your proofs</h4>
      <Verdicts list={activity.validationsReceived} testId="validations-received" who="by" />
      <h4>Private inference you judged</h4>
      <InferenceVerdictsGiven />
    </div>
  );
}
