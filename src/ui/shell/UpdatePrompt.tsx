import { useSprintStore } from '../sprint/store.ts';
import { useUpdateStore } from './sw-update.ts';

/** A new version is installed and waiting: offered, never forced, and held back while a Sprint runs. */
export function UpdatePrompt() {
  const waiting = useUpdateStore((s) => s.waiting);
  const status = useSprintStore((s) => s.status);
  const sprintRunning = status === 'preparing' || status === 'running' || status === 'stopping';
  if (!waiting) return null;
  return (
    <div className="banner update" role="region" aria-label="Update" data-testid="update-prompt">
      <p>
        <strong>An update of Sprintnet is available.</strong>{' '}
        {sprintRunning
          ? 'It will not interrupt your running Sprint: update after you stop contributing.'
          : 'Updating reloads this page; it will not interrupt a running Sprint.'}
      </p>
      <button type="button" disabled={sprintRunning} onClick={() => useUpdateStore.getState().apply()} data-testid="update-apply">
        Update now
      </button>
    </div>
  );
}
