import { test, expect } from '@playwright/test';
import { signIn, hydrated } from './helpers';
import { ingest, approveAndSettle } from './api';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test.describe('in a browser east of UTC', () => {
  test.use({ timezoneId: 'Asia/Kolkata' });

  test('times show in the browser time zone after hydration, without a hydration mismatch', async ({ page, request }) => {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /hydrat/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const investigation = await ingest(request, 'E2E time zone');
    await signIn(page, 'analyst');
    await page.goto('/action-center');
    await hydrated(page);
    const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
    // Created at some time today, shown at +05:30; the waiting time counts from it.
    await expect(row.getByRole('cell', { name: / UTC\+05:30$/ })).toHaveCount(1);
    await expect(row.getByRole('cell', { name: /^(< 1 min|1 min)$/ })).toHaveCount(1);
    await page.goto(`/investigations/${investigation.id}`);
    await hydrated(page);
    await expect(page.getByRole('definition').filter({ hasText: /UTC\+05:30$/ }).first()).toBeVisible();
    expect(problems).toEqual([]);
  });
});

test('a failed load says so and Retry loads it again', async ({ page }) => {
  await signIn(page, 'analyst');
  await hydrated(page);
  await page.route('**/rpc/list_actions', (route) => route.abort());
  await page.getByRole('link', { name: 'Action center', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('the server could not be reached');
  await page.unroute('**/rpc/list_actions');
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('table', { name: 'Pending actions' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('the incidents queue sorts by a column header, both ways, in the URL', async ({ page, request }) => {
  await ingest(request, 'E2E sort low', { severity: 'low' });
  await ingest(request, 'E2E sort informational', { severity: 'informational' });
  await signIn(page, 'reader');
  await hydrated(page);
  const rank = ['Informational', 'Low', 'Medium', 'High'];
  const severities = async () => {
    const rows = page.getByRole('table', { name: 'Incidents' }).getByRole('row');
    const texts: string[] = [];
    for (const row of await rows.all()) {
      const cells = row.getByRole('cell');
      if ((await cells.count()) > 1) texts.push((await cells.nth(1).innerText()).trim());
    }
    return texts.map((t) => rank.indexOf(t));
  };
  const header = page.getByRole('columnheader', { name: 'Severity' });
  await expect(header).toHaveAttribute('aria-sort', 'none');
  await header.getByRole('link', { name: 'Severity' }).click();
  await expect(page).toHaveURL(/sort=severity/);
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  const down = await severities();
  expect(down[0]).toBe(3);
  expect(down).toEqual([...down].sort((a, b) => b - a));

  await header.getByRole('link', { name: 'Severity' }).click();
  await expect(page).toHaveURL(/sort=severity&order=asc/);
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByRole('table', { name: 'Incidents' }).getByRole('row').nth(1)).toContainText('Informational');
  const up = await severities();
  expect(up).toEqual([...up].sort((a, b) => a - b));
});

test('a decision dialog keeps focus inside and gives it back to the button that opened it', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E focus');
  await signIn(page, 'analyst');
  await page.goto('/action-center');
  await hydrated(page);
  const row = page.getByRole('row', { name: new RegExp(escape(investigation.cluster)) });
  const opener = row.getByRole('button', { name: 'Reject' });
  await opener.click();
  const dialog = page.getByRole('dialog', { name: `Reject: ${investigation.cluster}` });
  const comment = dialog.getByLabel('Comment (optional)');
  await expect(comment).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Reject' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(comment).toBeFocused(); // wrapped round, not out into the page
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
});

test('a side panel takes focus when it opens and gives it back when it closes', async ({ page, request }) => {
  const investigation = await ingest(request, 'E2E panel focus');
  await approveAndSettle(request, investigation.actions[0]);
  await signIn(page, 'analyst');
  await page.goto('/action-center?tab=history');
  await hydrated(page);
  const opener = page.getByRole('button', { name: investigation.cluster });
  await opener.click();
  const panel = page.getByRole('dialog', { name: investigation.cluster });
  await expect(panel.getByRole('heading', { name: investigation.cluster })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(opener).toBeFocused();
});
