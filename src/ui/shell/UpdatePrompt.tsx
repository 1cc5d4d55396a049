import { type SprintStatus, useSprintStore } from '../sprint/store.ts';
import { useUpdateStore } from './sw-update.ts';

/** What the prompt offers: the update is held back while the Sprint store says the GPU is busy. */
export function updateOffer(status: SprintStatus): { canApply: boolean; message: string } {
  const sprintRunning = status === 'preparing' || status === 'running' || status === 'stopping';
  return sprintRunning
    ? { canApply: false, message: 'It will not interrupt your running Sprint: update after you stop contributing.' }
    : { canApply: true, message: 'Updating reloads this page; it will not interrupt a running Sprint.' };
}

/** A new version is installed and waiting: offered, never forced, and held back while a Sprint runs. */
export function UpdatePrompt() {
  const waiting = useUpdateStore((s) => s.waiting);
  const offer = updateOffer(useSprintStore((s) => s.status));
  if (!waiting) return null;
  return (
    <div className="banner update" role="region" aria-label="Update" data-testid="update-prompt">
      <p>
        <strong>An update of Sprintnet is available.</strong> {offer.message}
      </p>
      <button type="button" disabled={!offer.canApply} onClick={() => useUpdateStore.getState().apply()} data-testid="update-apply">
        Update now
      </button>
    </div>
  );
}
