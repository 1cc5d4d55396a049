/** The finds of this Sprint, folded away: they matter to the curious, not to the main screen. */
import type { FoundNonce } from '../../sprint/claims.ts';
import { Term } from '../help/Term.tsx';
import { formatCount } from './format.ts';
import './contribute.css';

/** The newest this many are listed; a Sprint on a fast GPU finds thousands. */
export const LISTED_FINDS = 200;

export function FoundNoncesDetails({ found }: { found: readonly FoundNonce[] }) {
  const listed = found.slice(-LISTED_FINDS).reverse();
  return (
    <details className="found-nonces" data-testid="found-nonces">
      <summary>Finds this Sprint ({formatCount(found.length)})</summary>
      <p className="muted">
        A <Term id="find">find</Term> is a try (<Term id="nonce" />) whose result landed close enough to the target.
      </p>
      {found.length === 0 ? (
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
            {listed.map((f) => (
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
}
