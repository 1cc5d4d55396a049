import type { ResetResult } from '../storage/reset.ts';

/** After "Delete all Sprintnet data": what went, and what another tab still holds. */
export function ResetNotice({ result }: { result: ResetResult }) {
  return (
    <div className={`banner ${result.blocked.length ? 'error' : 'ok'}`} role="status" data-testid="reset-notice" data-blocked={result.blocked.length}>
      {result.blocked.length === 0 ? (
        <p>All Sprintnet data in this browser was deleted.</p>
      ) : (
        <p>
          Some data is still in use by another Sprintnet tab ({result.blocked.join(', ')}). Close the other Sprintnet tabs and reload this one to finish
          deleting.
        </p>
      )}
    </div>
  );
}
