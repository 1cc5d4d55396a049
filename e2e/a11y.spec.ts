import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { agreeBeforeLoad, SCREEN_IDS, type ScreenId } from './shell-helpers.ts';

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 360, height: 740 },
] as const;

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

for (const size of WIDTHS) {
  test(`every screen at ${size.width} px: no serious or critical axe violations, nothing wider than the window; screenshots`, async ({ page }, testInfo) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    // The welcome before agreeing, then every screen as an agreed volunteer sees it.
    await page.goto('/');
    await expect(page.getByTestId('compat-report')).toBeVisible();
    const shots: Array<[string, () => Promise<void>]> = [['welcome-first-visit', async () => {}]];
    for (const id of SCREEN_IDS) {
      shots.push([
        id,
        async () => {
          await page.goto(`/#/${id}`);
          await expect(page.getByTestId(`screen-${id}`)).toBeVisible();
        },
      ]);
    }
    let agreed = false;
    for (const [name, open] of shots) {
      if (name !== 'welcome-first-visit' && !agreed) {
        await page.getByTestId('consent-accept').click();
        agreed = true;
      }
      await open();
      if (name === 'welcome') await expect(page.getByTestId('compat-report')).toBeVisible();
      if (name === 'contribute') await expect(page.getByTestId('sprint-panel')).toBeVisible();
      expect(await seriousViolations(page), `axe on ${name} at ${size.width} px`).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} is wider than ${size.width} px`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: testInfo.outputPath(`${name}-${size.width}.png`), fullPage: true });
    }
  });
}

test('keyboard: every screen is reached with Tab and opened with Enter, and its title takes the focus', async ({ page }) => {
  await agreeBeforeLoad(page);
  await page.goto('/');
  await expect(page.getByTestId('screen-contribute')).toBeVisible();
  const focusedTestId = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? null);
  // From the page's start Tab goes forward into the menu; from a screen's title (in the main part,
  // after the menu) Shift+Tab goes back into it, as a keyboard user would.
  let key = 'Tab';
  for (const id of [...SCREEN_IDS.filter((s) => s !== 'contribute'), 'contribute' as ScreenId]) {
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press(key);
      reached = (await focusedTestId()) === `nav-${id}`;
    }
    expect(reached, `${key} reaches the ${id} link`).toBe(true);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId(`screen-${id}`)).toBeVisible();
    await expect(page.locator(`#screen-${id}-title`)).toBeFocused();
    await expect(page.getByTestId(`nav-${id}`)).toHaveAttribute('aria-current', 'page');
    await expect(page).toHaveTitle(new RegExp(`^${await page.locator(`#screen-${id}-title`).textContent()} · Sprintnet$`));
    key = 'Shift+Tab';
  }
  await page.reload();
  await expect(page.getByTestId('screen-contribute')).toBeVisible();
  // A skip link is the first stop and jumps past the menu.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the screen' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();
});

test('status changes are announced politely', async ({ page }) => {
  await agreeBeforeLoad(page);
  await page.goto('/');
  const status = page.getByTestId('status-bar');
  await expect(status).toHaveAttribute('role', 'status');
  await expect(status).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByTestId('status-contribution')).toHaveText('Not contributing.');
});

test('Run a model with the test model loaded and split settings open fits a 360 px phone, with no serious axe violation', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await agreeBeforeLoad(page);
  await page.goto('/#/model');
  await expect(page.getByTestId('llm-empty')).toBeVisible();
  await page.getByTestId('llm-load-test').click();
  await expect(page.getByTestId('llm-model')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('llm-empty')).toHaveCount(0);
  // The split settings held a long route option and wide tables that once pushed the page 330 px past a phone.
  await page.getByTestId('split-allow').check();
  await expect(page.getByTestId('split-notice')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'split settings are wider than 360 px').toBeLessThanOrEqual(0);
  expect(await seriousViolations(page)).toEqual([]);
});
