import { WalletPanel } from './wallet/WalletPanel.tsx';
import { NetworkPanel } from './network/NetworkPanel.tsx';
import { SprintPanel } from './sprint/SprintPanel.tsx';
import { StorageBanner } from './storage/StorageBanner.tsx';
import { LlmPanel } from './llm/LlmPanel.tsx';

/** Layout only: each panel owns its concern and talks to its own store. */
export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Sprintnet</h1>
        <p className="tagline">Give your GPU to a decentralized AI network.</p>
      </header>
      <StorageBanner />
      <main className="panels">
        <WalletPanel />
        <SprintPanel />
        <NetworkPanel />
        <LlmPanel />
      </main>
    </div>
  );
}
