import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { token } from './api';

// The demo server indexes its mail at start (and every few seconds), so the playbook can
// investigate the demo messages.

test('Report phish on a message starts a user-reported investigation of it', async ({ page, request }) => {
  await signIn(page, 'reader');
  await page.goto('/investigations');
  await page.getByRole('link', { name: 'User-reported phish: Invoice overdue', exact: true }).click();
  await hydrated(page);
  const before = page.url();
  await page.getByRole('button', { name: 'Report phish: Invoice overdue in carol@example.test' }).first().click();
  await expect(page).not.toHaveURL(before);
  await expect(page.getByRole('heading', { name: 'User-reported phish: Invoice overdue (reported by reader)' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: /^User-reported message$/ })).toBeVisible();
  await page.getByRole('tab', { name: 'Log' }).click();
  await expect(page.getByRole('list', { name: 'Log' })).toContainText('reader reported');
  await expect(page.getByRole('list', { name: 'Log' })).toContainText('Mail forwarding');

  const id = page.url().split('/investigations/')[1].split('?')[0];
  const found = await request.get(`/api/v1/investigations/${id}`, { headers: { Authorization: `Bearer ${token('analyst')}` } });
  const investigation = await found.json();
  expect(investigation.investigation_type).toBe('user_reported');
  expect(investigation.clusters.map((c: { cluster_by: string }) => c.cluster_by)).toContain('url');
});

test('an admin starts a manual investigation; a reader sees no such form', async ({ page, browser }) => {
  await signIn(page, 'admin');
  await page.goto('/investigations');
  await hydrated(page);
  const form = page.getByRole('form', { name: 'Start a manual investigation' });
  await form.getByLabel('Investigate').selectOption({ label: 'Sender' });
  await form.getByLabel('Value').fill('Billing@Evil.test');
  await form.getByRole('button', { name: 'Start investigation' }).click();
  await expect(page.getByRole('heading', { name: 'Manual investigation: billing@evil.test' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: /^Manual investigation$/ })).toBeVisible();

  // On one message, from its investigation page.
  await page.goto('/investigations');
  await page.getByRole('link', { name: 'User-reported phish: Invoice overdue', exact: true }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Investigate: Invoice overdue in alice@example.test' }).first().click();
  await expect(page.getByRole('heading', { name: 'Manual investigation: Invoice overdue' })).toBeVisible();
  await page.getByRole('tab', { name: 'Log' }).click();
  await expect(page.getByRole('list', { name: 'Log' })).toContainText('admin asked about');

  const context = await browser.newContext();
  const other = await context.newPage();
  await signIn(other, 'reader');
  await other.goto('/investigations');
  await hydrated(other);
  await expect(other.getByRole('heading', { name: 'Investigations' })).toBeVisible();
  await expect(other.getByRole('form', { name: 'Start a manual investigation' })).toHaveCount(0);
  await other.getByRole('link', { name: 'User-reported phish: Invoice overdue', exact: true }).click();
  await hydrated(other);
  await expect(other.getByRole('button', { name: 'Investigate: Invoice overdue in alice@example.test' }).first()).toBeDisabled();
  await context.close();
});

test('the Investigation type filter lives in the URL and narrows the queue', async ({ page }) => {
  await signIn(page, 'reader');
  await page.goto('/investigations');
  await hydrated(page);
  await page.getByLabel('Investigation type').selectOption({ label: 'URL verdict change' });
  await expect(page).toHaveURL(/type=url_verdict_change/);
  const rows = page.getByRole('table', { name: 'Investigations' }).getByRole('row').filter({ has: page.getByRole('cell') });
  await expect(rows.first()).toContainText('URL verdict change');
  for (const row of await rows.all()) {
    await expect(row).toContainText('URL verdict change');
  }
  await page.getByLabel('Status').selectOption({ label: 'Pending action' });
  await expect(page).toHaveURL(/status=pending_action&type=url_verdict_change/);
});
