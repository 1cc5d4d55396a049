import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { connectWalletToNetwork } from './session.ts';
import './styles.css';

connectWalletToNetwork();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // Offline app shell for the installed PWA; failure only costs offline support.
  navigator.serviceWorker.register('/sw.js').catch(() => undefined);
}
