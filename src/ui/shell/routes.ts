/**
 * The app's screens and their addresses. Screens live in the URL's hash (#/wallet, #/help/weight),
 * so the query string stays free for the test and support switches (?relay=, ?backend=, ?engine-test)
 * and every screen has a link that works from a bookmark, the back button and the keyboard.
 */
export const SCREENS = [
  { id: 'welcome', label: 'Welcome', title: 'Welcome' },
  { id: 'contribute', label: 'Contribute', title: 'Contribute your GPU' },
  { id: 'network', label: 'Network & ledger', title: 'Network and ledger' },
  { id: 'wallet', label: 'Wallet', title: 'Wallet' },
  { id: 'model', label: 'Run a model', title: 'Run a model on this device' },
  { id: 'settings', label: 'Settings', title: 'Settings' },
  { id: 'help', label: 'Help', title: 'Help and glossary' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

export interface Route {
  readonly screen: ScreenId;
  /** A glossary entry on the help screen (#/help/weight). */
  readonly anchor?: string;
}

const IDS = new Set<string>(SCREENS.map((s) => s.id));

/** `fallback` is where an empty or unknown hash lands: the welcome until consent is given, then Contribute. */
export function parseHash(hash: string, fallback: ScreenId): Route {
  const [screen = '', anchor] = hash.replace(/^#\/?/, '').split('/');
  if (!IDS.has(screen)) return { screen: fallback };
  return anchor ? { screen: screen as ScreenId, anchor: decodeURIComponent(anchor) } : { screen: screen as ScreenId };
}

export const screenHref = (screen: ScreenId, anchor?: string): string => `#/${screen}${anchor ? `/${encodeURIComponent(anchor)}` : ''}`;
