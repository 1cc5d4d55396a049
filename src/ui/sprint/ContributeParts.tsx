/**
 * The Contribute screen's controls and figures over the Sprint store: when to contribute and how
 * hard, work per second, what this Sprint may earn, the last epoch's result, and the finds folded
 * away. Plain wiring of src/ui/contribute's components; no protocol logic.
 */
import { schedule, sprintConfig } from '../../protocol/genesis.ts';
import { EarningsSummary } from '../contribute/EarningsSummary.tsx';
import { FoundNoncesDetails } from '../contribute/FoundNoncesDetails.tsx';
import { IntensitySlider } from '../contribute/IntensitySlider.tsx';
import { ParticipationControls } from '../contribute/ParticipationControls.tsx';
import { WorkChart } from '../contribute/WorkChart.tsx';
import { cuFor } from '../contribute/estimate.ts';
import { formatRate } from '../contribute/format.ts';
import { Term } from '../help/Term.tsx';
import { useNetworkStore } from '../network/store.ts';
import { useNow } from './SprintParts.tsx';
import { useSprintStore, type SprintStatus } from './store.ts';
import { outcomeNote } from './outcome.ts';

export function ContributeControls() {
  const p = useSprintStore((s) => s.participation);
  const intensity = useSprintStore((s) => s.intensity);
  const { setIntensity, setPauseOnBattery, setStopAfterMinutes } = useSprintStore.getState();
  return (
    <div className="contribute-controls">
      <IntensitySlider value={intensity} onChange={setIntensity} />
      {p && (
        <ParticipationControls
          pauseOnBattery={p.settings.pauseOnBattery}
          battery={p.battery}
          batteryLevel={p.batteryLevel}
          stopAfterMinutes={p.settings.stopAfterMinutes}
          stopsAt={p.stopsAt}
          reason={p.reason}
          onPauseOnBatteryChange={setPauseOnBattery}
          onStopAfterMinutesChange={setStopAfterMinutes}
        />
      )}
    </div>
  );
}

/** The chart of work per second, with the latest figure as text (data-rate for tests). */
export function WorkNow() {
  const samples = useSprintStore((s) => s.samples);
  const searching = useSprintStore((s) => s.snapshot?.runtime?.searching ?? false);
  const status = useSprintStore((s) => s.status);
  const elsewhere = useSprintStore((s) => s.gpuElsewhere);
  const last = samples.at(-1)?.noncesPerSecond ?? 0;
  return (
    <div data-testid="work-now">
      <WorkChart samples={samples} />
      <p data-testid="work-rate" data-rate={last} data-samples={samples.length}>
        {searching ? `Now: ${formatRate(last)} tries per second.` : idleWords(status, elsewhere)}
      </p>
    </div>
  );
}

/** Why the chart is flat: the volunteer has not started, the engine is being built, or the GPU waits for the next Sprint. */
function idleWords(status: SprintStatus, elsewhere: boolean): string {
  if (elsewhere) return 'This tab is not searching: another Sprintnet tab runs the GPU.';
  switch (status) {
    case 'preparing':
      return 'Getting the GPU ready: the search starts once the model is built.';
    case 'running':
      return 'No search is running now: the GPU rests until the next Sprint.';
    case 'error':
      return 'Stopped by a problem (see above); nothing is searching.';
    default:
      return 'Not contributing: the chart fills in once you press Start contributing.';
  }
}

/** Work of the Sprint whose finds are shown, and its estimated (then credited) weight and CU. */
export function SprintEarnings() {
  const genesis = useNetworkStore((s) => s.genesis);
  const rt = useSprintStore((s) => s.snapshot?.runtime);
  const now = useNow(rt?.searching ? 1000 : null);
  if (!genesis || !rt || rt.findsEpoch < 0) return null;
  const config = sprintConfig(genesis);
  const s = schedule(genesis, rt.findsEpoch);
  // Hosts search from the last reveal on (docs/protocol.md §6), before sprintStart; a search resumed
  // mid-Sprint counts from sprintStart, since its tries include those before the reload.
  const from = rt.searchStartedMs >= 0 ? Math.min(rt.searchStartedMs, s.sprintStart) : s.sprintStart;
  const elapsedMs = Math.max(0, Math.min(now, s.sprintEnd) - from);
  const row = rt.ledger?.epoch === rt.findsEpoch ? rt.ledger.rows.find((r) => r.publicKey === rt.publicKey) : undefined;
  const credited = row ? { weight: row.weight, cu: cuFor(row.credited, config, genesis.hitRateDenominator) } : null;
  return (
    <>
      <EarningsSummary
        config={config}
        hitRateDenominator={genesis.hitRateDenominator}
        tried={rt.tried}
        found={rt.finds.length}
        elapsedMs={elapsedMs}
        credited={credited}
      />
      <FoundNoncesDetails found={rt.finds} />
    </>
  );
}

/** The newest closed epoch, from this browser's point of view. */
export function LastEpoch() {
  const last = useSprintStore((s) => s.snapshot?.runtime?.history[0]);
  if (!last) return null;
  const certified = last.certificate === 'certified' || last.certificate === 'adopted';
  const note = last.mine ? outcomeNote(last.mine.flags) : null;
  return (
    <p data-testid="last-epoch" data-epoch={last.epoch} data-weight={last.mine?.weight ?? 0}>
      <Term id="epoch">Epoch</Term> {last.epoch} closed{certified ? ' and is certified' : ''}:{' '}
      {last.mine
        ? `your weight for the next epoch is ${last.mine.weight} (${last.mine.credited} of ${last.mine.claimed} finds credited).`
        : 'this browser had no part in it.'}{' '}
      {note && <span data-testid="last-epoch-outcome">{note} </span>}
      Details are on the Network &amp; ledger screen.
    </p>
  );
}
