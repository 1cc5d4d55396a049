import { useSyncExternalStore } from 'react';
import { parseHash, type Route, type ScreenId } from './routes.ts';

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

/** The screen in the address bar; `fallback` when the hash names none. */
export function useRoute(fallback: ScreenId): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseHash(hash, fallback);
}
