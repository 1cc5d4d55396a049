/**
 * The app's backend setting: `?backend=auto|webgpu|cpu` in the page URL (tests, support), else the
 * choice saved in this browser (localStorage 'sprintnet-backend'), else auto.
 */
import { BACKEND_CHOICES, type BackendChoice } from './backend.ts';

const KEY = 'sprintnet-backend';

const isChoice = (v: unknown): v is BackendChoice => typeof v === 'string' && (BACKEND_CHOICES as readonly string[]).includes(v);

export function initialBackendChoice(): BackendChoice {
  try {
    const fromUrl = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('backend');
    if (isChoice(fromUrl)) return fromUrl;
    const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
    if (isChoice(saved)) return saved;
  } catch {
    // Storage can be blocked (privacy settings): the default serves.
  }
  return 'auto';
}

export function saveBackendChoice(choice: BackendChoice): void {
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // Not saved: the choice holds for this page only.
  }
}
