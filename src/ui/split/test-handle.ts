/**
 * `window.__sprintnetSplit`: for end-to-end tests, installed only with `?split-test` in the URL. It
 * records every split request as plaintext, before the node seals it, and the prompt's token ids
 * (which stay in this tab), so a test can check that no request carries them.
 */
import { observeSplitPlaintext } from '../../app/split-user.ts';

export interface SplitTestHandle {
  /** Plaintext request bodies, oldest first. */
  readonly requests: number[][];
  /** Token ids of the last prompt sent. */
  promptTokens: number[];
}

declare global {
  interface Window {
    __sprintnetSplit?: SplitTestHandle;
  }
}

export function installSplitTestHandle(): void {
  if (typeof window === 'undefined' || window.__sprintnetSplit || !new URLSearchParams(window.location.search).has('split-test')) return;
  const handle: SplitTestHandle = { requests: [], promptTokens: [] };
  window.__sprintnetSplit = handle;
  observeSplitPlaintext((request, promptTokens) => {
    handle.requests.push(Array.from(request));
    handle.promptTokens = [...promptTokens];
  });
}
