import { NetworkPanel } from '../../network/NetworkPanel.tsx';
import { Term } from '../../help/Term.tsx';

/** Hosts the network view (peers, relay; the ledger views come with the protocol runtime). */
export function NetworkScreen() {
  return (
    <>
      <p className="muted">
        Who this computer is connected to: other volunteers’ computers (<Term id="peer">peers</Term>) and the <Term id="relay" />.
      </p>
      <NetworkPanel />
    </>
  );
}
