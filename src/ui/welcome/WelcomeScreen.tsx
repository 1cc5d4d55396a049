import { flopsPerNonce } from '../../sprint/config.ts';
import { formatBytes } from '../../gpu/errors.ts';
import { Term } from '../help/Term.tsx';
import { screenHref } from '../shell/routes.ts';
import { CompatibilityReport } from './CompatibilityReport.tsx';
import { useConsentStore } from './consent.ts';
import { useSprintStore } from '../sprint/store.ts';
import { memoryNeed } from './memory.ts';
import { useNetworkModel } from './network-model.ts';

/** Canonical: 4.84 billion; the demo's tiny model: 852 thousand. */
function formatOps(flops: number): string {
  if (flops >= 1e9) return `${(flops / 1e9).toFixed(2)} billion`;
  return flops >= 1e6 ? `${(flops / 1e6).toFixed(2)} million` : `${Math.round(flops / 1e3)} thousand`;
}

function ConsentBox() {
  const consent = useConsentStore((s) => s.consent);
  const { accept, withdraw } = useConsentStore.getState();
  if (consent) {
    return (
      <div className="consent" data-testid="consent-given">
        <p className="ok">You agreed on {new Date(consent.acceptedAt).toLocaleString()}. Sprintnet uses this GPU only while you contribute.</p>
        <div className="actions">
          <a className="button" href={screenHref('contribute')}>
            Go to Contribute
          </a>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              // Withdrawing also stops contributing, and a reload does not resume it.
              void useSprintStore.getState().stop();
              withdraw();
            }}
            data-testid="consent-withdraw"
          >
            Withdraw my agreement
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="consent" data-testid="consent-ask">
      <p>Nothing runs on your GPU until you agree and then press Start.</p>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            accept();
            window.location.hash = screenHref('contribute');
          }}
          data-testid="consent-accept"
        >
          I understand: let me contribute
        </button>
        <a className="button secondary" href={screenHref('wallet')}>
          Not now: just set up a wallet
        </a>
      </div>
    </div>
  );
}

/** First screen of a first visit, and reachable later from the menu. */
export function WelcomeScreen() {
  const { config, fromNetwork } = useNetworkModel();
  const need = memoryNeed(config);
  return (
    <div className="welcome">
      <p className="lead">
        Sprintnet is a network of volunteers’ computers that run AI models together. This page lets your computer join it and lend its graphics card (GPU).
      </p>
      <section className="panel" aria-labelledby="welcome-how">
        <h3 id="welcome-how">How it works</h3>
        <p>
          In timed rounds called <Term id="sprint">Sprints</Term>, every computer runs the same freshly made AI model on as many numbered tries (
          <Term id="nonce">nonces</Term>) as it can. A few tries land close to a target; other computers re-check a sample of them (
          <Term id="validation">validation</Term>), and the accepted ones count as proof of the work done. Between Sprints the GPUs answer AI requests.
        </p>
      </section>
      <section className="panel" aria-labelledby="welcome-machine">
        <h3 id="welcome-machine">What it does to this computer</h3>
        <ul>
          <li>
            <strong>It uses your GPU at full power while contributing; laptops get warm and batteries drain.</strong> Games and videos may stutter meanwhile.
            Stop ends the GPU work at once.
          </li>
          <li data-testid="welcome-memory" data-bytes={need.minimumBytes} data-config={config.name} data-from-network={fromNetwork}>
            {fromNetwork ? (
              <>
                This network’s <Term id="model">model</Term> ({config.name})
              </>
            ) : (
              <>
                The network’s <Term id="model">model</Term> (canonical, what a live network runs)
              </>
            )}{' '}
            takes {formatBytes(need.minimumBytes)} of <Term id="gpu-memory">GPU memory</Term> while contributing (about twice that on GPUs that run faster with
            16-bit numbers), freed when you stop. It is generated on your GPU: nothing is downloaded.
          </li>
          <li data-testid="welcome-ops">
            Each try is {formatOps(flopsPerNonce(config))} arithmetic operations, and the GPU does them back to back for the whole Sprint: expect it to run at
            100% load.
          </li>
          <li>
            Your <Term id="wallet">wallet</Term> (encrypted) and your progress are saved in this browser. Nothing is installed, and Sprintnet cannot read your
            files.
          </li>
          <li>
            It connects to a <Term id="relay">relay</Term> and to other volunteers’ computers (<Term id="peer">peers</Term>), which see your IP address.
          </li>
        </ul>
      </section>
      <section className="panel" aria-labelledby="welcome-gets">
        <h3 id="welcome-gets">What you get</h3>
        <ul>
          <li>
            <Term id="weight">Weight</Term>: a say in the network for the next epoch, equal to your accepted finds.
          </li>
          <li>
            <Term id="cu">CU</Term>: credit for the computing you proved, in units of 10^15 operations.
          </li>
          <li>
            <Term id="reward">Rewards</Term>: a share of each epoch’s payout, in proportion to your accepted finds, paid to your wallet’s address.
          </li>
        </ul>
      </section>
      <CompatibilityReport />
      <ConsentBox />
    </div>
  );
}
