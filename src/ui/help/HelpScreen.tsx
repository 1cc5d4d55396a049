import { useEffect, type ReactNode } from 'react';
import { GLOSSARY } from './glossary.ts';
import { Term } from './Term.tsx';
import { screenHref } from '../shell/routes.ts';

const FAQ: ReadonlyArray<{ q: string; a: ReactNode }> = [
  {
    q: 'Is it safe for my computer?',
    a: (
      <>
        Sprintnet runs inside the browser, like any web page: it installs nothing, cannot read your files, and uses the GPU only through <Term id="webgpu" />.
        While contributing it keeps the GPU as busy as a demanding game does, so the computer gets warm and its fans spin up; the GPU protects itself from
        overheating as it does in games. Stop stops the GPU work at once, and closing the tab does too.
      </>
    ),
  },
  {
    q: 'What does it cost in power and battery?',
    a: (
      <>
        It uses your GPU at full power while contributing; laptops get warm and batteries drain, and the electricity is yours to pay. On a laptop, contribute
        while it is plugged in. Nothing runs until you press Start, and <a href={screenHref('settings')}>Settings</a> can turn taking part in Sprints off.
      </>
    ),
  },
  {
    q: 'What do others learn about me?',
    a: (
      <>
        Your <Term id="address" /> and <Term id="peer-id" /> are public, like a username. The <Term id="relay" /> and the <Term id="peer">peers</Term> you
        connect to see your IP address, as in any peer-to-peer program. Sprintnet has no account, asks for no name or e-mail, and sends no analytics. A Sprint
        computes on random numbers, so no data of yours is ever in it. Running a model on this device keeps your prompt on this device.
      </>
    ),
  },
  {
    q: 'What are the keys for?',
    a: (
      <>
        Your <Term id="wallet" /> holds a key pair. The private key signs your <Term id="proof">proofs</Term> and votes, so nobody can claim your work or
        impersonate your computer, and your <Term id="reward">rewards</Term> are credited to its address. It is stored in this browser encrypted with your{' '}
        <Term id="passphrase" />. Keep the <Term id="recovery-phrase" /> or an exported <Term id="keystore" />: without them a lost browser profile means a lost
        wallet, and nobody can restore it for you.
      </>
    ),
  },
  {
    q: 'Does it download a big AI model?',
    a: (
      <>
        No. The Sprint <Term id="model" /> is generated on your GPU from the epoch’s <Term id="seed" />; nothing is downloaded. Only “Run a model” downloads,
        and only the model you choose.
      </>
    ),
  },
];

/** Glossary and FAQ. `anchor` (from #/help/<id>) brings one entry into view and focus. */
export function HelpScreen({ anchor, active }: { anchor?: string; active: boolean }) {
  useEffect(() => {
    if (!active || !anchor) return;
    const el = document.getElementById(`term-${anchor}`);
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  }, [anchor, active]);
  return (
    <div className="help">
      <section aria-labelledby="faq-title" className="panel">
        <h3 id="faq-title">Questions people ask</h3>
        {FAQ.map(({ q, a }) => (
          <details key={q} className="faq">
            <summary>{q}</summary>
            <p>{a}</p>
          </details>
        ))}
      </section>
      <section aria-labelledby="glossary-title" className="panel">
        <h3 id="glossary-title">Glossary</h3>
        <dl className="glossary" data-testid="glossary">
          {GLOSSARY.map((e) => (
            <div key={e.id} className={e.id === anchor ? 'glossary-entry current' : 'glossary-entry'}>
              <dt id={`term-${e.id}`} tabIndex={-1}>
                {e.term}
              </dt>
              <dd>{e.definition}</dd>
            </div>
          ))}
        </dl>
      </section>
    </div>
  );
}
