import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';

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
  await expect(page.getByRole('row', { name: /bob.private@elsewhere.test/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Turn off external mail forwarding/ })).toContainText('Pending');
  await expect(page.getByRole('list').filter({ hasText: 'Remediation' })).toContainText('2 pending action(s)');
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
