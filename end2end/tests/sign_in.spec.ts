import { test, expect } from '@playwright/test';
import { signIn, PASSWORD, hydrated } from './helpers';

test('a signed-out browser is sent to the login page', async ({ page }) => {
  await page.goto('/action-center');
  await expect(page).toHaveURL(/\/login\?next=%2Faction-center$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('a wrong password is refused with a clear message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill('analyst');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('wrong username or password');
  await expect(page).toHaveURL(/\/login/);
});

test('an analyst signs in and sees the demo incidents', async ({ page }) => {
  await signIn(page, 'analyst');
  const table = page.getByRole('table', { name: 'Incidents' });
  await expect(table.getByRole('row', { name: /Email reported by user as phish/ }).first()).toBeVisible();
  await expect(table.getByRole('row', { name: /Malicious attachment removed after delivery/ })).toBeVisible();
  await expect(page.getByText('analyst · Search and purge')).toBeVisible();
});

test('signing in returns to the page that was asked for', async ({ page }) => {
  await page.goto('/investigations');
  await page.getByLabel('Username').fill('reader');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Investigations' })).toBeVisible();
  await expect(page.getByRole('row', { name: /URL verdict change: invoice.evil.test/ })).toBeVisible();
});

test('the Pending action filter lives in the URL and narrows the queue', async ({ page }) => {
  await signIn(page, 'analyst');
  await hydrated(page);
  await page.getByLabel('Automated investigation state').selectOption({ label: 'Pending action' });
  await expect(page).toHaveURL(/state=pending_action/);
  const rows = page.getByRole('table', { name: 'Incidents' }).locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row).toContainText('Pending action');
  }
  await expect(page.getByRole('row', { name: /No threats found/ })).toHaveCount(0);
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, 'reader');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/incidents');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('the action center lists pending actions with the product vocabulary', async ({ page }) => {
  await signIn(page, 'analyst');
  await page.getByRole('link', { name: 'Action center', exact: true }).click();
  await expect(page.getByRole('tab', { name: 'Pending' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('row', { name: /Soft delete email cluster/ }).first()).toBeVisible();
  await expect(page.getByRole('row', { name: /Turn off external mail forwarding/ }).first()).toBeVisible();
});

test('pages hydrate under the nonce CSP without console errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await signIn(page, 'analyst');
  await hydrated(page);
  await page.getByRole('link', { name: 'Investigations' }).click();
  await expect(page.getByRole('heading', { name: 'Investigations' })).toBeVisible();
  await hydrated(page);
  expect(errors).toEqual([]);
});
