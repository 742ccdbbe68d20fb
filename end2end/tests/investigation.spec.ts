import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, action } from './api';

const HOSTILE = '<img src=x onerror=alert(1)> Payroll update';

test('attacker-controlled subjects render as text, never as HTML', async ({ page }) => {
  let dialogs = 0;
  page.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await signIn(page, 'analyst');
  await page.getByRole('link', { name: 'Investigations' }).click();
  await page.getByRole('link', { name: 'Zapped file: payroll.xlsm', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Zapped file: payroll.xlsm' })).toBeVisible();
  const cells = page.getByRole('cell', { name: HOSTILE, exact: true });
  await expect(cells).toHaveCount(2);
  await expect(page.locator('main img')).toHaveCount(0);
  // Also when the page is rendered by the server rather than the browser.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('cell', { name: HOSTILE, exact: true })).toHaveCount(2);
  await expect(page.locator('main img')).toHaveCount(0);
  expect(dialogs).toBe(0);
});

test('an investigation page shows its clusters, messages, actions and log', async ({ page }) => {
  await signIn(page, 'reader');
  await page.goto('/investigations');
  await page.getByRole('link', { name: 'User-reported phish: Invoice overdue', exact: true }).click();
  const cluster = page.getByRole('region', { name: 'URL: http://invoice.evil.test/pay' });
  await expect(cluster.getByRole('row')).toHaveCount(4);
  await expect(cluster.getByRole('row', { name: /alice@example.test/ })).toContainText('Inbox');
  await page.getByRole('tab', { name: 'Mailboxes' }).click();
  await expect(page.getByRole('tab', { name: 'Mailboxes' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('row', { name: /bob.private@elsewhere.test/ })).toBeVisible();
  await page.getByRole('tab', { name: 'Actions', exact: true }).click();
  await expect(page.getByRole('row', { name: /Turn off external mail forwarding/ })).toContainText('Pending');
  await page.getByRole('tab', { name: 'Log' }).click();
  await expect(page.getByRole('list', { name: 'Log' })).toContainText('2 pending action(s)');
});

test('Open in new window opens the investigation in a new tab', async ({ page, context }) => {
  await signIn(page, 'reader');
  await page.goto('/investigations');
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    page.getByRole('link', { name: 'Open in new window: URL verdict change: invoice.evil.test' }).click(),
  ]);
  await expect(tab.getByRole('heading', { name: 'URL verdict change: invoice.evil.test' })).toBeVisible();
});

test('Investigations: filter Pending action, Open in new window, approve there', async ({ page, context, request }) => {
  const investigation = await ingest(request, 'E2E investigation queue');
  await signIn(page, 'analyst');
  await page.getByRole('link', { name: 'Investigations' }).click();
  await hydrated(page);
  await page.getByLabel('Status').selectOption({ label: 'Pending action' });
  await expect(page).toHaveURL(/status=pending_action/);
  const row = page.getByRole('row', { name: new RegExp(investigation.title) });
  await expect(row).toContainText('Pending action');
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    row.getByRole('link', { name: `Open in new window: ${investigation.title}` }).click(),
  ]);
  await expect(tab.getByRole('heading', { name: investigation.title })).toBeVisible();
  await hydrated(tab);
  const timeline = tab.getByRole('region', { name: 'Status timeline' });
  await expect(timeline.getByRole('listitem').first()).toContainText(`Investigation started: ${investigation.incident}`);
  await expect(timeline).toContainText(/Waiting for approval since .* (< 1 min|\d+ min)/);
  await tab.getByRole('tab', { name: 'Pending actions' }).click();
  const pending = tab.getByRole('row', { name: /Soft delete email cluster/ });
  await pending.getByRole('button', { name: 'Approve' }).click();
  await tab.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();

  await expect(tab.getByText('No actions are waiting for approval.')).toBeVisible();
  expect(['approved', 'in_progress', 'completed']).toContain((await action(request, investigation.actions[0])).status);
  await expect(tab.getByRole('definition').filter({ hasText: /^Running$|^Remediated$/ })).toBeVisible();
  await expect(timeline.getByRole('listitem').filter({ hasText: 'Approved by analyst: Soft delete email cluster' })).toBeVisible();
  await expect(timeline).toContainText(/Time waiting for approval: (< 1 min|\d+ min)/);
});

test('an investigation page shows its alert, and its evidence with the response to each piece', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E evidence tab', { severity: 'medium' });
  await signIn(page, 'analyst');
  await page.goto(`/investigations/${investigation.id}`);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Alerts' }).click();
  await expect(page.getByRole('tab', { name: 'Alerts' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('table', { name: 'Alerts' }).getByRole('row', { name: investigation.incident })).toContainText('Medium');

  await page.getByRole('tab', { name: 'Evidence', exact: true }).click();
  const evidence = page.getByRole('table', { name: 'Evidence and Response' });
  await expect(evidence.getByRole('row', { name: new RegExp(investigation.clusterEntity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) })).toContainText('Pending approval');
  await evidence.getByRole('button', { name: investigation.clusterEntity }).click();
  const flyout = page.getByRole('dialog', { name: investigation.clusterEntity });
  await flyout.getByRole('button', { name: 'Reject' }).click();
  await page.getByRole('dialog', { name: /^Reject: / }).getByRole('button', { name: 'Reject' }).click();
  await expect(evidence.getByRole('row', { name: new RegExp(investigation.clusterEntity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) })).toContainText('Rejected');
  expect((await action(request, investigation.actions[0])).status).toBe('rejected');
});
