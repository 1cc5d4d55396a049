import { useStorageStore } from './store.ts';

/** Page-wide notice when the database went away under this page: nothing more can be saved until a reload. */
export function StorageBanner() {
  const closed = useStorageStore((s) => s.closed);
  if (!closed) return null;
  return (
    <div className="storage-banner error" role="alert" data-testid="storage-banner" data-reason={closed}>
      <strong>{closed === 'versionchange' ? 'Sprintnet was updated in another tab; reload.' : 'The browser closed Sprintnet’s storage; reload.'}</strong> This
      page has stopped its GPU work and can save nothing more until it reloads.{' '}
      <button type="button" onClick={() => window.location.reload()} data-testid="storage-reload">
        Reload
      </button>
    </div>
  );
}
