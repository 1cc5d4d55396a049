import { useRef, type ReactElement } from 'react';
import { StorageBanner } from './storage/StorageBanner.tsx';
import type { ResetResult } from './storage/reset.ts';
import { WalletPanel } from './wallet/WalletPanel.tsx';
import { SCREENS, type Route, type ScreenId } from './shell/routes.ts';
import { useRoute } from './shell/useRoute.ts';
import { Nav } from './shell/Nav.tsx';
import { StatusBar } from './shell/StatusBar.tsx';
import { UpdatePrompt } from './shell/UpdatePrompt.tsx';
import { ScreenFrame } from './shell/ScreenFrame.tsx';
import { ResetNotice } from './shell/ResetNotice.tsx';
import { ContributeScreen } from './shell/screens/ContributeScreen.tsx';
import { NetworkScreen } from './shell/screens/NetworkScreen.tsx';
import { ModelScreen } from './shell/screens/ModelScreen.tsx';
import { WelcomeScreen } from './welcome/WelcomeScreen.tsx';
import { useConsentStore } from './welcome/consent.ts';
import { HelpScreen } from './help/HelpScreen.tsx';
import { SettingsScreen } from './settings/SettingsScreen.tsx';

const CONTENT: Record<ScreenId, (route: Route) => ReactElement> = {
  welcome: () => <WelcomeScreen />,
  contribute: () => <ContributeScreen />,
  network: (route) => <NetworkScreen active={route.screen === 'network'} />,
  wallet: () => <WalletPanel />,
  model: () => <ModelScreen />,
  settings: () => <SettingsScreen />,
  help: (route) => <HelpScreen anchor={route.anchor} active={route.screen === 'help'} />,
};

/** The shell: header with plain-language status, the screen menu, and the screens. */
export function App({ reset = null }: { reset?: ResetResult | null }) {
  const consented = useConsentStore((s) => s.consent !== null);
  // Where a visit without a screen in the address lands: the welcome until the volunteer agrees.
  const landing = useRef<ScreenId>(consented ? 'contribute' : 'welcome').current;
  const route = useRoute(landing);
  // The focus moves to a screen's title on navigation, not on the first paint.
  const firstScreen = useRef(route.screen);
  const navigated = useRef(false);
  if (route.screen !== firstScreen.current) navigated.current = true;
  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to the screen
      </a>
      <header className="app-header">
        <h1>Sprintnet</h1>
        <p className="tagline">Give your GPU to a decentralized AI network.</p>
        <StatusBar />
      </header>
      <StorageBanner />
      <UpdatePrompt />
      {reset && <ResetNotice result={reset} />}
      <div className="layout">
        <Nav current={route.screen} />
        <main id="main" tabIndex={-1}>
          {SCREENS.map((s) => (
            <ScreenFrame key={s.id} id={s.id} title={s.title} active={s.id === route.screen} focusOnShow={navigated.current}>
              {CONTENT[s.id](route)}
            </ScreenFrame>
          ))}
        </main>
      </div>
    </div>
  );
}
