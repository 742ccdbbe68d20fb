import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, cli } from './helpers';

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Signs in through the identity provider's own login form (oidc-provider's: any password). */
async function signInWithProvider(page: Page, login: string) {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

test('Single sign-on: the sign-in page offers the provider beside the password, axe-clean', async ({ page }) => {
  await page.goto('/login');
  await expect(page.getByRole('link', { name: 'Sign in with Test IdP' })).toBeVisible();
  await expect(page.getByLabel('Password')).toBeVisible();
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  expect(results.violations).toEqual([]);
});

test('Single sign-on: an admin of the provider lands on the Dashboard as Admin, and signs out there too', async ({ page }) => {
  await signInWithProvider(page, 'e2e-ann');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('.who')).toContainText('e2e-ann · Admin');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true })).toBeVisible();
  await hydrated(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  // The provider asks to confirm its own sign-out, then sends the browser back.
  await page.getByRole('button', { name: /yes, sign me out/i }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/incidents');
  await expect(page).toHaveURL(/\/login\?next=/);

  // Disabled in airdesk, the provider cannot sign her in again. (Disabling her also leaves
  // the demo's admin the only enabled admin, as the Users spec expects.)
  cli(['user', 'disable', 'e2e-ann']);
  await signInWithProvider(page, 'e2e-ann');
  await expect(page).toHaveURL(/\/login\?refused=disabled$/);
  await expect(page.getByRole('alert')).toContainText('disabled');
});

test('Single sign-on: a reader of the provider gets the Reader role and no admin navigation', async ({ page }) => {
  await signInWithProvider(page, 'e2e-rob');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('.who')).toContainText('e2e-rob · Reader');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
  await hydrated(page);
  const status = await page.evaluate(async () => {
    const response = await fetch('/rpc/list_users', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    return response.status;
  });
  expect(status).toBe(403);
});

test('Single sign-on: someone in no mapped group is refused with a page that says why', async ({ page }) => {
  await signInWithProvider(page, 'e2e-eve');
  await expect(page).toHaveURL(/\/login\?refused=no_role$/);
  await expect(page.getByRole('alert')).toContainText('in no group that has a role in airdesk');
  await page.goto('/incidents');
  await expect(page).toHaveURL(/\/login\?next=/);
});
