/**
 * "Update available": the service worker (vite-plugin-pwa, registerType 'prompt') installs a new
 * version in the background and then waits. It takes over only when the volunteer presses Update,
 * which reloads the page; nothing here reloads on its own, and the prompt holds the button back
 * while a Sprint runs.
 */
import { create } from 'zustand';

/** The parts of a ServiceWorkerRegistration this module uses (tests pass a fake). */
export interface RegistrationLike extends EventTarget {
  readonly waiting: ServiceWorkerLike | null;
  readonly installing: ServiceWorkerLike | null;
}
export interface ServiceWorkerLike extends EventTarget {
  readonly state: string;
  postMessage(message: unknown): void;
}

/**
 * Calls `onWaiting` when a new version is installed and waiting. `hasController()`: whether this
 * page is already served by a worker; without one, the first install is not an update.
 */
export function watchForUpdates(reg: RegistrationLike, hasController: () => boolean, onWaiting: (worker: ServiceWorkerLike) => void): () => void {
  const offer = () => {
    if (reg.waiting && hasController()) onWaiting(reg.waiting);
  };
  const onFound = () => {
    const worker = reg.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer();
    });
  };
  offer();
  reg.addEventListener('updatefound', onFound);
  return () => reg.removeEventListener('updatefound', onFound);
}

interface UpdateState {
  waiting: ServiceWorkerLike | null;
  /** Hands over to the waiting version and reloads once it controls the page. */
  apply(): void;
}

export const useUpdateStore = create<UpdateState>()((_set, get) => ({
  waiting: null,
  apply() {
    const worker = get().waiting;
    if (!worker) return;
    navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), { once: true });
    worker.postMessage({ type: 'SKIP_WAITING' });
  },
}));

const CHECK_EVERY_MS = 60 * 60 * 1000;

/** Registers the worker (offline app shell) and keeps looking for new versions hourly. */
export async function registerServiceWorker(url: string): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register(url);
  watchForUpdates(
    reg,
    () => navigator.serviceWorker.controller !== null,
    (waiting) => useUpdateStore.setState({ waiting }),
  );
  setInterval(() => void reg.update().catch(() => undefined), CHECK_EVERY_MS);
}
