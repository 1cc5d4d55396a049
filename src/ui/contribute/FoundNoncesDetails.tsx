/** The finds of this Sprint, folded away: they matter to the curious, not to the main screen. */
import { memo, useState } from 'react';
import type { FoundNonce } from '../../sprint/claims.ts';
import { Term } from '../help/Term.tsx';
import { formatCount } from './format.ts';
import './contribute.css';

/** The newest this many are listed; a Sprint on a fast GPU finds thousands. */
export const LISTED_FINDS = 200;

/**
 * The rows are rendered only while the list is open: the screen re-renders several times a second
 * during a Sprint, and 200 hidden rows on every update took most of the page's main thread
 * (measured with a CPU engine: timers fired seconds late and the proof missed its window).
 */
export const FoundNoncesDetails = memo(function FoundNoncesDetails({ found, defaultOpen = false }: { found: readonly FoundNonce[]; defaultOpen?: boolean }) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <details className="found-nonces" data-testid="found-nonces" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Finds this Sprint ({formatCount(found.length)})</summary>
      <p className="muted">
        A <Term id="find">find</Term> is a try (<Term id="nonce" />) whose result landed close enough to the target.
      </p>
      {!open ? null : found.length === 0 ? (
        <p className="muted">No finds yet: about one try in 900 is one.</p>
      ) : (
        <table data-testid="sprint-found-list">
          <caption className="muted">
            {found.length > LISTED_FINDS ? `The newest ${LISTED_FINDS} of ${formatCount(found.length)}, newest first.` : 'Newest first.'} A smaller distance is
            closer to the target.
          </caption>
          <thead>
            <tr>
              <th scope="col">Try</th>
              <th scope="col">Distance</th>
            </tr>
          </thead>
          <tbody>
            {found
              .slice(-LISTED_FINDS)
              .reverse()
              .map((f) => (
                <tr key={f.nonce}>
                  <td>{formatCount(f.nonce)}</td>
                  <td>{f.distance.toFixed(4)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </details>
  );
});
