/**
 * The "serve private inference" checkbox rendered to HTML on the server (no DOM: vitest runs in
 * Node): it cannot be ticked while the wallet is locked, says why, and can always be unticked.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ServeToggle } from './SplitPanel.tsx';

const render = (serving: 'off' | 'starting' | 'on', walletUnlocked: boolean) =>
  renderToStaticMarkup(createElement(ServeToggle, { serving, walletUnlocked, onChange: () => {} }));
const checkbox = (html: string) => /<input[^>]*data-testid="split-serve"[^>]*>/.exec(html)![0];

describe('serve private inference toggle', () => {
  it('is disabled with the reason linked while the wallet is locked and serving is off', () => {
    const html = render('off', false);
    expect(checkbox(html)).toContain('disabled=""');
    expect(checkbox(html)).toContain('aria-describedby="split-serve-needs-wallet"');
    expect(html).toContain('id="split-serve-needs-wallet"');
    expect(html).toContain('Unlock your wallet (Wallet screen) to serve');
  });

  it('is enabled with an unlocked wallet, and stays untickable after the wallet locks while serving', () => {
    const unlocked = render('off', true);
    expect(checkbox(unlocked)).not.toContain('disabled');
    expect(unlocked).not.toContain('split-serve-needs-wallet');
    const lockedWhileOn = render('on', false);
    expect(checkbox(lockedWhileOn)).not.toContain('disabled');
    expect(checkbox(lockedWhileOn)).toContain('checked=""');
    expect(lockedWhileOn).toContain('Serving needs an unlocked wallet');
    expect(checkbox(render('starting', true))).toContain('disabled=""');
  });
});
