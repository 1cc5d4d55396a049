import { NetworkPanel } from '../../network/NetworkPanel.tsx';
import { Term } from '../../help/Term.tsx';

/** Who this computer is connected to, and the ledger: weights, certificates, proofs and validations. */
export function NetworkScreen({ active }: { active: boolean }) {
  return (
    <>
      <p className="muted">
        Who this computer is connected to: other volunteers’ computers (<Term id="peer">peers</Term>) and the <Term id="relay" />; then the ledger that records
        everyone’s <Term id="weight" />, and what this browser proved and checked.
      </p>
      <NetworkPanel active={active} />
    </>
  );
}
