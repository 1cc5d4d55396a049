import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { runPendingReset } from './storage/reset.ts';
import { registerServiceWorker } from './shell/sw-update.ts';
import './styles.css';

// A data reset asked for before the reload runs first, before any store opens a database; the app's
// modules load only after it (their imports open connections and restore state).
const reset = await runPendingReset().catch(() => null);
const [{ App }, { connectWalletToNetwork }, { startInferenceJudging }] = await Promise.all([
  import('./App.tsx'),
  import('./session.ts'),
  import('./network/inference-judging.ts'),
]);

connectWalletToNetwork();
startInferenceJudging();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App reset={reset} />
  </StrictMode>,
);

if (import.meta.env.PROD) {
  // Offline app shell for the installed PWA, and the "update available" prompt; failure only costs those.
  registerServiceWorker('/sw.js').catch(() => undefined);
}
