import { SprintPanel } from '../../sprint/SprintPanel.tsx';
import { CompatibilityReport } from '../../welcome/CompatibilityReport.tsx';
import { useConsentStore } from '../../welcome/consent.ts';
import { Term } from '../../help/Term.tsx';
import { screenHref } from '../routes.ts';

/**
 * The main screen: the Sprint view over the protocol runtime with the Contribute controls
 * (src/ui/sprint/SprintPanel.tsx). Nothing is shown that could start the GPU before the volunteer
 * has agreed on the welcome screen.
 */
export function ContributeScreen() {
  const consent = useConsentStore((s) => s.consent);
  if (!consent) {
    return (
      <div className="panel" data-testid="contribute-needs-consent">
        <p>Before this computer contributes, read what Sprintnet does to it (GPU load, memory, power) and agree. Nothing runs on your GPU until then.</p>
        <a className="button" href={screenHref('welcome')}>
          Read and agree
        </a>
      </div>
    );
  }
  return (
    <>
      <p className="muted">
        Contributing runs <Term id="sprint">Sprints</Term> on this GPU and earns <Term id="weight" /> and <Term id="cu">CU</Term>. Stop ends the GPU work at
        once.
      </p>
      <CompatibilityReport compact />
      <SprintPanel />
    </>
  );
}
