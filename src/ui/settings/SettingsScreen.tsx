import { useSprintStore } from '../sprint/store.ts';
import type { BackendChoice } from '../../cpu/backend.ts';
import { useConsentStore } from '../welcome/consent.ts';
import { Term } from '../help/Term.tsx';
import { screenHref } from '../shell/routes.ts';
import { useSettingsStore } from './store.ts';
import { NetworkSettingsForm } from './NetworkSettingsForm.tsx';
import { DataReset } from './DataReset.tsx';

const BACKENDS: ReadonlyArray<[BackendChoice, string]> = [
  ['auto', 'Automatic: the faster of the two here'],
  ['webgpu', 'The graphics card (WebGPU)'],
  ['cpu', 'The processor (WebAssembly CPU engine)'],
];

function Participation() {
  const participation = useSettingsStore((s) => s.participation);
  const consent = useConsentStore((s) => s.consent);
  return (
    <section aria-labelledby="settings-sprints-title">
      <h3 id="settings-sprints-title">Sprints</h3>
      <label className="check">
        <input
          type="checkbox"
          checked={participation && consent !== null}
          disabled={!consent}
          onChange={(e) => {
            // The same as Start / Stop on Contribute: the flag is what a reload resumes from.
            const on = e.target.checked;
            useSettingsStore.getState().setParticipation(on);
            void (on ? useSprintStore.getState().start() : useSprintStore.getState().stop());
          }}
          data-testid="settings-participation"
        />
        <span>
          Take part in <Term id="sprint">Sprints</Term>: contribute this GPU while Sprintnet is open
        </span>
      </label>
      {!consent && (
        <p className="muted">
          First read what contributing does and agree, on the <a href={screenHref('welcome')}>welcome screen</a>.
        </p>
      )}
    </section>
  );
}

function Backend() {
  const backend = useSprintStore((s) => s.backend);
  const status = useSprintStore((s) => s.status);
  const busy = status === 'preparing' || status === 'running' || status === 'stopping';
  return (
    <fieldset disabled={busy} data-testid="settings-backend">
      <legend>
        What runs the Sprints and language models (<Term id="backend" />)
      </legend>
      {BACKENDS.map(([value, label]) => (
        <label key={value} className="check">
          <input type="radio" name="backend" value={value} checked={backend === value} onChange={() => useSprintStore.getState().chooseBackend(value)} />
          <span>{label}</span>
        </label>
      ))}
      {busy && <p className="muted">Stop contributing to change it.</p>}
      <p className="muted">A model already loaded keeps its backend until it is loaded again.</p>
    </fieldset>
  );
}

export function SettingsScreen() {
  return (
    <div className="settings">
      <div className="panel">
        <Participation />
        <Backend />
      </div>
      <div className="panel">
        <NetworkSettingsForm />
      </div>
      <div className="panel">
        <DataReset />
      </div>
    </div>
  );
}
