/**
 * Helpers for specs that drive the app shell (issue 11): the app opens on the welcome screen until
 * the volunteer agrees, and each concern lives on its own screen behind the menu.
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';

export type ScreenId = 'welcome' | 'contribute' | 'network' | 'wallet' | 'model' | 'settings' | 'help';
export const SCREEN_IDS: readonly ScreenId[] = ['welcome', 'contribute', 'network', 'wallet', 'model', 'settings', 'help'];

/** As if the volunteer had agreed on an earlier visit: the app opens on Contribute with the Sprint view. A context: every tab in it. */
export async function agreeBeforeLoad(target: Page | BrowserContext): Promise<void> {
  await target.addInitScript(() => {
    if (!localStorage.getItem('sprintnet.consent')) localStorage.setItem('sprintnet.consent', JSON.stringify({ version: 1, acceptedAt: Date.now() }));
  });
}

/** Opens a screen through the menu, as a person would. */
export async function openScreen(page: Page, screen: ScreenId): Promise<void> {
  await page.getByTestId(`nav-${screen}`).click();
  await expect(page.getByTestId(`screen-${screen}`)).toBeVisible();
}
